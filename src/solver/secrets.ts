import { TsbuildError } from '../errors.js';

/** `--secret id=x,src=path` / `id=x,env=VAR` / `id=x` (env var of that name), as buildx takes them. */
export function parseSecrets(specs: string[]): Record<string, { src?: string; env?: string }> {
  const out: Record<string, { src?: string; env?: string }> = {};
  for (const s of specs) {
    const kv = Object.fromEntries(
      s.split(',').map((p) => {
        const i = p.indexOf('=');
        return i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
      }),
    );
    const id = kv.id;
    if (!id)
      throw new TsbuildError('INVALID_SECRET', `invalid --secret ${s}: id is required`, {
        hint: 'use id=NAME,src=FILE or id=NAME,env=VAR',
      });
    const type = kv.type;
    const src = kv.src ?? kv.source;
    if (src !== undefined && type !== 'env') out[id] = { src };
    else if (kv.env !== undefined || type === 'env') out[id] = { env: kv.env ?? src ?? id };
    else out[id] = { env: id };
  }
  return out;
}

/** `--ssh default` or `--ssh id=/path/to/socket`. */
export function parseSsh(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs) {
    const [id, path] = s.split('=', 2) as [string, string | undefined];
    if (path) out[id] = path;
    else if (process.env.SSH_AUTH_SOCK) out[id] = process.env.SSH_AUTH_SOCK;
    else throw new TsbuildError('INVALID_SSH', `--ssh ${s}: no socket given and SSH_AUTH_SOCK is not set`);
  }
  return out;
}
