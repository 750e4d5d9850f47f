import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { RunnerError } from './errors.js';

/**
 * A private key as an SSH agent holds it: the public key blob it lists (RFC 4253 section 6.6) and a signer
 * that answers SSH_AGENTC_SIGN_REQUEST (draft-miller-ssh-agent section 4.5).
 */
export interface SshKey {
  readonly blob: Buffer;
  sign(data: Buffer, flags: number): Buffer;
}

/** A key file that is not one, in golang.org/x/crypto/ssh's words (what docker prints). */
const keyError = (message: string) => new RunnerError('INVALID_SSH_KEY', message);

// draft-miller-ssh-agent section 4.5.1: the RSA signature algorithm a SIGN_REQUEST's flags ask for.
const RSA_SHA2_256 = 2;
const RSA_SHA2_512 = 4;
const CURVES: Record<string, { ssh: string; hash: string }> = {
  'P-256': { ssh: 'nistp256', hash: 'sha256' },
  'P-384': { ssh: 'nistp384', hash: 'sha384' },
  'P-521': { ssh: 'nistp521', hash: 'sha512' },
};

/** SSH wire `string`: uint32 length, then the bytes. */
export function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

/** SSH wire `mpint` of an unsigned big-endian magnitude: minimal, with a 0 byte if the top bit is set. */
function sshMpint(mag: Buffer): Buffer {
  let i = 0;
  while (i < mag.length && mag[i] === 0) i++;
  const m = mag.subarray(i);
  return sshString(m.length && m[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), m]) : m);
}

/** Reads SSH wire fields in order; a short buffer is a malformed key. */
export class SshReader {
  private off = 0;
  constructor(private readonly buf: Buffer) {}
  uint32(): number {
    if (this.off + 4 > this.buf.length) throw keyError('ssh: short read');
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }
  bytes(): Buffer {
    const n = this.uint32();
    if (this.off + n > this.buf.length) throw keyError('ssh: short read');
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  text(): string {
    return this.bytes().toString('latin1');
  }
  rest(): Buffer {
    return this.buf.subarray(this.off);
  }
}

const b64u = (b: Buffer) => b.toString('base64url');
const unb64u = (s: string | undefined) => Buffer.from(s ?? '', 'base64url');

/** The agent's view of a Node private key: blob from its public half, signatures as OpenSSH makes them. */
function agentKey(key: KeyObject): SshKey {
  const jwk = key.export({ format: 'jwk' });
  if (key.asymmetricKeyType === 'ed25519') {
    return {
      blob: Buffer.concat([sshString('ssh-ed25519'), sshString(unb64u(jwk.x))]),
      sign: (data) => Buffer.concat([sshString('ssh-ed25519'), sshString(sign(null, data, key))]),
    };
  }
  if (key.asymmetricKeyType === 'rsa') {
    return {
      blob: Buffer.concat([sshString('ssh-rsa'), sshMpint(unb64u(jwk.e)), sshMpint(unb64u(jwk.n))]),
      sign: (data, flags) => {
        const [name, hash] =
          flags & RSA_SHA2_512
            ? ['rsa-sha2-512', 'sha512']
            : flags & RSA_SHA2_256
              ? ['rsa-sha2-256', 'sha256']
              : ['ssh-rsa', 'sha1'];
        return Buffer.concat([sshString(name), sshString(sign(hash, data, key))]);
      },
    };
  }
  const curve = key.asymmetricKeyType === 'ec' ? CURVES[jwk.crv ?? ''] : undefined;
  if (!curve) throw keyError(`ssh: unsupported key type "${key.asymmetricKeyType}"`);
  const name = `ecdsa-sha2-${curve.ssh}`;
  const point = Buffer.concat([Buffer.from([4]), unb64u(jwk.x), unb64u(jwk.y)]);
  return {
    blob: Buffer.concat([sshString(name), sshString(curve.ssh), sshString(point)]),
    sign: (data) => {
      const rs = sign(curve.hash, data, { key, dsaEncoding: 'ieee-p1363' });
      const half = rs.length / 2;
      const sig = Buffer.concat([sshMpint(rs.subarray(0, half)), sshMpint(rs.subarray(half))]);
      return Buffer.concat([sshString(name), sshString(sig)]);
    },
  };
}

const big = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`);
const unbig = (n: bigint) => {
  const h = n.toString(16);
  return Buffer.from(h.length % 2 ? `0${h}` : h, 'hex');
};

/** The one key of an unencrypted `openssh-key-v1` file (PROTOCOL.key), as a Node key. */
function openSshKey(raw: Buffer): KeyObject {
  const magic = Buffer.from('openssh-key-v1\0');
  if (!raw.subarray(0, magic.length).equals(magic)) throw keyError('ssh: invalid openssh private key format');
  const r = new SshReader(raw.subarray(magic.length));
  const cipher = r.text();
  const kdf = r.text();
  r.bytes(); // kdf options
  if (cipher !== 'none' || kdf !== 'none') throw keyError('ssh: this private key is passphrase protected');
  if (r.uint32() !== 1) throw keyError('ssh: multi-key files are not supported');
  r.bytes(); // public key: the private section repeats it
  const p = new SshReader(r.bytes());
  const check = p.uint32();
  if (check !== p.uint32()) throw keyError('ssh: checkint mismatch');
  const type = p.text();
  if (type === 'ssh-ed25519') {
    const pub = p.bytes();
    const priv = p.bytes();
    return createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: b64u(pub), d: b64u(priv.subarray(0, 32)) },
      format: 'jwk',
    });
  }
  if (type === 'ssh-rsa') {
    const [n, e, d, iqmp, pp, q] = [p.bytes(), p.bytes(), p.bytes(), p.bytes(), p.bytes(), p.bytes()];
    // JWK wants unsigned magnitudes without the mpint's sign byte; CRT exponents are derived.
    const u = (b: Buffer | bigint) => b64u(unbig(typeof b === 'bigint' ? b : big(b)));
    const dn = big(d);
    const jwk = { kty: 'RSA', n: u(n), e: u(e), d: u(d), p: u(pp), q: u(q), qi: u(iqmp) };
    return createPrivateKey({
      key: { ...jwk, dp: u(dn % (big(pp) - 1n)), dq: u(dn % (big(q) - 1n)) },
      format: 'jwk',
    });
  }
  const crv = Object.keys(CURVES).find((c) => type === `ecdsa-sha2-${CURVES[c]!.ssh}`);
  if (!crv) throw keyError(`ssh: unhandled key type`);
  p.bytes(); // curve name
  const point = p.bytes();
  const d = p.bytes();
  const size = (point.length - 1) / 2;
  const pad = (b: Buffer) => Buffer.concat([Buffer.alloc(Math.max(0, size - b.length)), b]).subarray(-size);
  const [x, y] = [point.subarray(1, 1 + size), point.subarray(1 + size)];
  return createPrivateKey({
    key: { kty: 'EC', crv, x: b64u(x), y: b64u(y), d: b64u(pad(d)) },
    format: 'jwk',
  });
}

/**
 * A private key file as golang.org/x/crypto/ssh's ParseRawPrivateKey reads it (what `docker build
 * --ssh id=KEYFILE` loads into its agent): the first PEM block, `OPENSSH PRIVATE KEY` or PKCS#1,
 * PKCS#8 or SEC1 PEM; an encrypted key is refused, as docker does not ask for its passphrase.
 */
export function parseSshPrivateKey(text: string): SshKey {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw keyError('ssh: no key found');
  const [, type, body] = m as unknown as [string, string, string];
  if (/^Proc-Type:.*ENCRYPTED/m.test(body)) throw keyError('ssh: this private key is passphrase protected');
  if (type === 'OPENSSH PRIVATE KEY') {
    const b64 = body.replace(/^[\w-]+:.*$/gm, '').replace(/\s+/g, '');
    return agentKey(openSshKey(Buffer.from(b64, 'base64')));
  }
  if (!['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY'].includes(type))
    throw keyError(`ssh: unsupported key type "${type}"`);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: m[0], format: 'pem' });
  } catch (e) {
    throw keyError(`ssh: ${(e as Error).message}`);
  }
  return agentKey(key);
}
