import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TsbuildError } from '../errors.js';

/** Credentials for one registry: a user and password, or an identity (refresh) token. */
export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [k: string]: unknown;
}

/** Docker Hub's credentials live under this legacy key, whatever host name the user typed. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/';
const HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

export function dockerConfigDir(dir?: string, env: NodeJS.ProcessEnv = process.env): string {
  return dir ?? env.DOCKER_CONFIG ?? join(homedir(), '.docker');
}

/** The key a registry's credentials are stored under (docker's `registry.GetAuthConfigKey`). */
export function authKey(registry: string): string {
  return HUB_ALIASES.has(registry) ? DOCKER_HUB_AUTH_KEY : registry;
}

/** `https://host:5000/v1/` → `host:5000`, as docker's ConvertToHostname. */
function toHostname(key: string): string {
  let k = key.replace(/^https?:\/\//, '');
  k = k.split('/')[0]!;
  return HUB_ALIASES.has(k) ? 'docker.io' : k;
}

export async function readDockerConfig(dir?: string): Promise<DockerConfigFile> {
  const file = join(dockerConfigDir(dir), 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new TsbuildError('DOCKER_CONFIG', `cannot read ${file}`, { cause: e });
  }
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as DockerConfigFile) : {};
  } catch (cause) {
    throw new TsbuildError('DOCKER_CONFIG', `${file} is not valid JSON`, {
      cause,
      hint: 'fix or remove the file',
    });
  }
}

async function writeDockerConfig(cfg: DockerConfigFile, dir?: string): Promise<void> {
  const d = dockerConfigDir(dir);
  await mkdir(d, { recursive: true, mode: 0o700 });
  const file = join(d, 'config.json');
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

function decodeEntry(e: AuthEntry): Credentials | undefined {
  if (e.identitytoken)
    return { identityToken: e.identitytoken, ...(e.username ? { username: e.username } : {}) };
  if (e.auth) {
    const dec = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i < 0) throw new TsbuildError('DOCKER_CONFIG', 'invalid "auth" entry in docker config.json (no ":")');
    return { username: dec.slice(0, i), password: dec.slice(i + 1) };
  }
  if (e.username && e.password) return { username: e.username, password: e.password };
  return undefined;
}

/** Runs `docker-credential-<helper> <action>` with `input` on stdin. */
export function runCredentialHelper(
  helper: string,
  action: 'get' | 'store' | 'erase',
  input: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const bin = `docker-credential-${helper}`;
    const p = spawn(bin, [action], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      err += d;
    });
    p.on('error', (cause) =>
      reject(
        new TsbuildError('CREDENTIAL_HELPER', `cannot run ${bin}`, {
          cause,
          hint: `install ${bin} on PATH or remove it from credHelpers/credsStore in config.json`,
        }),
      ),
    );
    p.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new TsbuildError('CREDENTIAL_HELPER', `${bin} ${action} failed: ${(out + err).trim()}`));
    });
    p.stdin.end(input);
  });
}

/** Looks up credentials for a registry host: credHelpers, then credsStore, then auths. */
export async function getCredentials(registry: string, dir?: string): Promise<Credentials | undefined> {
  const cfg = await readDockerConfig(dir);
  const key = authKey(registry);
  const helper = cfg.credHelpers?.[registry] ?? cfg.credHelpers?.[key] ?? cfg.credsStore;
  if (helper) {
    try {
      const out = await runCredentialHelper(helper, 'get', key);
      const j = JSON.parse(out) as { Username?: string; Secret?: string };
      if (j.Username === '<token>') return { identityToken: j.Secret ?? '' };
      if (j.Secret) return { username: j.Username ?? '', password: j.Secret };
    } catch (e) {
      // "credentials not found" is the helper's normal answer for an unknown host
      if (!/not found/i.test((e as Error).message)) throw e;
    }
    if (cfg.credHelpers?.[registry] ?? cfg.credHelpers?.[key]) return undefined;
  }
  const auths = cfg.auths ?? {};
  const direct = auths[key];
  if (direct) return decodeEntry(direct);
  for (const [k, e] of Object.entries(auths)) if (toHostname(k) === toHostname(key)) return decodeEntry(e);
  return undefined;
}

/** Stores credentials like `docker login`: through the helper if one is configured, else base64 in auths. */
export async function storeCredentials(registry: string, creds: Credentials, dir?: string): Promise<void> {
  const cfg = await readDockerConfig(dir);
  const key = authKey(registry);
  const helper = cfg.credHelpers?.[registry] ?? cfg.credHelpers?.[key] ?? cfg.credsStore;
  if (helper) {
    const payload = creds.identityToken
      ? { ServerURL: key, Username: '<token>', Secret: creds.identityToken }
      : { ServerURL: key, Username: creds.username ?? '', Secret: creds.password ?? '' };
    await runCredentialHelper(helper, 'store', JSON.stringify(payload));
    cfg.auths = { ...cfg.auths, [key]: {} };
  } else {
    const entry: AuthEntry = creds.identityToken
      ? { identitytoken: creds.identityToken }
      : { auth: Buffer.from(`${creds.username ?? ''}:${creds.password ?? ''}`).toString('base64') };
    cfg.auths = { ...cfg.auths, [key]: entry };
  }
  await writeDockerConfig(cfg, dir);
}

/** Removes credentials like `docker logout`; returns false if there were none. */
export async function removeCredentials(registry: string, dir?: string): Promise<boolean> {
  const cfg = await readDockerConfig(dir);
  const key = authKey(registry);
  let found = false;
  const helper = cfg.credHelpers?.[registry] ?? cfg.credHelpers?.[key] ?? cfg.credsStore;
  if (helper) {
    try {
      await runCredentialHelper(helper, 'erase', key);
      found = true;
    } catch (e) {
      if (!/not found/i.test((e as Error).message)) throw e;
    }
  }
  for (const k of Object.keys(cfg.auths ?? {})) {
    if (toHostname(k) === toHostname(key)) {
      delete cfg.auths![k];
      found = true;
    }
  }
  if (found) await writeDockerConfig(cfg, dir);
  return found;
}
