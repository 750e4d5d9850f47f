import { acquireFileLock, tryLock, unlock } from '../store/index.js';
import { RunnerError } from './errors.js';

export { tryLock, unlock };

/**
 * The lock of a `sharing=locked` cache mount: exclusive between processes and within this one.
 * Waits until it is free or `signal` aborts. Returns the release function.
 */
export async function acquireLock(path: string, signal?: AbortSignal): Promise<() => void> {
  const release = await acquireFileLock(path, {
    ...(signal ? { signal } : {}),
    cancelled: () => new RunnerError('RUN_CANCELLED', 'cancelled while waiting for a cache mount lock'),
  });
  return release!;
}
