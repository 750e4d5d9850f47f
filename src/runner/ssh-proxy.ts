import { chmodSync, chownSync, existsSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { RunnerError } from './errors.js';
import { privateDir } from './private-dir.js';
import { type SshSource, serveAgentConnection } from './ssh-agent.js';

export interface SshProxy {
  /** The proxy's socket: what the step's ssh mount binds. */
  path: string;
  close(): Promise<void>;
}

/**
 * A socket of the step's own serving an agent: the caller's (read-only) or one holding key files
 * (ssh-agent.ts). BuildKit serves ssh mounts the same way (sshforward's socket per mount): the
 * socket gets the mount's uid, gid and mode (default 0:0 0600), so `RUN --mount=type=ssh,uid=1000`
 * works under `USER 1000` whatever the owner of the caller's agent socket, and the agent's own path
 * never enters the container.
 */
export async function sshAgentProxy(
  source: SshSource,
  opts: { uid?: number; gid?: number; mode?: number; dir: string },
): Promise<SshProxy> {
  if ('socket' in source && !existsSync(source.socket))
    throw new RunnerError('RUNNER_SSH_MISSING', `SSH agent socket ${source.socket} not found`, {
      hint: 'start an agent (ssh-agent) or give its socket with --ssh default=/path/to/socket',
    });
  // A short path: unix socket paths are limited to 107 bytes.
  const dir = privateDir(opts.dir, 'ssh');
  const path = join(dir, 'agent.sock');
  const open = new Set<Socket>();
  const server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    serveAgentConnection(source, client);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, resolve);
    });
    chownSync(path, opts.uid ?? 0, opts.gid ?? 0);
    chmodSync(path, opts.mode ?? 0o600);
  } catch (e) {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    path,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
