import { type Stats, statSync } from 'node:fs';
import { errnoText, TsbuildError } from '../errors.js';
import { loadSshSource, MAX_SECRET_BYTES, type SshSource } from '../runner/index.js';

/**
 * `--secret id=x,src=path` / `id=x,env=VAR` / `id=x` (the env var x if set, else the file x), as
 * docker's CLI and buildx take them: every field `key=value`, a file that must exist and be small.
 */
export function parseSecrets(specs: string[]): Record<string, { src?: string; env?: string }> {
  const out: Record<string, { src?: string; env?: string }> = {};
  for (const s of specs) {
    const bad = (why: string) =>
      new TsbuildError('INVALID_SECRET', `could not parse secrets: [${specs.join(' ')}]: ${why}`, {
        hint: 'use id=NAME,src=FILE or id=NAME,env=VAR',
      });
    const kv: Record<string, string> = {};
    for (const field of s.split(',')) {
      const i = field.indexOf('=');
      if (i < 0) throw bad(`invalid field '${field}' must be a key=value pair`);
      const key = field.slice(0, i).toLowerCase();
      if (!['type', 'id', 'src', 'source', 'env'].includes(key))
        throw bad(`unexpected key '${key}' in '${field}'`);
      kv[key] = field.slice(i + 1);
    }
    if (kv.type !== undefined && kv.type !== 'file' && kv.type !== 'env')
      throw bad(`unsupported secret type "${kv.type}"`);
    const id = kv.id;
    if (!id) throw bad('secret missing ID');
    let src: string | undefined = kv.src ?? kv.source;
    let env: string | undefined = kv.env;
    if (kv.type === 'env' && env === undefined) {
      env = src;
      src = undefined;
    }
    if (env === undefined && src === undefined) {
      if (process.env[id] !== undefined) env = id;
      else src = id;
    }
    if (src !== undefined) {
      let st: Stats;
      try {
        st = statSync(src);
      } catch (e) {
        throw bad(`failed to stat ${src}: stat ${src}: ${errnoText(e)}`);
      }
      // BuildKit's secretsprovider limit, checked as the CLI starts (the step reads the file again).
      if (st.size > MAX_SECRET_BYTES) throw bad(`secret ${id} too big. max size 500KB`);
      out[id] = { src };
    } else out[id] = { env: env! };
  }
  return out;
}

/**
 * `--ssh default`, `--ssh ID` (both $SSH_AUTH_SOCK) or `--ssh ID=PATH[,PATH...]` (an agent socket or
 * private key files), read when the build starts as docker's CLI and BuildKit's sshprovider do.
 */
export function parseSsh(specs: string[]): Record<string, SshSource> {
  const out: Record<string, SshSource> = {};
  for (const s of specs) {
    const bad = (why: string) =>
      new TsbuildError('INVALID_SSH', `could not parse ssh: [${specs.join(' ')}]: ${why}`, {
        hint: 'use --ssh default (with SSH_AUTH_SOCK set), --ssh ID=SOCKET or --ssh ID=KEYFILE[,KEYFILE...]',
      });
    const eq = s.indexOf('=');
    const id = (eq < 0 ? s : s.slice(0, eq)) || 'default';
    let paths = eq < 0 ? [] : s.slice(eq + 1).split(',');
    if (paths.length === 0 || (paths.length === 1 && paths[0] === ''))
      paths = [process.env.SSH_AUTH_SOCK ?? ''];
    if (paths[0] === '') throw bad('invalid empty ssh agent socket, make sure SSH_AUTH_SOCK is set');
    if (out[id]) throw bad(`invalid duplicate ID ${id}`);
    try {
      out[id] = loadSshSource(paths);
    } catch (e) {
      throw bad((e as Error).message);
    }
  }
  return out;
}
