import { spawn } from 'node:child_process';

/**
 * A `kill -9` of tsbuild cannot be caught, and runc keeps the app running without us. This shell,
 * detached in its own session, outlives us by design: once our pid is gone it kills and deletes the
 * container (the runner's sweep removes the bundle on the next run). Stopped when the app stops.
 */
export function startWatchdog(runtimePath: string, runtimeRoot: string | undefined, id: string): () => void {
  const rt = [runtimePath, ...(runtimeRoot ? ['--root', runtimeRoot] : [])].map(
    (a) => `'${a.replace(/'/g, `'\\''`)}'`,
  );
  const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 0.5; done
${rt.join(' ')} kill --all ${id} KILL 2>/dev/null; sleep 0.2; ${rt.join(' ')} delete -f ${id} 2>/dev/null`;
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return () => {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  };
}
