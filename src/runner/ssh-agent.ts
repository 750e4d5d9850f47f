import { closeSync, openSync, readSync, type Stats, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { errnoText } from '../errors.js';
import { RunnerError } from './errors.js';
import { parseSshPrivateKey, type SshKey, SshReader, sshString } from './ssh-keys.js';

/** What `--ssh ID=...` names: the caller's agent socket, or key files served by an agent of our own. */
export type SshSource = { socket: string } | { keys: SshKey[] };

// draft-miller-ssh-agent section 5.1 message numbers.
const FAILURE = 5;
const REQUEST_V1_IDENTITIES = 1;
const V1_IDENTITIES_ANSWER = 2;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;
const UNLOCK = 23;
// OpenSSH's ssh-agent refuses longer requests (AGENT_MAX_LEN); x/crypto's agent client, longer replies.
const MAX_REQUEST = 256 * 1024;
const MAX_REPLY = 16 << 20;

/** Length-prefixed agent messages read off a socket one at a time; null once it ends. */
class FrameReader {
  private buf = Buffer.alloc(0);
  private waiter: ((b: Buffer | null) => void) | undefined;
  private done = false;

  constructor(
    private readonly sock: Socket,
    private readonly max: number,
  ) {
    sock.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      if (this.buf.length > this.max + 4) sock.destroy();
      this.wake();
    });
    sock.on('close', () => {
      this.done = true;
      this.wake();
    });
  }

  next(): Promise<Buffer | null> {
    return new Promise((resolve) => {
      this.waiter = resolve;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiter;
    if (!w) return;
    const n = this.buf.length >= 4 ? this.buf.readUInt32BE(0) : -1;
    if (n > this.max) this.sock.destroy();
    if (n >= 0 && n <= this.max && this.buf.length >= 4 + n) {
      this.waiter = undefined;
      const msg = this.buf.subarray(4, 4 + n);
      this.buf = this.buf.subarray(4 + n);
      w(msg);
    } else if (this.done || this.sock.destroyed) {
      this.waiter = undefined;
      w(null);
    }
  }
}

// An agent message goes on the wire as an SSH string: uint32 length, then the bytes (sshString).
const failure = () => Buffer.from([FAILURE]);

/** An agent holding `keys`, as x/crypto's keyring: it lists and signs, and changes nothing. */
function keyringAnswer(keys: SshKey[], req: Buffer): Buffer {
  if (req[0] === REQUEST_V1_IDENTITIES) return Buffer.from([V1_IDENTITIES_ANSWER, 0, 0, 0, 0]);
  if (req[0] === REQUEST_IDENTITIES) {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(keys.length);
    const list = keys.map((k) => Buffer.concat([sshString(k.blob), sshString('')]));
    return Buffer.concat([Buffer.from([IDENTITIES_ANSWER]), count, ...list]);
  }
  if (req[0] !== SIGN_REQUEST) return failure();
  try {
    const r = new SshReader(req.subarray(1));
    const blob = r.bytes();
    const data = r.bytes();
    const flags = r.rest().length >= 4 ? r.uint32() : 0;
    const key = keys.find((k) => k.blob.equals(blob));
    return key ? Buffer.concat([Buffer.from([SIGN_RESPONSE]), sshString(key.sign(data, flags))]) : failure();
  } catch {
    return failure();
  }
}

/**
 * Serves one connection of a step to its ssh mount. For key files the answers are our own; for an
 * agent socket only listing, signing (and unlocking) reach it, over one connection to the agent per
 * connection of the step, opened at its first request. That is BuildKit's readOnlyAgent: a RUN
 * cannot add, remove or lock the keys of the caller's agent (`ssh-add -D`) or call its extensions.
 */
export function serveAgentConnection(source: SshSource, client: Socket): void {
  const requests = new FrameReader(client, MAX_REQUEST);
  let upstream: { sock: Socket; replies: FrameReader } | undefined;
  const forward = async (req: Buffer): Promise<Buffer | null> => {
    if (!('socket' in source)) return keyringAnswer(source.keys, req);
    if (![REQUEST_V1_IDENTITIES, REQUEST_IDENTITIES, SIGN_REQUEST, UNLOCK].includes(req[0]!))
      return failure();
    if (!upstream) {
      const sock = createConnection(source.socket);
      sock.on('error', () => sock.destroy());
      upstream = { sock, replies: new FrameReader(sock, MAX_REPLY) };
    }
    upstream.sock.write(sshString(req));
    return upstream.replies.next();
  };
  client.on('error', () => client.destroy());
  client.on('close', () => upstream?.sock.destroy());
  void (async () => {
    for (let req = await requests.next(); req; req = await requests.next()) {
      const reply = req.length ? await forward(req) : failure();
      if (!reply) break;
      client.write(sshString(reply));
    }
    client.destroy();
  })();
}

const sshError = (message: string) => new RunnerError('INVALID_SSH', message);

/**
 * `--ssh ID=PATH[,PATH...]` as BuildKit's sshprovider reads it when the build starts: one agent socket,
 * or private key files (up to 100 KiB each) for an agent of our own, never both. Errors are Go's
 * words, as docker prints them after "could not parse ssh: [...]:".
 */
export function loadSshSource(paths: string[]): SshSource {
  let socket: string | undefined;
  const keys: SshKey[] = [];
  for (const p of paths) {
    if (socket !== undefined) throw sshError('only single socket allowed');
    let st: Stats;
    try {
      st = statSync(p);
    } catch (e) {
      throw sshError(`stat ${p}: ${errnoText(e)}`);
    }
    if (st.isSocket()) {
      socket = p;
      continue;
    }
    keys.push(parseKeyFile(p));
  }
  if (socket === undefined) return { keys };
  if (keys.length) throw sshError('invalid combination of keys and sockets');
  return { socket };
}

function parseKeyFile(p: string): SshKey {
  let text: string;
  let fd: number;
  try {
    fd = openSync(p, 'r');
  } catch (e) {
    throw sshError(`failed to open ${p}: open ${p}: ${errnoText(e)}`);
  }
  try {
    const buf = Buffer.alloc(100 * 1024);
    text = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('latin1');
  } catch (e) {
    throw sshError(`failed to read ${p}: read ${p}: ${errnoText(e)}`);
  } finally {
    closeSync(fd);
  }
  try {
    return parseSshPrivateKey(text);
  } catch (e) {
    throw sshError(`failed to parse ${p}: ${(e as Error).message}`);
  }
}
