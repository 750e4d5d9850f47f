import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from '../helpers/require.js';

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');

/** A context whose base is Debian's static busybox (no registry needed), plus `files`. */
export function makeContext(dockerfile: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-watch-ctx-'));
  copyFileSync(requireBinary('busybox', 'busybox-static'), join(dir, 'busybox'));
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

export const BUSYBOX_BASE =
  'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n';

/** A running `tsbuild watch`: its output as lines, waits on patterns, Ctrl-C. */
export class WatchProcess {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(args: string[]) {
    this.proc = spawn('node', [bin, 'watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d) => {
      this.stdout += d;
    });
    this.proc.stderr?.on('data', (d) => {
      this.stderr += d;
    });
    this.exited = new Promise((r) => this.proc.on('exit', (code, signal) => r({ code, signal })));
  }

  /** Summary lines (`#N …`) on stdout. */
  summaries(): string[] {
    return this.stdout.split('\n').filter((l) => /^#\d+ /.test(l));
  }

  /** Waits until `pred` holds on the output, or fails with what was printed. */
  async waitFor(pred: (w: WatchProcess) => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this)) {
      if (this.proc.exitCode !== null)
        throw new Error(`watch exited while waiting for ${what}:\n${this.output()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${this.output()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  waitSummaries(n: number, timeoutMs?: number): Promise<void> {
    return this.waitFor((w) => w.summaries().length >= n, `${n} summary lines`, timeoutMs);
  }

  output(): string {
    return `--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`;
  }

  /** Ctrl-C, then waits for the exit. */
  async interrupt(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null) this.proc.kill('SIGINT');
    return this.exited;
  }
}

/** Digest at the end of a summary line. */
export function digestOf(line: string | undefined): string {
  const m = /sha256:[0-9a-f]{64}/.exec(line ?? '');
  if (!m) throw new Error(`no digest in ${line}`);
  return m[0];
}

/** `runc list`, retried: it fails when a container goes away between its readdir and its stat. */
function runcList(): { id: string; bundle: string }[] {
  for (let i = 0; ; i++) {
    try {
      return (
        JSON.parse(
          execFileSync('runc', ['list', '--format', 'json'], { encoding: 'utf8', stdio: 'pipe' }) || '[]',
        ) ?? []
      );
    } catch (e) {
      if (i >= 20) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

function ownerOf(bundle: string): number | undefined {
  try {
    return Number(readFileSync(join(bundle, 'owner'), 'utf8').trim());
  } catch {
    return undefined;
  }
}

function bundleDirs(parent: string): string[] {
  try {
    return readdirSync(parent).map((n) => join(parent, n));
  } catch {
    return [];
  }
}

/**
 * What a watch under `root` run by `pids` may leave behind: runc containers whose bundle is under
 * `root` or owned by one of `pids` (the runner keeps bundles under /dev/shm when it is a tmpfs),
 * bundles of those, and mounts under `root`.
 */
export function leftovers(
  root: string,
  pids: number[] = [],
): { containers: string[]; mounts: string[]; bundles: string[] } {
  const ours = (bundle: string) => bundle.startsWith(root) || pids.includes(ownerOf(bundle) ?? -1);
  const list = runcList();
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.startsWith(root));
  const bundles = [
    ...bundleDirs(join(root, 'runner')),
    ...bundleDirs('/dev/shm/tsbuild-runner').filter((b) => pids.includes(ownerOf(b) ?? -1)),
  ];
  return { containers: (list ?? []).filter((c) => ours(c.bundle)).map((c) => c.id), mounts, bundles };
}
