import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
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
COPY --from=src --parents /app/link/./b /viaLink/
`;
    const r = await buildIt(root, makeContext({}), df);
    expect(read(r.rootfs, 'out/app/a/b/one.txt')).toBe('1\n');
    expect(read(r.rootfs, 'out/app/a/c/two.txt')).toBe('2\n');
    expect(existsSync(join(r.rootfs, 'out/app/a/c/three.md'))).toBe(false);
    expect(read(r.rootfs, 'piv/x/y/z.txt')).toBe('z\n');
    // the source (before `/./`) follows its symlinks, as any COPY source does
    expect(read(r.rootfs, 'viaLink/b/one.txt')).toBe('1\n');
    // below it the pattern is matched as the walk sees the tree: a symlink is not a directory there
    await expect(
      buildIt(root, makeContext({}), df.replace('/app/link/./b', '/app/./link/b')),
    ).rejects.toThrow(/"\/app\/link\/b": not found/);
  });

  it('a pattern without wildcards must match; one with wildcards may match nothing (BuildKit)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-parents-'));
    const src = `FROM ${registryBase()} AS src
RUN mkdir -p /app/a && echo 1 > /app/a/one.txt
FROM ${registryBase()}
`;
    await expect(
      buildIt(root, makeContext({}), `${src}COPY --from=src --parents /app/./a/none.txt /out/\n`),
    ).rejects.toThrow(/"\/app\/a\/none.txt": not found/);
    // the destination is made, empty (BuildKit's testCopyParentsMissingDirectory)
    const r = await buildIt(
      root,
      makeContext({}),
      `${src}COPY --from=src --parents /app/./nothing/*.txt /out/\n`,
    );
    expect(readdirSync(join(r.rootfs, 'out'))).toEqual([]);
  });
});
