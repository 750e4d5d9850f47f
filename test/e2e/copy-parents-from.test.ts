import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

describe('COPY --from --parents', () => {
  it('keeps the source directories below the root or a /./ pivot, as from the context', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-parents-'));
    const df = `FROM ${registryBase()} AS src
RUN mkdir -p /app/a/b /app/a/c /app/x/y && echo 1 > /app/a/b/one.txt && echo 2 > /app/a/c/two.txt \\
 && echo 3 > /app/a/c/three.md && echo z > /app/x/y/z.txt && ln -s a /app/link
FROM ${registryBase()}
COPY --from=src --parents /app/a/*/*.txt /out/
COPY --from=src --parents /app/./x/y/z.txt /piv/
COPY --from=src --parents /app/./link/b /viaLink/
`;
    const r = await buildIt(root, makeContext({}), df);
    expect(read(r.rootfs, 'out/app/a/b/one.txt')).toBe('1\n');
    expect(read(r.rootfs, 'out/app/a/c/two.txt')).toBe('2\n');
    expect(existsSync(join(r.rootfs, 'out/app/a/c/three.md'))).toBe(false);
    expect(read(r.rootfs, 'piv/x/y/z.txt')).toBe('z\n');
    // named as written: the symlink is followed for the content only
    expect(read(r.rootfs, 'viaLink/link/b/one.txt')).toBe('1\n');
  });

  it('a source that matches nothing fails the build', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-parents-'));
    const df = `FROM ${registryBase()} AS src
RUN mkdir -p /app
FROM ${registryBase()}
COPY --from=src --parents /app/./nothing/*.txt /out/
`;
    await expect(buildIt(root, makeContext({}), df)).rejects.toThrow(/not found/);
  });
});
