import { TsbuildError } from '../errors.js';
import { type Challenge, parseWwwAuthenticate } from './auth-challenge.js';
import type { Credentials } from './docker-config.js';
import { type HttpResponse, header, httpRequest, readSmall } from './http.js';
import { RegistryError, registryErrorFrom } from './registry-error.js';

interface CachedToken {
  value: string;
  expiresAt: number;
}

/**
 * Per-registry authentication: the challenge learned from `/v2/`, credentials (lazily looked up),
 * and bearer tokens cached per scope set. Tokens are refreshed ahead of expiry and on a 401.
 */
export class HostAuth {
  challenge: Challenge | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<string>>();
  private creds: Promise<Credentials | undefined> | undefined;

  constructor(
    readonly host: string,
    private readonly lookup: () => Promise<Credentials | undefined>,
    private readonly timeoutMs: number,
    private readonly userAgent: string,
    /** The registry is spoken to over HTTPS. */
    private readonly secure = false,
    private readonly isInsecure: (host: string) => boolean = () => true,
    private readonly certsDir?: string,
  ) {}

  credentials(): Promise<Credentials | undefined> {
    this.creds ??= this.lookup();
    return this.creds;
  }

  /** Uses these credentials instead of config.json's (login checks them before saving). */
  useCredentials(c: Credentials): void {
    this.creds = Promise.resolve(c);
    this.tokens.clear();
  }

  /** Learns the auth scheme from a 401's WWW-Authenticate. */
  learn(res: HttpResponse): void {
    const v = header(res, 'www-authenticate');
    if (!v) return;
    const chs = parseWwwAuthenticate(v);
    this.challenge =
      chs.find((c) => c.scheme === 'bearer') ?? chs.find((c) => c.scheme === 'basic') ?? this.challenge;
  }

  /** Forgets the token for these scopes (after a 401 with it). */
  invalidate(scopes: string[]): void {
    this.tokens.delete(scopes.slice().sort().join(' '));
  }

  /** The Authorization header for a request needing `scopes`, or undefined for anonymous registries. */
  async authorization(scopes: string[], signal?: AbortSignal): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') {
      const c = await this.credentials();
      if (!c?.username) return undefined;
      return `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
    }
    if (ch.scheme !== 'bearer') {
      throw new TsbuildError(
        'UNSUPPORTED_AUTH',
        `registry ${this.host} asks for "${ch.scheme}" authentication`,
      );
    }
    const key = scopes.slice().sort().join(' ');
    const t = this.tokens.get(key);
    if (t && t.expiresAt > Date.now()) return `Bearer ${t.value}`;
    let p = this.pending.get(key);
    if (!p) {
      p = this.fetchToken(ch, scopes, signal).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return `Bearer ${await p}`;
  }

  private async fetchToken(ch: Challenge, scopes: string[], signal?: AbortSignal): Promise<string> {
    const url = this.tokenUrl(ch);
    if (ch.params.service) url.searchParams.set('service', ch.params.service);
    for (const s of scopes) url.searchParams.append('scope', s);
    const c = await this.credentials();
    const res = await this.requestToken(url, ch, scopes, c, signal);
    const body = await readSmall(res, 1024 * 1024);
    if (res.status === 401 || res.status === 403) {
      const e = registryErrorFrom(res.status, body, `authentication to ${this.host} failed`);
      throw new RegistryError(res.status, 'UNAUTHORIZED', `${e.message}`, {
        hint: c
          ? `the token server rejected the credentials for ${this.host}: check the user and password (\`tsbuild login ${this.host}\`)`
          : `log in with \`tsbuild login ${this.host}\``,
      });
    }
    if (res.status !== 200) throw registryErrorFrom(res.status, body, `token request to ${url.host} failed`);
    let j: { token?: string; access_token?: string; expires_in?: number };
    try {
      j = JSON.parse(body.toString('utf8'));
    } catch (cause) {
      throw new TsbuildError('UNSUPPORTED_AUTH', `token server ${url.host} did not answer JSON`, { cause });
    }
    const value = j.token ?? j.access_token;
    if (!value) throw new TsbuildError('UNSUPPORTED_AUTH', `token server ${url.host} sent no token`);
    // Spec default lifetime is 60 s; renew 10 s early so a long push never sends a dead token.
    const life = Math.max(10, (typeof j.expires_in === 'number' ? j.expires_in : 60) - 10);
    this.tokens.set(scopes.slice().sort().join(' '), { value, expiresAt: Date.now() + life * 1000 });
    return value;
  }

  /** The challenge's realm, checked: an http(s) URL, and not plain HTTP behind a TLS registry. */
  private tokenUrl(ch: Challenge): URL {
    const realm = ch.params.realm;
    if (!realm)
      throw new TsbuildError(
        'UNSUPPORTED_AUTH',
        `registry ${this.host} sent a Bearer challenge without realm`,
      );
    let url: URL;
    try {
      url = new URL(realm);
    } catch (cause) {
      throw new TsbuildError('UNSUPPORTED_AUTH', `registry ${this.host} sent an invalid token realm`, {
        cause,
      });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new TsbuildError(
        'UNSUPPORTED_AUTH',
        `registry ${this.host} sent a token realm that is not http(s)`,
      );
    }
    if (url.protocol === 'http:' && this.secure && !this.isInsecure(url.host)) {
      // A TLS registry must not make us send credentials in the clear to its token server.
      throw new TsbuildError(
        'UNSUPPORTED_AUTH',
        `registry ${this.host} asks for a token over plain HTTP (${url.origin})`,
        {
          hint: 'refusing to send credentials unencrypted; add the token server to --insecure-registry if this is intended',
        },
      );
    }
    return url;
  }

  /** An identity token is an OAuth2 refresh token (POST, as docker does); else GET with basic auth. */
  private requestToken(
    url: URL,
    ch: Challenge,
    scopes: string[],
    c: Credentials | undefined,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent };
    const common = {
      timeoutMs: this.timeoutMs,
      ...(this.certsDir ? { certsDir: this.certsDir } : {}),
      insecureTls: url.protocol === 'https:' && this.isInsecure(url.host),
      ...(signal ? { signal } : {}),
    };
    if (c?.identityToken) {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: c.identityToken,
        client_id: 'tsbuild',
      });
      if (ch.params.service) form.set('service', ch.params.service);
      form.set('scope', scopes.join(' '));
      return httpRequest({
        method: 'POST',
        // the realm as sent: the scope and service go in the form
        url: new URL(ch.params.realm as string),
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: Buffer.from(form.toString()),
        ...common,
      });
    }
    if (c?.username) {
      headers.authorization = `Basic ${Buffer.from(`${c.username}:${c.password ?? ''}`).toString('base64')}`;
      url.searchParams.set('account', c.username);
    }
    return httpRequest({ method: 'GET', url, headers, ...common });
  }
}
