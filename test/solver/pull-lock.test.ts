import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { tryLock } from '../../src/store/index.js';
import type { pushBusyboxImage } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { type FaultProxy, useFaultedBusybox } from '../registry/fault-proxy.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const tmp = () => mkdtempSync(join(tmpdir(), 'tsb-pull-lock-'));
const back = (path: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  utimesSync(path, t, t);
};

describe('tryLock: who holds a lock file', () => {
  it('is exclusive while its owner lives; a dead owner (kill -9) is taken over', () => {
    const path = join(tmp(), 'l');
    expect(tryLock(path)).toBe(true);
    expect(tryLock(path)).toBe(false);
    const dead = spawnSync('true').pid!;
    writeFileSync(path, String(dead));
    expect(tryLock(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toBe(String(process.pid));
  });

  it('a lock with no pid yet is held for 2 s, then stale (its writer died between open and write)', () => {
    const path = join(tmp(), 'l');
    writeFileSync(path, '');
    expect(tryLock(path)).toBe(false);
    back(path, 3_000);
    expect(tryLock(path)).toBe(true);
  });

  it('with staleMs, a live owner that stopped refreshing it loses it (a stopped process, a reused pid)', () => {
    const path = join(tmp(), 'l');
    expect(tryLock(path)).toBe(true);
    back(path, 10_000);
    expect(tryLock(path, { staleMs: 30_000 })).toBe(false);
    expect(tryLock(path)).toBe(false);
    back(path, 40_000);
    expect(tryLock(path, { staleMs: 30_000 })).toBe(true);
  });
});

describe('concurrent cold builds of one base image into one store', () => {
  requireRoot();
  requireBinary('runc');
  const fixture = useFaultedBusybox();
  let proxy: FaultProxy;
  let img: ReturnType<typeof pushBusyboxImage>;
  beforeAll(() => {
    proxy = fixture.proxy();
    img = fixture.img();
  });

  const build = (root: string, ctx: string, iid: string) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const args = ['build', '--root', root, '--progress', 'plain', '--iidfile', iid, ctx];
      const p = spawn('node', [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (b: Buffer) => (out += b));
      p.stderr.on('data', (b: Buffer) => (out += b));
      p.on('close', (code) => resolve({ code, out }));
    });

  it('the second waits for the first pull and downloads nothing; both build the same image', async () => {
    const layer = (url?: string) => url?.endsWith(`/blobs/${img.layerDigest}`) ?? false;
    // Slow enough that the second build starts well inside the first one's download.
    proxy.rule = (req) => (layer(req.url) ? { kind: 'slow', delayMs: 80 } : { kind: 'pass' });
    const ctx = tmp();
    writeFileSync(
      join(ctx, 'Dockerfile'),
      `FROM ${fixture.ref().registry}/library/busybox:1\nRUN echo hi > /hi\n`,
    );
    const root = tmp();
    const first = build(root, ctx, join(root, 'a.iid'));
    for (let i = 0; i < 400 && !proxy.seen.some((s) => layer(s.url)); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(proxy.seen.some((s) => layer(s.url))).toBe(true);
    const second = build(root, ctx, join(root, 'b.iid'));
    const [a, b] = await Promise.all([first, second]);
    expect(a.code, a.out).toBe(0);
    expect(b.code, b.out).toBe(0);
    // It says why it waits, under the step that resolves the base.
    expect(b.out).toMatch(
      /#1 [\d.]+ waiting for another build \(pid \d+\) pulling 127\.0\.0\.1:\d+\/library\/busybox:1/,
    );
    const iid = readFileSync(join(root, 'a.iid'), 'utf8');
    expect(iid).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(readFileSync(join(root, 'b.iid'), 'utf8')).toBe(iid);
    // Without the lock the second build fetches the manifest and the layer again (and unpacks it).
    expect(proxy.seen.filter((s) => layer(s.url))).toHaveLength(1);
    expect(proxy.seen.filter((s) => s.url.includes('/manifests/'))).toHaveLength(1);
    const fsck = spawnSync('node', [bin, 'fsck', '--root', root], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
  }, 60_000);
});
