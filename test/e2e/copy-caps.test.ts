import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RawEntry, tar } from '../helpers/raw-tar.js';
import { pushBusyboxWithLayer, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { ownerInTar } from './helpers.js';

requireRoot();
requireBinary('runc');
requireBinary('getfattr');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
// cap_net_raw+ep, as `setcap cap_net_raw+ep` writes it (VFS_CAP_REVISION_2)
const CAP = '0100000200200000000000000000000000000000';

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

describe('file capabilities across COPY --from (BuildKit copies them with the file)', () => {
  it('a linked, a copied (--chmod, --chown) and a cp(1)-copied file all keep security.capability', () => {
    const capped = (path: string): RawEntry => ({
      path,
      body: 'p',
      mode: 0o755,
      pax: { 'SCHILY.xattr.security.capability': Buffer.from(CAP, 'hex').toString('latin1') },
    });
    // 600 files: a directory copied whole by cp(1) (fast-copy.ts)
    const many: RawEntry[] = Array.from({ length: 600 }, (_, i) => ({ path: `big/f${i}`, body: `${i}` }));
    const image = pushBusyboxWithLayer(
      reg,
      'caps/ping:1',
      tar([capped('caps/ping'), capped('big/ping'), ...many]),
    );
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-caps-ctx-'));
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-caps-out-'));
    writeFileSync(
      join(ctx, 'Dockerfile'),
      `FROM ${image} AS img\nFROM ${image}\n` +
        'COPY --from=img /caps/ping /linked\n' +
        'COPY --chmod=700 --from=img /caps/ping /chmodded\n' +
        'COPY --chown=5:6 --from=img /caps/ping /chowned\n' +
        'COPY --from=img /big/ /big2/\n',
    );
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-caps-root-'));
    const fsTar = `${out}.tar`;
    const r = spawnSync(
      'node',
      [bin, 'build', '--root', root, '-o', `type=local,dest=${out}`, '-o', `type=tar,dest=${fsTar}`, ctx],
      { encoding: 'utf8' },
    );
    expect(r.stderr).not.toMatch(/ERROR/);
    expect(r.status).toBe(0);
    for (const f of ['linked', 'chmodded', 'chowned', 'big2/ping']) {
      const got = execFileSync('getfattr', ['-n', 'security.capability', '-e', 'hex', join(out, f)], {
        encoding: 'utf8',
      });
      expect(got, f).toContain(`security.capability=0x${CAP}`);
    }
    // the local dir is the builder's own, as BuildKit's local exporter writes it; the tar has owners
    expect(execFileSync('stat', ['-c', '%a', join(out, 'chowned')], { encoding: 'utf8' })).toBe('755\n');
    expect(ownerInTar(fsTar, 'chowned')).toBe('5:6');
  });
});
