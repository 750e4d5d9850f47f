import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './require.js';

export interface SshServer {
  /** `ssh://root@127.0.0.1:PORT` (append an absolute path) */
  base: string;
  /** A client key pair only this server accepts: `key` (private) and `key.pub`. */
  key: string;
  stop(): void;
}

/**
 * A real OpenSSH server on 127.0.0.1 (a random port, retried) that lets root in with one fresh key
 * and nothing else: git over ssh reaches the host's repositories through it.
 */
export async function startSshServer(): Promise<SshServer> {
  const sshd = requireBinary('sshd', 'openssh-server');
  requireBinary('ssh-keygen', 'openssh-client');
  const dir = mkdtempSync(join(tmpdir(), 'tsb-sshd-'));
  const key = join(dir, 'client');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  execFileSync('cp', [`${key}.pub`, join(dir, 'authorized_keys')]);
  // sshd wants its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${join(dir, 'host')}`,
        `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
        `PidFile ${join(dir, 'pid')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'UsePAM no',
        '',
      ].join('\n'),
    );
    const daemon: ChildProcess = spawn(sshd, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 50; i++) {
      await new Promise((r) => setTimeout(r, 100));
      if (daemon.exitCode !== null) break;
      if (await listening(port))
        return { base: `ssh://root@127.0.0.1:${port}`, key, stop: () => daemon.kill() };
    }
    daemon.kill();
  }
  throw new Error('sshd did not start');
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(port, '127.0.0.1', () => {
      c.destroy();
      resolve(true);
    });
    c.on('error', () => resolve(false));
  });
}
