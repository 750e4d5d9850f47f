import { TsbuildError } from '../../errors.js';

/**
 * dockerfile2llb's git source test (gitutil.ParseGitRef): git@, git://, ssh://, or http(s) of a
 * `.git` path (followed by a `#fragment` or, since Dockerfile 1.18, a `?query`).
 */
export function isGitSource(src: string): boolean {
  return /^(git@|git:\/\/|ssh:\/\/|https?:\/\/[^#?]*\.git([#?]|$))/.test(src);
}

/** A git URL taken apart: what the git source (ADD, or a remote build context) fetches. */
export interface GitRef {
  remote: string;
  ref?: string;
  subdir?: string;
  /** `?checksum=` (or `?commit=`): the commit the ref must resolve to. */
  checksum?: string;
  /** `?keep-git-dir=true` */
  keepGitDir?: boolean;
  /** `?submodules=false`: the checkout without its submodules. */
  submodules?: false;
}

const QUERY_KEYS = new Set([
  'ref',
  'tag',
  'branch',
  'checksum',
  'commit',
  'subdir',
  'keep-git-dir',
  'submodules',
]);

/**
 * `URL#ref:subdir`, or `URL?branch=…&subdir=…` (BuildKit >= 0.24, Dockerfile 1.18: `ref`, `tag`,
 * `branch`, `checksum` or `commit`, `subdir`, `keep-git-dir`, `submodules`), split as BuildKit's git
 * references are (ADD sources and build contexts alike). A URL with both, an unknown key, a key
 * given twice, or two of ref/tag/branch is refused, as BuildKit refuses them.
 */
export function parseGitRef(src: string): GitRef {
  const hash = src.indexOf('#');
  const q = src.indexOf('?');
  if (q >= 0 && (hash < 0 || q < hash)) {
    if (hash >= 0) throw bad(src, 'a git URL takes a #fragment or a ?query, not both');
    return fromQuery(src.slice(0, q), new URLSearchParams(src.slice(q + 1)), src);
  }
  const fragment = hash < 0 ? '' : src.slice(hash + 1);
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  return {
    remote: hash < 0 ? src : src.slice(0, hash),
    ...(ref ? { ref } : {}),
    ...(subdir ? { subdir } : {}),
  };
}

function fromQuery(remote: string, params: URLSearchParams, src: string): GitRef {
  for (const k of new Set(params.keys())) {
    if (!QUERY_KEYS.has(k)) throw bad(src, `unknown query "${k}"`);
    if (params.getAll(k).length > 1) throw bad(src, `"${k}" given twice`);
  }
  const get = (k: string) => params.get(k) ?? undefined;
  const refs = [
    get('ref'),
    get('tag') && `refs/tags/${get('tag')}`,
    get('branch') && `refs/heads/${get('branch')}`,
  ];
  const given = refs.filter((r): r is string => !!r);
  if (given.length > 1) throw bad(src, 'only one of ref, tag and branch may be given');
  const [checksum, commit] = [get('checksum'), get('commit')];
  if (checksum && commit && checksum !== commit) throw bad(src, 'checksum and commit differ');
  const flag = (k: string) => {
    const v = get(k);
    if (v === undefined) return undefined;
    if (!/^(true|false|1|0)$/i.test(v)) throw bad(src, `${k} must be true or false, not "${v}"`);
    return /^(true|1)$/i.test(v);
  };
  const keep = flag('keep-git-dir');
  const subdir = get('subdir');
  return {
    remote,
    ...(given[0] ? { ref: given[0] } : {}),
    ...(subdir ? { subdir } : {}),
    ...(checksum || commit ? { checksum: (checksum ?? commit) as string } : {}),
    ...(keep ? { keepGitDir: true } : {}),
    ...(flag('submodules') === false ? { submodules: false as const } : {}),
  };
}

function bad(src: string, why: string): TsbuildError {
  return new TsbuildError('INVALID_GIT_URL', `invalid git URL ${src}: ${why}`, {
    hint: 'URL#ref:subdir, or URL?ref=…|tag=…|branch=…&subdir=…&checksum=…&keep-git-dir=…&submodules=…',
  });
}

/** docker build's remote contexts: a git repository, or any other http(s) URL (a tarball, a Dockerfile). */
export function isRemoteContext(context: string): boolean {
  return isGitSource(context) || /^https?:\/\//.test(context);
}
