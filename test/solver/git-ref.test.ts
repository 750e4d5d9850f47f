import { describe, expect, it } from 'vitest';
import { isGitSource, parseGitRef } from '../../src/solver/frontend/git-ref.js';

const repo = 'https://example.com/org/repo.git';

describe('git URLs as BuildKit takes them', () => {
  it('fragments: #ref and #ref:subdir', () => {
    expect(parseGitRef(`${repo}#v1:docs`)).toEqual({ remote: repo, ref: 'v1', subdir: 'docs' });
    expect(parseGitRef(`${repo}#:docs`)).toEqual({ remote: repo, subdir: 'docs' });
    expect(parseGitRef(repo)).toEqual({ remote: repo });
  });

  it('queries (Dockerfile 1.18): ref, tag, branch, subdir, checksum or commit, keep-git-dir, submodules', () => {
    expect(isGitSource(`${repo}?branch=main`)).toBe(true);
    expect(isGitSource('https://example.com/file.txt?x.git')).toBe(false);
    expect(parseGitRef(`${repo}?branch=main&subdir=docs`)).toEqual({
      remote: repo,
      ref: 'refs/heads/main',
      subdir: 'docs',
    });
    expect(parseGitRef(`${repo}?tag=v1.0`)).toEqual({ remote: repo, ref: 'refs/tags/v1.0' });
    expect(parseGitRef(`${repo}?ref=pull/42/head`)).toEqual({ remote: repo, ref: 'pull/42/head' });
    expect(parseGitRef(`${repo}?commit=abc123&keep-git-dir=true&submodules=false`)).toEqual({
      remote: repo,
      checksum: 'abc123',
      keepGitDir: true,
      submodules: false,
    });
    expect(parseGitRef('git@example.com:org/repo.git?tag=v2')).toEqual({
      remote: 'git@example.com:org/repo.git',
      ref: 'refs/tags/v2',
    });
  });

  it('refuses what BuildKit refuses: both forms, unknown or repeated keys, two refs, bad booleans', () => {
    for (const [url, why] of [
      [`${repo}?branch=a#b`, /a #fragment or a \?query, not both/],
      [`${repo}?depth=1`, /unknown query "depth"/],
      [`${repo}?tag=a&tag=b`, /"tag" given twice/],
      [`${repo}?tag=a&branch=b`, /only one of ref, tag and branch/],
      [`${repo}?checksum=aa&commit=bb`, /checksum and commit differ/],
      [`${repo}?keep-git-dir=yes`, /keep-git-dir must be true or false/],
    ] as const)
      expect(() => parseGitRef(url), url).toThrow(why);
  });
});
