import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from '../store/index.js';
import { cgroupParentOf, removeCgroupParentSync } from './cgroups.js';

/**
 * The safety net for containers when the process goes away. Every running container registers
 * here. On SIGINT/SIGTERM/SIGHUP the runs are aborted (their normal cleanup runs); if nobody else
 * handles the signal, it is re-raised once they are clean, so Ctrl-C still ends the process. On
 * `exit` (e.g. process.exit() from a handler) whatever is left is cleaned synchronously.
 */
interface ActiveRun {
  abort(): void;
  syncCleanup(): void;
}

const active = new Map<string, ActiveRun>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

let pendingSignal: NodeJS.Signals | undefined;

function onSignal(sig: NodeJS.Signals): void {
  for (const r of active.values()) r.abort();
  // Re-raised by the last run's unregister, after its teardown (see registerRun).
  if (process.listenerCount(sig) === 1) pendingSignal = sig;
}

function reraise(): void {
  const sig = pendingSignal;
  pendingSignal = undefined;
  // Someone else started handling it meanwhile: theirs to decide.
  if (!sig || process.listenerCount(sig) > 1) return;
  uninstall();
  process.kill(process.pid, sig);
}

function onExit(): void {
  for (const r of active.values()) r.syncCleanup();
  active.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('exit', onExit);
}

/** Registers a running container; the returned function unregisters it (handlers go with the last). */
export function registerRun(id: string, run: ActiveRun): () => void {
  active.set(id, run);
  install();
  return () => {
    active.delete(id);
    if (active.size > 0) return;
    // Synchronously, before the run's cancellation error can reach (and end) the caller.
    if (pendingSignal) reraise();
    else uninstall();
  };
}

function quiet(cmd: string, args: string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  } catch {
    // best effort: this runs while the process is going away or on a stale leftover
  }
}

/** Synchronous teardown of one container: kill, delete state, unmount its rootfs. */
export function killAndUnmountSync(o: {
  runtimePath: string;
  runtimeRoot?: string;
  id: string;
  rootfsDir?: string;
}): void {
  const g = o.runtimeRoot ? ['--root', o.runtimeRoot] : [];
  quiet(o.runtimePath, [...g, 'kill', '--all', o.id, 'KILL']);
  quiet(o.runtimePath, [...g, 'delete', '-f', o.id]);
  if (o.rootfsDir) quiet('umount', ['-l', o.rootfsDir]);
}

/**
 * Cleans what a killed tsbuild (kill -9) left in the bundle dir (see bundleRoot): bundles whose owner
 * process is gone get their container killed and deleted, their rootfs unmounted, and are removed.
 * Runs once per bundle dir per process, before the first container.
 */
export function sweepStaleRuns(dir: string, runtimePath: string, runtimeRoot?: string): number {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  let swept = 0;
  for (const id of entries) {
    const bundle = join(dir, id);
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(bundle, 'owner'), 'utf8'));
    } catch {
      // a bundle without an owner file is being created (or is from before owners): leave it
      continue;
    }
    if (Number.isNaN(owner) || pidAlive(owner)) continue;
    killAndUnmountSync({ runtimePath, runtimeRoot, id, rootfsDir: join(bundle, 'rootfs') });
    removeCgroupParentSync(cgroupParentOf(id));
    for (const f of ['config.json', 'etc', 'owner'])
      rmSync(join(bundle, f), { recursive: true, force: true });
    for (const d of [join(bundle, 'rootfs'), bundle]) {
      try {
        rmdirSync(d);
      } catch {
        // still mounted (lazy unmount pending): a later sweep removes it
      }
    }
    swept++;
  }
  return swept;
}
