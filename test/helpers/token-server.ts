import { execFileSync } from 'node:child_process';
import { createSign, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A Docker-style token server for tests: `GET /token?service=&scope=` with optional Basic auth
 * returns a JWT (RS256, x5c = a self-signed cert the registry trusts via auth.token.rootcertbundle).
 * Known users get pull+push on every repository; anonymous gets pull only if `anonymousPull`.
 */
export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  certPath: string;
  /** Every token request seen: for asserting scopes and caching. */
  requests: { account?: string; scopes: string[]; authorized: boolean }[];
  stop(): Promise<void>;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

export function makeCert(dir: string): { certPath: string; keyPath: string; der: Buffer } {
  const certPath = join(dir, 'token.crt');
  const keyPath = join(dir, 'token.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=tsbuild-test-token',
    ],
    { stdio: 'ignore' },
  );
  const pem = readFileSync(certPath, 'utf8');
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return { certPath, keyPath, der };
}

export async function startTokenServer(
  dir: string,
  opts: { users: Record<string, string>; anonymousPull?: boolean; expiresIn?: number },
): Promise<TokenServer> {
  const { certPath, keyPath, der } = makeCert(dir);
  const key = readFileSync(keyPath, 'utf8');
  const service = 'tsbuild-test-registry';
  const issuer = 'tsbuild-test-issuer';
  const requests: TokenServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    let account: string | undefined;
    let authorized = false;
    const h = req.headers.authorization;
    if (h?.startsWith('Basic ')) {
      const dec = Buffer.from(h.slice(6), 'base64').toString();
      const i = dec.indexOf(':');
      account = dec.slice(0, i);
      if (opts.users[account] === undefined || opts.users[account] !== dec.slice(i + 1)) {
        requests.push({ account, scopes, authorized: false });
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }] }),
        );
        return;
      }
      authorized = true;
    }
    requests.push({ ...(account ? { account } : {}), scopes, authorized });
    const access = scopes.flatMap((s) => {
      const [type, ...rest] = s.split(':');
      const actions = rest.pop()!.split(',');
      const name = rest.join(':');
      const granted = authorized
        ? actions.filter((a) => a === 'pull' || a === 'push' || a === '*')
        : opts.anonymousPull
          ? actions.filter((a) => a === 'pull')
          : [];
      return granted.length ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresIn ?? 300;
    const header = { alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] };
    const claims = {
      iss: issuer,
      sub: account ?? '',
      aud: service,
      exp: now + expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(signing).sign(key);
    const token = `${signing}.${b64url(sig)}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    stop: () => new Promise((r) => server.close(() => r())),
  };
}
