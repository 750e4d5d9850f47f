import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const dir = mkdtempSync(join(tmpdir(), 'tsb-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the end of a build', () => {
  it("names the image by its ID, as dockerd's BuildKit does, and by its manifest's digest", () => {
    const ctx = join(dir, 'ctx');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'a'), 'a\n');
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY a /a\n');
    const run = () =>
      spawnSync(
        'node',
        [bin, 'build', '--root', join(dir, 'root'), '--progress', 'plain', '-t', 'sum:1', ctx],
        { encoding: 'utf8', env: { ...process.env, TSBUILD_DEBUG_NOOP: '1' } },
      );
    const first = run();
    expect(first.status, first.stderr).toBe(0);
    const iid = join(dir, 'iid');
    const meta = join(dir, 'meta.json');
    const q = spawnSync(
      'node',
      [bin, 'build', '--root', join(dir, 'root'), '-q', '--iidfile', iid, '--metadata-file', meta, ctx],
      { encoding: 'utf8' },
    );
    expect(q.status, q.stderr).toBe(0);
    const id = readFileSync(iid, 'utf8');
    const manifest = JSON.parse(readFileSync(meta, 'utf8'))['containerimage.digest'];
    expect(id).not.toBe(manifest);
    expect(q.stdout.trim()).toBe(id);
    const lines = `exporting manifest ${manifest} done\nwriting image ${id} done\nnaming to docker.io/library/sum:1 done\n`;
    expect(first.stderr).toContain(lines);
    // files only: BuildKit's "exporting to client", no image named
    const local = spawnSync(
      'node',
      [
        bin,
        'build',
        '--root',
        join(dir, 'root'),
        '--progress',
        'plain',
        '-o',
        `type=local,dest=${join(dir, 'out')}`,
        ctx,
      ],
      { encoding: 'utf8' },
    );
    expect(local.status, local.stderr).toBe(0);
    expect(local.stderr).toMatch(/\nexporting to client done\nimage size /);
    expect(local.stderr).not.toContain('writing image');
    // the no-op replay ends the same way
    const again = run();
    expect(again.stderr).toContain('no-op fast path: nothing changed');
    expect(again.stderr).toContain(lines);
  });

  it('--iidfile: a failed build leaves none (docker removes it first); an unwritable one says so', () => {
    const ctx = join(dir, 'failing');
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY missing /m\n');
    const iid = join(dir, 'stale-iid');
    writeFileSync(iid, 'sha256:stale');
    const failed = spawnSync(
      'node',
      [bin, 'build', '--root', join(dir, 'root'), '-q', '--iidfile', iid, ctx],
      {
        encoding: 'utf8',
      },
    );
    expect(failed.status).toBe(1);
    expect(() => readFileSync(iid)).toThrow(/ENOENT/);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nLABEL a=1\n');
    const bad = join(dir, 'no', 'such', 'iid');
    const unwritable = spawnSync(
      'node',
      [bin, 'build', '--root', join(dir, 'root'), '-q', '--iidfile', bad, ctx],
      {
        encoding: 'utf8',
      },
    );
    expect(unwritable.status).toBe(1);
    expect(unwritable.stderr).toContain(`open ${bad}: no such file or directory`);
  });
});
