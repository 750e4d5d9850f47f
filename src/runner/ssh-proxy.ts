import { chmodSync, chownSync, existsSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { RunnerError } from './errors.js';
import { privateDir } from './private-dir.js';

export interface SshProxy {
  /** The proxy's socket: what the step's ssh mount binds. */
  path: string;
  close(): Promise<void>;
}

/**
 * A socket of the step's own that forwards each connection to the agent at `agent`. BuildKit serves
 * ssh mounts the same way (sshforward's socket per mount): the socket gets the mount's uid, gid and
 * mode (default 0:0 0600), so `RUN --mount=type=ssh,uid=1000` works under `USER 1000` whatever the
 * owner of the caller's agent socket, and the agent's own path never enters the container.
 */
export async function sshAgentProxy(
  agent: string,
  opts: { uid?: number; gid?: number; mode?: number; dir: string },
): Promise<SshProxy> {
  if (!existsSync(agent))
    throw new RunnerError('RUNNER_SSH_MISSING', `SSH agent socket ${agent} not found`, {
      hint: 'start an agent (ssh-agent) or give its socket with --ssh default=/path/to/socket',
    });
  // A short path: unix socket paths are limited to 107 bytes.
  const dir = privateDir(opts.dir, 'ssh');
  const path = join(dir, 'agent.sock');
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const up = createConnection(agent);
    for (const s of [client, up]) {
      open.add(s);
      s.on('error', () => {
        client.destroy();
        up.destroy();
      });
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        up.destroy();
      });
    }
    client.pipe(up).pipe(client);
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
