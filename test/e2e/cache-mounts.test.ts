import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

describe('RUN --mount=type=cache,from=<stage>', () => {
  const base = useBusyboxRegistry();

  it('starts from the stage as it is: its dir mode and owner kept, a new cache once the stage changes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-cachemount-'));
    const df = `FROM ${base()} AS s
ARG V=1
RUN mkdir -p /s/d && chmod 750 /s/d && chown 5:6 /s/d && echo $V > /s/d/v
FROM ${base()}
ARG RERUN
RUN --mount=type=cache,from=s,source=/s/d,target=/m,id=e2e-from (stat -c '%a %u:%g' /m; cat /m/v; ls /m; touch /m/added) > /o
`;
    const ctx = makeContext({});
    const one = await buildIt(root, ctx, df, { buildArgs: { V: '1' } });
    expect(read(one.rootfs, 'o')).toBe('750 5:6\n1\nv\n');
    // The same stage: the same cache, with what the last step left in it (BuildKit: id + ref).
    const same = await buildIt(root, ctx, df, { buildArgs: { V: '1', RERUN: 'x' } });
    expect(read(same.rootfs, 'o')).toBe('750 5:6\n1\nadded\nv\n');
    // The stage changed: a cache of its own, seeded from the new content.
    const changed = await buildIt(root, ctx, df, { buildArgs: { V: '2', RERUN: 'x' } });
    expect(read(changed.rootfs, 'o')).toBe('750 5:6\n2\nv\n');
    // Both are build cache: `prune --all` frees them once no build runs.
    const store = await openStore(root);
    expect((await store.du()).find((e) => e.kind === 'cache-mounts')?.count).toBe(2);
    expect((await store.gc({ all: true })).cacheMountsRemoved).toBe(2);
  }, 60_000);
});
