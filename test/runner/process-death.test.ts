import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleRoot, runContainer } from '../../src/runner/index.js';
import { type Fixture, makeFixture, mountsMentioning, processCommandLines, runcList } from './fixture.js';

let fx: Fixture;
fx = makeFixture();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGINT');
  fx.cleanup();
});
/** Unique per run, so a leftover from an earlier run cannot be mistaken for this one's. */
const marker = (n: number) => String(100_000 + ((process.pid * 7 + n) % 800_000));

const SRC = resolve(import.meta.dirname, '../../src/runner/index.ts');

/** A separate tsbuild-like process running one long container step; resolves once it runs. */
async function startBuilder(marker: string): Promise<ChildProcess> {
  const layer = fx.layer();
  const script = join(fx.dir, `builder-${marker}.mts`);
  writeFileSync(
    script,
    `import { runContainer } from ${JSON.stringify(SRC)};
await runContainer({ root: ${JSON.stringify(fx.root)}, rootfs: { mounts: ${JSON.stringify(layer.mounts)} },
  process: { args: ['/bin/sh', '-c', 'echo started; sleep ${marker}'] }, killGraceMs: 300,
  onStdout: (c) => process.stdout.write(c) });
`,
  );
  // its own process group, like a CLI in a terminal: Ctrl-C signals the whole group
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  children.push(child);
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (c: Buffer) => c.toString().includes('started') && ok());
    child.on('exit', (code) => fail(new Error(`builder exited early (${code})`)));
  });
  // `started` comes just before the exec of sleep: wait until it is there
  for (let i = 0; i < 100 && sleepers(marker).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  return child;
}

function sleepers(marker: string): string[] {
  return processCommandLines().filter((l) => l === `sleep ${marker}`);
}

/** Bundles owned by this test's builder processes (the bundle dir is shared by every tsbuild). */
function runnerBundles(): string[] {
  const d = bundleRoot(fx.root);
  const owners = new Set(children.map((c) => String(c.pid)));
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((id) => {
    try {
      return owners.has(readFileSync(join(d, id, 'owner'), 'utf8'));
    } catch {
      return false;
    }
  });
}

describe('the process going away', () => {
  it.each([
    ['the builder process', false],
    ['the whole process group (a terminal Ctrl-C: runc gets it too)', true],
  ])(
    'SIGINT to %s, no handlers of its own: the container is stopped, nothing is left, the signal still ends it',
    async (_what, group) => {
      const m = marker(group ? 3 : 1);
      const child = await startBuilder(m);
      expect(sleepers(m)).toHaveLength(1);
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, s) => r(s)));
      if (group) process.kill(-child.pid!, 'SIGINT');
      else child.kill('SIGINT');
      expect(await exited).toBe('SIGINT');
      expect(sleepers(m)).toEqual([]);
      expect(mountsMentioning(fx.dir)).toEqual([]);
      expect(runcList(fx.dir)).toEqual([]);
      expect(runnerBundles()).toEqual([]);
    },
  );

  it('kill -9 of the builder: its watcher stops the container, the next run sweeps the bundle', async () => {
    const m = marker(2);
    const child = await startBuilder(m);
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGKILL');
    await exited;
    // runc outlives its parent; the watcher sees the pipe close and force-deletes the container
    for (let i = 0; i < 100 && sleepers(m).length > 0; i++) await new Promise((r) => setTimeout(r, 30));
    expect(sleepers(m), 'container stopped without tsbuild').toEqual([]);
    expect(runcList(fx.dir)).toEqual([]);
    // no handler of ours ran: the bundle is the next run's to sweep
    expect(runnerBundles(), 'bundle left').toHaveLength(1);
    const layer = fx.layer();
    const r = await runContainer({
      root: fx.root,
      rootfs: { mounts: layer.mounts },
      process: { args: ['true'] },
    });
    expect(r.exitCode).toBe(0);
    expect(sleepers(m)).toEqual([]);
    expect(mountsMentioning(fx.dir)).toEqual([]);
    expect(runnerBundles()).toEqual([]);
  });
});
