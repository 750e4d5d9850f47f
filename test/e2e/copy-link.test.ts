import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, ownerInTar, ranSteps, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

/** Two possible bases (ARG B), then a COPY (with or without --link) and a RUN that reads both. */
const dockerfile = (flags: string) => `ARG B=one
FROM ${registryBase()} AS one
RUN echo one > /base.txt
FROM ${registryBase()} AS two
RUN echo two > /base.txt
FROM \${B}
COPY ${flags}a.txt /app/a.txt
RUN cat /base.txt /app/a.txt > /out.txt && stat -c %u:%g /app/a.txt >> /out.txt
`;

describe('COPY --link', () => {
  it('is rebased: a new base keeps the COPY cached and its layer blob, the steps after it see both', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-link-'));
    const ctx = makeContext({ 'a.txt': 'linked\n' });
    const df = dockerfile('--link --chown=1000:1000 ');
    const one = await buildIt(root, ctx, df);
    expect(ranSteps(one.events)).toContain('[stage-2 1/2] COPY --link --chown=1000:1000 a.txt /app/a.txt');
    expect(read(one.rootfs, 'out.txt')).toBe('one\nlinked\n1000:1000\n');

    const fsTar = join(mkdtempSync(join(tmpdir(), 'tsb-e2e-link-fs-')), 'fs.tar');
    const two = await buildIt(root, ctx, df, {
      buildArgs: { B: 'two' },
      outputs: ['type=image', `type=tar,dest=${fsTar}`],
    });
    const ran = ranSteps(two.events);
    expect(ran.some((n) => n.includes('COPY --link'))).toBe(false);
    expect(ran).toContain(
      '[stage-2 2/2] RUN cat /base.txt /app/a.txt > /out.txt && stat -c %u:%g /app/a.txt >> /out.txt',
    );
    expect(read(two.rootfs, 'out.txt')).toBe('two\nlinked\n1000:1000\n');
    expect(ownerInTar(fsTar, 'app/a.txt')).toBe('1000:1000');
    // busybox, the base's RUN, the COPY, the RUN: the COPY's layer is the same blob on either base
    const layers = (b: typeof one) =>
      (b.manifest as { layers: { digest: string }[] }).layers.map((l) => l.digest);
    expect(layers(one)).toHaveLength(4);
    expect(layers(two)[2]).toBe(layers(one)[2]);
    expect(layers(two)[1]).not.toBe(layers(one)[1]);
    expect(two.cfg.rootfs.diff_ids[2]).toBe(one.cfg.rootfs.diff_ids[2]);

    // a no-op rebuild on either base runs nothing
    expect((await buildIt(root, ctx, df, { buildArgs: { B: 'two' } })).stepsRun).toBe(0);
  });

  it('without --link, a new base runs the COPY again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-nolink-'));
    const ctx = makeContext({ 'a.txt': 'plain\n' });
    const df = dockerfile('');
    await buildIt(root, ctx, df);
    const two = await buildIt(root, ctx, df, { buildArgs: { B: 'two' } });
    expect(ranSteps(two.events)).toContain('[stage-2 1/2] COPY a.txt /app/a.txt');
    expect(read(two.rootfs, 'out.txt')).toBe('two\nplain\n0:0\n');
  });

  it('with a --chown by name, copies onto the stage (the name needs its /etc/passwd)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-linkname-'));
    const ctx = makeContext({ 'a.txt': 'named\n' });
    const df = `FROM ${registryBase()}
RUN echo 'linkuser:x:1234:1234::/:/bin/sh' >> /etc/passwd && echo 'linkuser:x:1234:' >> /etc/group
COPY --link --chown=linkuser a.txt /app/a.txt
`;
    const fsTar = join(mkdtempSync(join(tmpdir(), 'tsb-e2e-linkname-fs-')), 'fs.tar');
    const r = await buildIt(root, ctx, df, { outputs: ['type=image', `type=tar,dest=${fsTar}`] });
    expect(ownerInTar(fsTar, 'app/a.txt')).toBe('1234:1234');
    expect(read(r.rootfs, 'app/a.txt')).toBe('named\n');
  });
});
