import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunContainerOptions, type RunResult, runContainer } from '../../src/runner/index.js';
import { makeBusyboxRootfs } from '../helpers/busybox.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

/** A busybox lower, a fresh upper/work per `layer()`, and a state root: a plain overlay per step. */
export interface Fixture {
  dir: string;
  root: string;
  lower: string;
  layer(lowers?: string[]): Layer;
  cleanup(): void;
}

export interface Layer {
  upper: string;
  work: string;
  mounts: { type: 'overlay'; source: string; options: string[] }[];
}

export function makeFixture(): Fixture {
  requireRoot();
  requireBinary('runc');
  const dir = mkdtempSync(join(tmpdir(), 'tsb-runner-'));
  const lower = makeBusyboxRootfs(join(dir, 'lower'));
  let n = 0;
  return {
    dir,
    root: join(dir, 'root'),
    lower,
    layer(lowers = [lower]): Layer {
      const base = join(dir, `layer-${n++}`);
      const upper = join(base, 'upper');
      const work = join(base, 'work');
      mkdirSync(upper, { recursive: true });
      mkdirSync(work, { recursive: true });
      return {
        upper,
        work,
        mounts: [
          {
            type: 'overlay',
            source: 'overlay',
            options: [`lowerdir=${lowers.join(':')}`, `upperdir=${upper}`, `workdir=${work}`],
          },
        ],
      };
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Captured extends RunResult {
  stdout: string;
  stderr: string;
  upper: string;
}

/** Runs a shell command in a fresh overlay over the busybox root; captures both streams. */
export async function sh(
  fx: Fixture,
  script: string,
  opts: Partial<Omit<RunContainerOptions, 'rootfs' | 'root'>> & { lowers?: string[] } = {},
): Promise<Captured> {
  const layer = fx.layer(opts.lowers);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const { lowers: _l, ...rest } = opts;
  const r = await runContainer({
    ...rest,
    root: fx.root,
    rootfs: { mounts: layer.mounts },
    process: { args: ['/bin/sh', '-c', script], ...(opts.process ?? {}) },
    onStdout: (c) => out.push(c),
    onStderr: (c) => err.push(c),
  });
  return {
    ...r,
    stdout: Buffer.concat(out).toString(),
    stderr: Buffer.concat(err).toString(),
    upper: layer.upper,
  };
}

/** Every path in a dir, relative, sorted (a diff's content). */
export function listTree(dir: string): string[] {
  const out = execFileSync('find', ['.', '-mindepth', '1'], { cwd: dir, encoding: 'utf8' });
  return out
    .split('\n')
    .filter(Boolean)
    .map((p) => p.slice(2))
    .sort();
}

/** The host's mount table lines mentioning `needle`. */
export function mountsMentioning(needle: string): string[] {
  return execFileSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(needle));
}

/** ids in `runc list` (the default state root), only those whose bundle is under `under` if given. */
export function runcList(under?: string): string[] {
  const out = runcListOutput();
  const list = (out && out !== 'null' ? JSON.parse(out) : []) as { id: string; bundle: string }[];
  return list.filter((c) => under === undefined || c.bundle.startsWith(under)).map((c) => c.id);
}

/**
 * `runc list` reads each container's state dir after listing them: one that another test's step
 * removes in between fails the whole listing (`stat /run/runc/<id>: no such file`). Asked again.
 */
function runcListOutput(): string {
  for (let i = 0; ; i++) {
    try {
      return execFileSync('runc', ['list', '--format', 'json'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }).trim();
    } catch (e) {
      if (i >= 4 || !/no such file or directory/.test(String((e as { stderr?: string }).stderr))) throw e;
    }
  }
}

/** Command lines of every process on the host (read from /proc: procps may not be installed). */
export function processCommandLines(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
      if (cmd) out.push(cmd);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
