/** dockerfile2llb's git source test (gitutil.ParseGitRef): git@, git://, ssh://, or http(s) of a `.git` path. */
export function isGitSource(src: string): boolean {
  return /^(git@|git:\/\/|ssh:\/\/|https?:\/\/[^#]*\.git(#|$))/.test(src);
}

/** `URL#ref:subdir` split as BuildKit's git references are (ADD sources and build contexts alike). */
export function parseGitRef(src: string): { remote: string; ref?: string; subdir?: string } {
  const hash = src.indexOf('#');
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

/** docker build's remote contexts: a git repository, or any other http(s) URL (a tarball, a Dockerfile). */
export function isRemoteContext(context: string): boolean {
  return isGitSource(context) || /^https?:\/\//.test(context);
}
