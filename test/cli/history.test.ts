import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createdSince, ellipsis, humanDuration, rfc3339Local } from '../../src/cli/docker-units.js';
import { goJson } from '../../src/cli/go-template.js';
import { formatHistory } from '../../src/cli/history-format.js';
import { type HistoryItem, historyItems } from '../../src/exporter/index.js';
import { formatSize } from '../../src/store/index.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'docker-history');
const fixture = (f: string) => readFileSync(join(fixtures, f), 'utf8').replace(/\n$/, '').split('\n');

/** The rows docker printed in items.jsonl, back as the items they were made from. */
function dockerItems(): HistoryItem[] {
  return fixture('items.jsonl').map((l) => {
    const j = JSON.parse(l);
    return {
      id: j.ID,
      created: Date.parse(j.CreatedAt),
      createdBy: j.CreatedBy,
      comment: j.Comment,
      size: Number(j.Size),
    };
  });
}

describe('docker history output, as docker 20.10 prints it', () => {
  it('tables, truncation, sizes and JSON match what docker printed for the same rows', () => {
    const items = dockerItems();
    const opts = { quiet: false, human: true, trunc: true };
    expect(formatHistory(items, { ...opts, human: false })).toEqual(fixture('human-false.txt'));
    expect(formatHistory(items, { ...opts, format: '{{.Size}}|{{.ID}}' })).toEqual(fixture('sizes.txt'));
    const noTrunc = formatHistory(items, { ...opts, trunc: false, format: 'table {{.ID}}\\t{{.CreatedBy}}' });
    expect(noTrunc).toEqual(fixture('no-trunc.txt'));
    const json = formatHistory(items, { ...opts, trunc: false, human: false, format: '{{json .}}' });
    expect(json).toEqual(fixture('items.jsonl'));
    expect(formatHistory(items, { ...opts, quiet: true })).toEqual([
      items[0]!.id.slice(7, 19),
      ...items.slice(1).map(() => '<missing>'),
    ]);
  });

  it("HumanDuration's steps, as go-units v0.4.0 takes them", () => {
    const s = 1000;
    const h = 3600 * s;
    const cases: [number, string][] = [
      [999, 'Less than a second'],
      [1 * s, '1 second'],
      [59 * s, '59 seconds'],
      [60 * s, 'About a minute'],
      [119 * s, 'About a minute'],
      [120 * s, '2 minutes'],
      [59 * 60 * s, '59 minutes'],
      [60 * 60 * s, 'About an hour'],
      [89 * 60 * s, 'About an hour'],
      [90 * 60 * s, '2 hours'],
      [47 * h, '47 hours'],
      [47.5 * h, '2 days'],
      [13 * 24 * h, '13 days'],
      [14 * 24 * h, '2 weeks'],
      [59 * 24 * h, '8 weeks'],
      [60 * 24 * h, '2 months'],
      [729 * 24 * h, '24 months'],
      [730 * 24 * h, '2 years'],
    ];
    for (const [ms, want] of cases) expect(humanDuration(ms), String(ms)).toBe(want);
    expect(createdSince(Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-01-01T00:02:00Z'))).toBe(
      '2 minutes ago',
    );
    expect(createdSince(undefined)).toBe('N/A');
  });

  it("SIZE is go-units' HumanSizeWithPrecision(n, 3): Go's %.3g, decimal units", () => {
    const cases: [number, string][] = [
      [0, '0B'],
      [999, '999B'],
      [1000, '1kB'],
      [1500, '1.5kB'],
      [12_347, '12.3kB'],
      [999_499, '999kB'],
      [999_500, '1e+03kB'],
      [1_985_472, '1.99MB'],
      [2_000_000, '2MB'],
      [123_456_789, '123MB'],
      [5e15, '5PB'],
    ];
    for (const [n, want] of cases) expect(formatSize(n), String(n)).toBe(want);
    // HumanSize (four digits): docker images' VirtualSize
    expect([formatSize(1_997_842, 4), formatSize(1_000_000, 4), formatSize(999_960, 4)]).toEqual([
      '1.998MB',
      '1MB',
      '1000kB',
    ]);
  });

  it("CREATED BY is cut as docker/cli's Ellipsis cuts it: display columns, wide runes two", () => {
    expect(ellipsis('a'.repeat(45), 45)).toBe('a'.repeat(45));
    expect(ellipsis('a'.repeat(46), 45)).toBe(`${'a'.repeat(44)}…`);
    expect(ellipsis(`${'a'.repeat(37)}日本語 xy`, 45)).toBe(`${'a'.repeat(37)}日本語 …`);
    expect(ellipsis(`${'a'.repeat(37)}日本語 x`, 45)).toBe(`${'a'.repeat(37)}日本語 x`);
    expect(ellipsis(`${'a'.repeat(38)}日本語 x`, 45)).toBe(`${'a'.repeat(38)}日本語…`);
    expect(ellipsis(`${'a'.repeat(43)}日本`, 45)).toBe(`${'a'.repeat(43)}…`);
    expect(ellipsis('abc', 1)).toBe('a');
    expect(ellipsis('abc', 0)).toBe('');
  });

  it('CREATED AT is RFC 3339 in the local zone, as Go formats time.Unix', () => {
    const tz = process.env.TZ;
    try {
      const t = Date.parse('2026-12-03T19:49:23.750Z');
      process.env.TZ = 'UTC';
      expect(rfc3339Local(t)).toBe('2026-12-03T19:49:23Z');
      process.env.TZ = 'Europe/Berlin';
      expect(rfc3339Local(t)).toBe('2026-12-03T20:49:23+01:00');
      process.env.TZ = 'America/St_Johns';
      expect(rfc3339Local(t)).toBe('2026-12-03T16:19:23-03:30');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it("{{json .}} of a row is HTML-escaped, as the row's MarshalJSON (json.Marshal) escapes it; a field is not", () => {
    expect(goJson({ a: '<x> & y\u2028' })).toBe('{"a":"\\u003cx\\u003e \\u0026 y\\u2028"}');
    const items = historyItems('sha256:abc', [{ created_by: 'a && b > c' }], [1]);
    const opts = { quiet: false, human: false, trunc: true };
    expect(formatHistory(items, { ...opts, format: '{{json .CreatedBy}}' })).toEqual(['"a && b > c"']);
    expect(formatHistory(items, { ...opts, format: '{{json .}}' })[0]).toContain(
      '"a \\u0026\\u0026 b \\u003e c"',
    );
  });
});

describe('history items, as dockerd builds them', () => {
  const h = (created_by: string, empty = false, created = '2026-01-02T03:04:05Z') => ({
    created,
    created_by,
    comment: 'c',
    ...(empty ? { empty_layer: true } : {}),
  });

  it('newest first, the image id on the top row; non-empty entries take the layers in order', () => {
    const items = historyItems('sha256:abc', [h('base'), h('ENV', true), h('RUN')], [100, 7]);
    expect(items.map((i) => [i.id, i.createdBy, i.size])).toEqual([
      ['sha256:abc', 'RUN', 7],
      ['<missing>', 'ENV', 0],
      ['<missing>', 'base', 100],
    ]);
  });

  it('more non-empty entries than layers is an error; fewer leave the other layers out', () => {
    expect(() => historyItems('sha256:abc', [h('a'), h('b')], [1])).toThrow(
      'too many non-empty layers in History section',
    );
    expect(historyItems('sha256:abc', [h('a')], [1, 2]).map((i) => i.size)).toEqual([1]);
    expect(historyItems('sha256:abc', [], [1])).toEqual([]);
  });

  it("an entry without a time is dated Go's zero time, as dockerd reports it", () => {
    const [item] = historyItems('sha256:abc', [{ created_by: 'x' }], [1]);
    expect(rfc3339Local(item!.created).startsWith('0001-01-01T')).toBe(true);
    expect(createdSince(item!.created, Date.parse('2026-01-01T00:00:00Z'))).toBe('292 years ago');
    expect(humanDuration(Date.parse('2026-01-01T00:00:00Z') - Date.parse('2016-01-01T00:00:00Z'))).toBe(
      '10 years',
    );
  });
});

describe('tsbuild history', () => {
  let reg: TestRegistry;
  let env: Record<string, string>;
  let ctx: string;
  let base: string;
  beforeAll(async () => {
    reg = await startRegistry();
    base = pushBusyboxImage(reg, 'library/busybox:latest').ref;
    env = { TSBUILD_ROOT: mkdtempSync(join(tmpdir(), 'tsb-history-root-')) };
    ctx = mkdtempSync(join(tmpdir(), 'tsb-history-ctx-'));
    writeFileSync(join(ctx, 'f.txt'), 'hello\n');
    writeFileSync(
      join(ctx, 'Dockerfile'),
      [
        `FROM ${base}`,
        'ENV A=1',
        'COPY f.txt /f.txt',
        // 12345 bytes, a hard link to them (free), a 10-byte symlink and a whiteout (free)
        'RUN head -c 12345 /dev/zero > /z && ln /z /zh && ln -s /target/xx /zl && rm /bin/ls',
        'RUN echo 1 > /dup && echo 22 > /dup && mkdir -p /d/e',
        '',
      ].join('\n'),
    );
    const b = await runCli(['build', '-q', '-t', 'hist:1', ctx], { env });
    expect(b.status, b.stderr).toBe(0);
  });
  afterAll(() => reg?.stop());

  it("prints each layer's size as dockerd's layer store counts it, newest first", async () => {
    const r = await runCli(['history', '--human=false', '--format', '{{.Size}}|{{.CreatedBy}}', 'hist:1'], {
      env,
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n');
    expect(rows.slice(0, 4)).toEqual(
      [
        'RUN /bin/sh -c echo 1 > /dup && echo 22 > /d…',
        'RUN /bin/sh -c head -c 12345 /dev/zero > /z …',
        'COPY f.txt /f.txt # buildkit',
        'ENV A=1',
      ].map((c, i) => `${[3, 12_355, 6, 0][i]}|${c}`),
    );
    // the base's one layer, counted as pkg/directory.Size counts a dir: each inode's bytes once,
    // symlinks their target's length (GNU find on the base's flattened rootfs)
    const flat = mkdtempSync(join(tmpdir(), 'tsb-history-flat-'));
    const only = mkdtempSync(join(tmpdir(), 'tsb-history-base-'));
    writeFileSync(join(only, 'Dockerfile'), `FROM ${base}\n`);
    const o = await runCli(['build', '-q', '-o', `type=local,dest=${flat}`, only], { env });
    expect(o.status, o.stderr).toBe(0);
    const du = execFileSync(
      'sh',
      ['-c', `find . \\( -type f -o -type l \\) -printf '%i %s\\n' | sort -u | awk '{s+=$2} END {print s}'`],
      { cwd: flat, encoding: 'utf8' },
    );
    expect(rows.at(-1)).toMatch(new RegExp(`^${du.trim()}\\|`));
    expect(Number(du)).toBeGreaterThan(1_000_000);
    // `images` SIZE is their sum (docker's image.Size), remembered per layer after the first count
    const total = rows.reduce((a, l) => a + Number(l.split('|')[0]), 0);
    const im = await runCli(['images', '--format', '{{.Size}} {{.VirtualSize}}', 'hist:1'], { env });
    expect(im.stdout).toBe(`${formatSize(total)} ${formatSize(total, 4)}\n`);
    const memo = join(env.TSBUILD_ROOT!, 'exporter', 'diff-size');
    expect(readdirSync(memo).length).toBeGreaterThanOrEqual(4);
  });

  it('takes docker history flags: the default table, -q, --no-trunc, -H', async () => {
    const id = (await runCli(['build', '-q', '-t', 'hist:1', ctx], { env })).stdout.trim();
    const t = await runCli(['history', 'hist:1'], { env });
    const lines = t.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^IMAGE {10}CREATED +CREATED BY {38}SIZE {6}COMMENT$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${id.slice(7, 19)}   (Less than a second|\\d+ seconds?) ago +RUN /bin/sh -c echo 1 .*   3B        buildkit.dockerfile.v0$`,
      ),
    );
    const q = await runCli(['history', '-q', 'hist:1'], { env });
    expect(q.stdout.split('\n')[0]).toBe(id.slice(7, 19));
    expect(q.stdout.split('\n')[1]).toBe('<missing>');
    const full = await runCli(['history', '--no-trunc', '--format', '{{.ID}} {{.CreatedBy}}', 'hist:1'], {
      env,
    });
    expect(full.stdout.split('\n')[0]).toBe(
      `${id} RUN /bin/sh -c echo 1 > /dup && echo 22 > /dup && mkdir -p /d/e # buildkit`,
    );
    // pflag's -H=false: bytes and RFC 3339 times
    const nh = await runCli(['history', '-H=false', 'hist:1'], { env });
    expect(nh.stdout.split('\n')[0]).toMatch(/^IMAGE {10}CREATED AT {13}CREATED BY/);
    expect(nh.stdout.split('\n')[1]).toMatch(/ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +RUN .* 3 {9}buildkit/);
    // prune drops the remembered sizes of the blobs it removes, with them
    const memo = join(env.TSBUILD_ROOT!, 'exporter', 'diff-size');
    const before = readdirSync(memo).length;
    expect((await runCli(['rm', 'hist:1'], { env })).status).toBe(0);
    expect((await runCli(['prune', '-a'], { env })).status).toBe(0);
    const blobs = readdirSync(join(env.TSBUILD_ROOT!, 'blobs', 'sha256'));
    const left = readdirSync(memo);
    expect(left.length).toBeLessThan(before);
    for (const n of left) expect(blobs).toContain(n);
    const missing = await runCli(['history', 'nope:1'], { env });
    expect([missing.status, missing.stderr]).toEqual([1, expect.stringContaining('IMAGE_NOT_FOUND')]);
  });
});
