import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSshSource, type SshSource } from '../../src/runner/index.js';
import { sshAgentProxy } from '../../src/runner/ssh-proxy.js';
import { requireBinary } from '../helpers/require.js';

// Real OpenSSH on both sides: ssh-keygen makes the keys in every format it writes, ssh-add and
// ssh-keygen -Y talk to our agent socket, and a real ssh-agent stands behind the read-only proxy.
// The clients run asynchronously: the agent answers from this process's event loop.
const run = promisify(execFile);
requireBinary('ssh-keygen', 'openssh-client');
requireBinary('ssh-agent', 'openssh-client');

const dir = mkdtempSync(join(tmpdir(), 'tsb-ssh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const KEYS: Record<string, string[]> = {
  ed25519: ['-t', 'ed25519'],
  rsa: ['-t', 'rsa', '-b', '2048'],
  ecdsa256: ['-t', 'ecdsa', '-b', '256'],
  ecdsa384: ['-t', 'ecdsa', '-b', '384'],
  ecdsa521: ['-t', 'ecdsa', '-b', '521'],
  'rsa-pem': ['-t', 'rsa', '-b', '2048', '-m', 'PEM'],
  'rsa-pkcs8': ['-t', 'rsa', '-b', '2048', '-m', 'PKCS8'],
  'ecdsa-pem': ['-t', 'ecdsa', '-m', 'PEM'],
};
const key = (n: string) => join(dir, n);
const pub = (n: string) =>
  readFileSync(`${key(n)}.pub`, 'utf8')
    .split(' ')
    .slice(0, 2)
    .join(' ');

beforeAll(async () => {
  await Promise.all(
    Object.entries(KEYS).map(([n, a]) => run('ssh-keygen', ['-q', ...a, '-N', '', '-C', n, '-f', key(n)])),
  );
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', key('encrypted')]);
  writeFileSync(key('junk'), 'not a key\n');
  mkdirSync(key('a-dir'));
});

async function withAgent<T>(source: SshSource, fn: (sock: string) => Promise<T>): Promise<T> {
  const p = await sshAgentProxy(source, { dir: '/dev/shm' });
  try {
    return await fn(p.path);
  } finally {
    await p.close();
    expect(existsSync(p.path)).toBe(false);
  }
}

const sshAdd = (sock: string, ...args: string[]) =>
  run('ssh-add', args, { env: { ...process.env, SSH_AUTH_SOCK: sock } }).then(
    (r) => ({ ok: true, out: r.stdout }),
    (e: { stderr: string }) => ({ ok: false, out: e.stderr }),
  );

/** One raw agent exchange: a request frame out, the reply frame's body back. */
function exchange(sock: string, body: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = createConnection(sock, () => c.write(Buffer.concat([u32(body.length), body])));
    let got = Buffer.alloc(0);
    c.on('data', (d) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= 4 + got.readUInt32BE(0)) {
        c.end();
        resolve(got.subarray(4, 4 + got.readUInt32BE(0)));
      }
    });
    c.on('error', reject);
  });
}
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (b: Buffer | string) => Buffer.concat([u32(Buffer.byteLength(b)), Buffer.from(b)]);

describe('--ssh ID=KEYFILE: an agent of our own, as docker build serves key files', () => {
  it('lists every key format ssh-keygen writes, with the blobs of their .pub files', async () => {
    const names = Object.keys(KEYS);
    const listed = await withAgent(loadSshSource(names.map(key)), (s) => sshAdd(s, '-L'));
    expect(listed.ok).toBe(true);
    // x/crypto's keyring lists keys in the order given, with empty comments.
    expect(listed.out.split('\n').filter(Boolean)).toEqual(names.map((n) => `${pub(n)} `));
  });

  it('signs as OpenSSH verifies (ssh-keygen -Y sign through the agent, then -Y verify)', async () => {
    const names = Object.keys(KEYS);
    const msg = join(dir, 'msg');
    writeFileSync(msg, 'signed through the build agent\n');
    await withAgent(loadSshSource(names.map(key)), async (sock) => {
      for (const n of names) {
        rmSync(`${msg}.sig`, { force: true });
        await run('ssh-keygen', ['-Y', 'sign', '-f', `${key(n)}.pub`, '-n', 'file', msg], {
          env: { ...process.env, SSH_AUTH_SOCK: sock },
        });
        writeFileSync(join(dir, 'allowed'), `me ${pub(n)}\n`);
        const v = await run('sh', [
          '-c',
          `ssh-keygen -Y verify -f ${dir}/allowed -I me -n file -s ${msg}.sig < ${msg}`,
        ]);
        expect(v.stdout, n).toMatch(/^Good "file" signature for me/);
      }
    });
  });

  it('answers an ssh-rsa (SHA-1) sign request, refuses unknown keys and what would change it', async () => {
    await withAgent(loadSshSource([key('rsa-pem')]), async (sock) => {
      const [, blob] = pub('rsa-pem').split(' ') as [string, string];
      const data = Buffer.from('session data');
      const req = (b: Buffer, flags: number) =>
        Buffer.concat([Buffer.from([13]), str(b), str(data), u32(flags)]);
      const reply = await exchange(sock, req(Buffer.from(blob, 'base64'), 0));
      expect(reply[0]).toBe(14);
      const sig = reply.subarray(5);
      const alg = sig.subarray(4, 4 + sig.readUInt32BE(0)).toString();
      expect(alg).toBe('ssh-rsa');
      const raw = sig.subarray(4 + alg.length + 4);
      const pubKey = createPublicKey({ key: readFileSync(key('rsa-pem')), format: 'pem' });
      expect(verify('sha1', data, pubKey, raw)).toBe(true);
      expect(await exchange(sock, req(Buffer.from('other'), 0))).toEqual(Buffer.from([5]));
      // REMOVE_ALL_IDENTITIES, LOCK, ADD_IDENTITY and a message of no known number: failure.
      for (const t of [19, 22, 17, 200])
        expect(await exchange(sock, Buffer.from([t]))).toEqual(Buffer.from([5]));
      expect((await sshAdd(sock, '-L')).ok).toBe(true);
    });
  });

  it('refuses what BuildKit refuses, in its words', () => {
    const err = (paths: string[]) => {
      try {
        loadSshSource(paths);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err([key('encrypted')])).toBe(
      `failed to parse ${key('encrypted')}: ssh: this private key is passphrase protected`,
    );
    expect(err([key('junk')])).toBe(`failed to parse ${key('junk')}: ssh: no key found`);
    expect(err([`${key('rsa')}.pub`])).toBe(`failed to parse ${key('rsa')}.pub: ssh: no key found`);
    expect(err([key('nosuch')])).toBe(`stat ${key('nosuch')}: no such file or directory`);
    expect(err([key('a-dir')])).toBe(`failed to read ${key('a-dir')}: read ${key('a-dir')}: is a directory`);
    expect(err([key('rsa'), ''])).toBe('stat : no such file or directory');
  });
});

describe('--ssh ID=SOCKET: the caller’s agent, read-only as BuildKit forwards it', () => {
  let agent: ChildProcess;
  const sock = join(dir, 'agent.sock');
  beforeAll(async () => {
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
    await sshAdd(sock, key('ed25519'));
  });
  afterAll(() => agent.kill());

  it('lists and signs, but cannot add, remove or lock keys of the caller’s agent', async () => {
    await withAgent(loadSshSource([sock]), async (proxy) => {
      expect((await sshAdd(proxy, '-L')).out).toMatch(pub('ed25519'));
      expect((await sshAdd(proxy, '-D')).ok).toBe(false);
      expect((await sshAdd(proxy, '-d', `${key('ed25519')}.pub`)).ok).toBe(false);
      expect((await sshAdd(proxy, key('rsa'))).ok).toBe(false);
      expect(await exchange(proxy, Buffer.from([22, 0, 0, 0, 0]))).toEqual(Buffer.from([5]));
      const msg = join(dir, 'msg2');
      writeFileSync(msg, 'x');
      await run('ssh-keygen', ['-Y', 'sign', '-f', `${key('ed25519')}.pub`, '-n', 'file', msg], {
        env: { ...process.env, SSH_AUTH_SOCK: proxy },
      });
      expect(existsSync(`${msg}.sig`)).toBe(true);
    });
    // The caller's agent still holds its key, and only it.
    expect((await sshAdd(sock, '-L')).out.trim()).toMatch(
      new RegExp(`^${pub('ed25519').replace(/\+/g, '\\+')}`),
    );
    expect((await sshAdd(sock, '-L')).out.trim().split('\n')).toHaveLength(1);
    expect(() => loadSshSource([sock, key('rsa')])).toThrow('only single socket allowed');
    expect(() => loadSshSource([key('rsa'), sock])).toThrow('invalid combination of keys and sockets');
  });
});
