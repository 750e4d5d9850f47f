import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundleRoot } from '../../src/runner/index.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { mountsMentioning, processCommandLines, runcList } from '../runner/fixture.js';

requireRoot();
requireBinary('runc');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');

/** Two stages with RUNs that write a big file and many small ones, then a final COPY --from. */
function context(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-e2e-k9-ctx-'));
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  mkdirSync(join(dir, 'data'));
  for (let i = 0; i < 50; i++) writeFileSync(join(dir, 'data', `f${i}`), `${i}\n`.repeat(500));
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM scratch AS base
COPY busybox /bin/sh
COPY busybox /bin/busybox
FROM base AS a
ARG NAP=0
RUN busybox dd if=/dev/zero of=/big bs=1M count=40 2>/dev/null && busybox sleep $NAP
RUN busybox mkdir /d && for i in $(busybox seq 1 300); do echo $i > /d/f$i; done
FROM base AS b
COPY data /data
RUN busybox cat /data/* | busybox wc -c > /sum
FROM base
COPY --from=a /big /d /x/
COPY --from=b /sum /
RUN busybox ls /x | busybox wc -l > /count
`,
  );
  return dir;
}

const tsbuild = (root: string, ...args: string[]) =>
  spawnSync('node', [bin, ...args.slice(0, 1), '--root', root, ...args.slice(1)], { encoding: 'utf8' });

/** A cold build; resolves when its progress (plain) first matches `at`. */
async function buildUntil(root: string, ctx: string, at: RegExp, ...args: string[]): Promise<ChildProcess> {
  const p = spawn('node', [bin, 'build', '--root', root, '--progress', 'plain', '--no-cache', ...args, ctx], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  await new Promise<void>((res, rej) => {
    const see = (b: Buffer) => {
      log += b;
      if (at.test(log)) res();
    };
    p.stdout!.on('data', see);
    p.stderr!.on('data', see);
    p.on('exit', () => rej(new Error(`the build ended before ${at}:\n${log}`)));
  });
  return p;
}

/** Ids of the containers whose bundle the tsbuild process `pid` owns. */
function containersOf(root: string, pid: number): string[] {
  const dir = bundleRoot(root);
  return readdirSync(dir).filter((id) => {
    try {
      return readFileSync(join(dir, id, 'owner'), 'utf8') === String(pid);
    } catch {
      return false;
    }
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function killed(p: ChildProcess): Promise<void> {
  const exited = new Promise((r) => p.on('exit', r));
  p.kill('SIGKILL');
  await exited;
}

/** After a kill -9: the store checks clean, a build in it works and gives the right files. */
function expectRecovers(root: string, ctx: string): void {
  const fsck = tsbuild(root, 'fsck');
  expect(fsck.stdout + fsck.stderr).toMatch(/: ok$/m);
  expect(fsck.status).toBe(0);
  const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-k9-out-'));
  const r = tsbuild(root, 'build', '--progress', 'plain', '-o', `type=local,dest=${out}`, ctx);
  expect(r.stderr).not.toMatch(/ERROR/);
  expect(r.status).toBe(0);
  expect(readFileSync(join(out, 'count'), 'utf8')).toBe('301\n');
  expect(readFileSync(join(out, 'sum'), 'utf8').trim()).toBe(String(50 * 500 * 3 - 10 * 500));
  expect(readFileSync(join(out, 'x/big')).length).toBe(40 << 20);
  expect(tsbuild(root, 'fsck').status).toBe(0);
  expect(mountsMentioning(root)).toEqual([]);
}

describe('kill -9 of tsbuild mid-build', () => {
  it('during a RUN: the step stops with it, the store stays consistent, the next build works', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-k9-root-'));
    const ctx = context();
    // a nap no test would wait for, unique so that it is ours
    const nap = String(600 + (process.pid % 300));
    const napping = () => processCommandLines().some((l) => l === `busybox sleep ${nap}`);
    const p = await buildUntil(root, ctx, /\[a 1\/2\] RUN/, '--build-arg', `NAP=${nap}`);
    for (let i = 0; i < 300 && !napping(); i++) await sleep(50);
    expect(napping(), 'the RUN is running').toBe(true);
    const ours = containersOf(root, p.pid!);
    expect(ours.length).toBeGreaterThan(0); // stage b may run its own RUN meanwhile
    await killed(p);
    for (let i = 0; i < 100 && napping(); i++) await sleep(30);
    expect(napping(), 'the RUN stopped without tsbuild').toBe(false);
    // other test files run containers of their own meanwhile: only this build's must be gone. The
    // watcher's `runc delete -f` kills first and removes the state after the processes are reaped:
    // the nap can be gone a moment before the container leaves runc's list.
    const left = () => {
      const live = new Set(runcList());
      return ours.filter((id) => live.has(id));
    };
    for (let i = 0; i < 50 && left().length > 0; i++) await sleep(100);
    expect(left()).toEqual([]);
    expectRecovers(root, ctx);
  });

  it.each([
    ['a RUN was done (its diff being committed)', /\[a 1\/2\] RUN[\s\S]*#\d+ DONE/],
    ['a 40 MB COPY --from starts', /\[stage-3 1\/3\]/],
    ['the last RUN starts', /\[stage-3 3\/3\]/],
  ])('when %s: the store stays consistent, the next build works', async (_when, at) => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-k9-root-'));
    const ctx = context();
    await killed(await buildUntil(root, ctx, at));
    expectRecovers(root, ctx);
  });

  it('while it writes an OCI archive: no half archive is left where it was asked for', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-k9-root-'));
    const ctx = context();
    const dest = join(mkdtempSync(join(tmpdir(), 'tsb-e2e-k9-oci-')), 'img.tar');
    const p = await buildUntil(root, ctx, /\[stage-3 3\/3\][\s\S]*#\d+ DONE/, '-o', `type=oci,dest=${dest}`);
    await sleep(30);
    await killed(p);
    expect(existsSync(dest) ? 'archive at dest' : 'none').toBe('none');
    expectRecovers(root, ctx);
  });
});
