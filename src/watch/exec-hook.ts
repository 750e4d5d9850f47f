import { spawn } from 'node:child_process';

export interface ExecHookResult {
  exitCode: number;
  signal?: string;
}

/**
 * `--exec 'cmd'`: runs `sh -c cmd` after a good build, with the image in its env, and waits for it.
 * Its output goes straight to ours. Own process group, so stopping watch stops all of it.
 */
export function runExecHook(
  command: string,
  env: Record<string, string>,
  signal?: AbortSignal,
): Promise<ExecHookResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, ...env },
      detached: true,
    });
    const onAbort = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(e);
    });
    child.on('close', (code, sig) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ exitCode: code ?? 128, ...(sig ? { signal: sig } : {}) });
    });
  });
}
