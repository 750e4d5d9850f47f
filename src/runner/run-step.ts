import { RunStepError } from './errors.js';
import { runContainer } from './run-container.js';
import type { Mount, RunContainerOptions, RunResult } from './types.js';

/** The part of the store's snapshotter a RUN step needs (structural, so any snapshotter fits). */
export interface SnapshotterLike {
  prepare(key: string, parent?: string): Promise<Mount[]>;
  remove(key: string): Promise<void>;
}

export interface RunStepOptions extends Omit<RunContainerOptions, 'rootfs'> {
  snapshotter: SnapshotterLike;
  /** the key of the active snapshot to prepare (the caller commits it on success) */
  key: string;
  /** the parent snapshot (the chain's top), none for scratch */
  parent?: string;
}

/**
 * One RUN step on a snapshot: prepare (lowers = the parent chain, fresh upper), run, and on success
 * leave the active snapshot for the caller to commit. A non-zero exit throws RunStepError and, like
 * a cancellation, removes the half-made snapshot.
 */
export async function runStep(o: RunStepOptions): Promise<RunResult> {
  const mounts = await o.snapshotter.prepare(o.key, o.parent);
  let result: RunResult;
  try {
    const { snapshotter: _s, key: _k, parent: _p, ...rest } = o;
    result = await runContainer({ ...rest, rootfs: { mounts } });
  } catch (e) {
    await o.snapshotter.remove(o.key).catch(() => undefined);
    throw e;
  }
  if (result.exitCode !== 0) {
    await o.snapshotter.remove(o.key).catch(() => undefined);
    throw new RunStepError({
      command: o.process.args,
      // BuildKit reports runc's own status for a process that never started (`RUN ["nosuch"]`:
      // exit code 1, seen on dockerd 20.10); `docker run` (watch --run) says 127/126 as a shell.
      exitCode: result.startFailed ? 1 : result.exitCode,
      signal: result.signal,
      oomKilled: result.oomKilled,
      outputTail: result.outputTail,
    });
  }
  return result;
}
