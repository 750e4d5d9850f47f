import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdtempSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, ranSteps, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const base = useBusyboxRegistry();

/** Cache behaviour that BuildKit (dockerd 20.10, the peer) showed for the same edits. */
describe('cache keys as BuildKit keys them', () => {
  it('RUN --mount=type=bind of the context: keyed by what it shows, and shows what BuildKit shows', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-keys-'));
    const ctx = makeContext({
      'sub/a.txt': 'one',
      'other.txt': 'x',
      'secret.txt': 'do not show',
      '.dockerignore': 'secret.txt\n',
    });
    chownSync(join(ctx, 'sub/a.txt'), 1234, 1234);
    const df = `FROM ${base()}
RUN --mount=type=bind,target=/ctx ls -A /ctx > /all && stat -c '%u:%g' /ctx/sub/a.txt > /ids
RUN --mount=type=bind,source=sub,target=/s cat /s/a.txt > /a
`;
    const first = await buildIt(root, ctx, df);
    // .dockerignore'd files are not there; ids are 0:0 (the docker CLI resets them as it sends)
    expect(read(first.rootfs, 'all').split('\n')).not.toContain('secret.txt');
    expect(read(first.rootfs, 'all')).toContain('other.txt');
    expect(read(first.rootfs, 'ids')).toBe('0:0\n');
    expect(read(first.rootfs, 'a')).toBe('one');

    // touch, a new owner, an ignored file: nothing the mounts show changed
    utimesSync(join(ctx, 'sub/a.txt'), new Date(), new Date(Date.now() + 60_000));
    chownSync(join(ctx, 'sub/a.txt'), 4321, 4321);
    writeFileSync(join(ctx, 'secret.txt'), 'changed');
    expect((await buildIt(root, ctx, df)).stepsRun).toBe(0);

    // a file only the whole-context mount shows: a Dockerfile binding just `sub` stays cached
    const subOnly = `FROM ${base()}\nRUN --mount=type=bind,source=sub,target=/s cat /s/a.txt > /a\n`;
    expect((await buildIt(root, ctx, subOnly)).stepsRun).toBe(1);
    writeFileSync(join(ctx, 'other.txt'), 'y');
    expect((await buildIt(root, ctx, subOnly)).stepsRun).toBe(0);
    expect(ranSteps((await buildIt(root, ctx, df)).events)[0]).toMatch(/^\[2\/3\] RUN/);

    // a file under `source=sub`: it runs again and reads the new content
    writeFileSync(join(ctx, 'sub/a.txt'), 'two');
    const changed = await buildIt(root, ctx, df);
    expect(changed.stepsRun).toBe(2);
    expect(read(changed.rootfs, 'a')).toBe('two');
  });

  it('a bind of the context never writes through to it (its root-owned files are hard links)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-keys-'));
    const ctx = makeContext({ 'f.txt': 'original', '.dockerignore': 'ignored\n' });
    const df = `FROM ${base()}
RUN --mount=type=bind,target=/c,rw echo more >> /c/f.txt && chmod 600 /c/f.txt && cat /c/f.txt > /seen
RUN --mount=type=bind,target=/c stat -c '%u:%g %a %s' /c/f.txt > /ro && (echo x > /c/f.txt || echo refused >> /ro)
`;
    const r = await buildIt(root, ctx, df);
    expect(read(r.rootfs, 'seen')).toBe('originalmore\n');
    expect(read(r.rootfs, 'ro')).toBe('0:0 644 8\nrefused\n');
    expect(readFileSync(join(ctx, 'f.txt'), 'utf8')).toBe('original');
    expect(statSync(join(ctx, 'f.txt')).mode & 0o777).toBe(0o644);
  });

  it('COPY from the context is not keyed by the owners of its files', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-keys-'));
    const ctx = makeContext({ 'a.txt': 'a' });
    const df = `FROM ${base()}\nCOPY a.txt /a\nRUN ls -ln /a > /o\n`;
    expect((await buildIt(root, ctx, df)).stepsRun).toBe(3);
    chownSync(join(ctx, 'a.txt'), 1234, 1234);
    const again = await buildIt(root, ctx, df);
    expect(again.stepsRun).toBe(0);
    expect(read(again.rootfs, 'o')).toMatch(/ 0 +0 /);
  });

  // Here docker 20.10's BuildKit keeps the stale result (README, Conformance); its content checksum
  // covers each directory's header, and tsbuild follows the checksum.
  it('a chmod of a directory in the context busts a COPY of it (never a stale mode in the image)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-keys-'));
    const ctx = makeContext({ 'd/sub/k': 'k', 'd/f': 'f' });
    const df = `FROM ${base()}\nCOPY d /d\n`;
    await buildIt(root, ctx, df);
    chmodSync(join(ctx, 'd/sub'), 0o700);
    const again = await buildIt(root, ctx, df);
    expect(again.stepsRun).toBe(1);
    expect(statSync(join(again.rootfs, 'd/sub')).mode & 0o777).toBe(0o700);
  });

  it('a stage that ran again with the same output: COPY --from, a bind from it and what follows are hits', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-keys-'));
    const ctx = makeContext({ 'in.txt': 'one' });
    const df = `FROM ${base()} AS gen
COPY in.txt /in.txt
RUN wc -c < /in.txt > /size && echo fixed > /out
FROM ${base()}
COPY --from=gen /out /copied
RUN cat /copied > /after-copy
RUN --mount=type=bind,from=gen,source=/out,target=/m cat /m > /after-bind
`;
    const first = await buildIt(root, ctx, df);
    expect(first.stepsRun).toBe(6);
    writeFileSync(join(ctx, 'in.txt'), 'two'); // same size: /size and /out do not change
    const second = await buildIt(root, ctx, df);
    // the last word on each step (a step may start before its content key is in, then be a hit)
    const last = new Map<string, string>();
    for (const e of second.events)
      if (e.type === 'vertex' && !e.name.startsWith('[internal]'))
        last.set(e.name.replace(/\] .*/, ']'), e.status);
    expect([...last].filter(([, st]) => st === 'done').map(([n]) => n)).toEqual(['[gen 2/3]', '[gen 3/3]']);
    expect(second.stepsRun).toBe(2);
    expect(second.digest).toBe(first.digest);
    writeFileSync(join(ctx, 'in.txt'), 'three'); // other size: the stage's output differs
    const third = await buildIt(root, ctx, df);
    expect(third.stepsRun).toBe(2);
    expect(third.digest).toBe(first.digest); // /size is not copied: the final stage is the same again
  });

  it('--no-cache-filter runs that stage again; later stages are found by what it made', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-keys-'));
    const ctx = makeContext({ 'in.txt': 'one' });
    const df = (what: string) => `FROM ${base()} AS gen
COPY in.txt /in.txt
RUN cat /proc/sys/kernel/random/uuid > /rand && echo fixed > /out
FROM ${base()}
COPY --from=gen ${what} /got
RUN cat /got > /after
`;
    expect((await buildIt(root, ctx, df('/out'))).stepsRun).toBe(5);
    // without the filter the whole build is cached; with it, the stage runs
    expect((await buildIt(root, ctx, df('/out'))).stepsRun).toBe(0);
    const same = await buildIt(root, ctx, df('/out'), { noCacheFilter: ['gen'] });
    expect(same.stepsRun).toBe(2); // gen's COPY and RUN; /out came out the same
    // what the stage made differs each run (/rand): what copies it runs again too
    await buildIt(root, ctx, df('/rand'));
    const other = await buildIt(root, ctx, df('/rand'), { noCacheFilter: ['gen'] });
    expect(other.stepsRun).toBe(4);
    expect(read(other.rootfs, 'after')).toBe(read(other.rootfs, 'got'));
    // --no-cache keeps what the steps make now, not the snapshot their keys named before
    const all = await buildIt(root, ctx, df('/rand'), { noCache: true });
    expect(all.stepsRun).toBe(4);
    expect(read(all.rootfs, 'got')).not.toBe(read(other.rootfs, 'got'));
    expect(read((await buildIt(root, ctx, df('/rand'))).rootfs, 'got')).toBe(read(all.rootfs, 'got'));
  });

  it('a step that runs again after a prune is exported as it ran now, not as the layer of the pruned run', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-keys-'));
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-keys-out-'));
    const ctx = makeContext({});
    const df = `FROM ${base()}\nRUN cat /proc/sys/kernel/random/uuid > /t\nRUN cp /t /u\n`;
    // The tag keeps the first build's layer blobs through the prune, as a user's image does.
    const built = async (n: string) =>
      buildIt(root, ctx, df, { outputs: [`type=image,name=keep${n}`, `type=docker,dest=${out}/${n}.tar`] });
    const one = await built('1');
    const store = await openStore(root);
    await store.gc({ all: true });
    await store.close();
    const two = await built('2');
    expect(ranSteps(two.events).filter((s) => s.includes(' RUN ')).length).toBe(2);
    expect(read(two.rootfs, 't')).not.toBe(read(one.rootfs, 't'));
    // The archive's last two layers hold what the two RUNs made this time.
    const fromLayers = (n: string, file: string) =>
      execFileSync(
        'bash',
        [
          '-c',
          `cd ${out} && mkdir -p x${n} && tar -xf ${n}.tar -C x${n} && cd x${n} &&
        for l in $(python3 -c 'import json;print(" ".join(json.load(open("manifest.json"))[0]["Layers"]))'); do
          tar -xOf "$l" ${file} 2>/dev/null; done; true`,
        ],
        { encoding: 'utf8' },
      );
    expect(fromLayers('2', 't')).toBe(read(two.rootfs, 't'));
    expect(fromLayers('2', 'u')).toBe(read(two.rootfs, 't'));
    expect(fromLayers('1', 't')).toBe(read(one.rootfs, 't'));
  });
});
