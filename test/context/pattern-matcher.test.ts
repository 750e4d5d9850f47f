import { describe, expect, it } from 'vitest';
import { cleanPath, PatternMatcher } from '../../src/context/pattern-matcher.js';

// Ported from moby/patternmatcher patternmatcher_test.go (TestMatches, TestMatch, multi-pattern cases).
type Pass = 'fail' | 'exact' | 'inexact';
const tests: [string, string, Pass][] = [
  ['**', 'file', 'exact'],
  ['**', 'file/', 'exact'],
  ['**/', 'file', 'exact'],
  ['**/', 'file/', 'exact'],
  ['**', '/', 'exact'],
  ['**/', '/', 'exact'],
  ['**', 'dir/file', 'exact'],
  ['**/', 'dir/file', 'exact'],
  ['**', 'dir/file/', 'exact'],
  ['**/', 'dir/file/', 'exact'],
  ['**/**', 'dir/file', 'exact'],
  ['**/**', 'dir/file/', 'exact'],
  ['dir/**', 'dir/file', 'exact'],
  ['dir/**', 'dir/file/', 'exact'],
  ['dir/**', 'dir/dir2/file', 'exact'],
  ['dir/**', 'dir/dir2/file/', 'exact'],
  ['**/dir', 'dir', 'exact'],
  ['**/dir', 'dir/file', 'inexact'],
  ['**/dir2/*', 'dir/dir2/file', 'exact'],
  ['**/dir2/*', 'dir/dir2/file/', 'inexact'],
  ['**/dir2/**', 'dir/dir2/dir3/file', 'exact'],
  ['**/dir2/**', 'dir/dir2/dir3/file/', 'exact'],
  ['**file', 'file', 'exact'],
  ['**file', 'dir/file', 'exact'],
  ['**/file', 'dir/file', 'exact'],
  ['**file', 'dir/dir/file', 'exact'],
  ['**/file', 'dir/dir/file', 'exact'],
  ['**/file*', 'dir/dir/file', 'exact'],
  ['**/file*', 'dir/dir/file.txt', 'exact'],
  ['**/file*txt', 'dir/dir/file.txt', 'exact'],
  ['**/file*.txt', 'dir/dir/file.txt', 'exact'],
  ['**/file*.txt*', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt2', 'dir/dir/file.txt', 'fail'],
  ['**/*.txt', 'file.txt', 'exact'],
  ['**/**/*.txt', 'file.txt', 'exact'],
  ['a**/*.txt', 'a/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/dir/file.txt', 'exact'],
  ['a/*.txt', 'a/dir/file.txt', 'fail'],
  ['a/*.txt', 'a/file.txt', 'exact'],
  ['a/*.txt**', 'a/file.txt', 'exact'],
  ['a[b-d]e', 'ae', 'fail'],
  ['a[b-d]e', 'ace', 'exact'],
  ['a[b-d]e', 'aae', 'fail'],
  ['a[^b-d]e', 'aze', 'exact'],
  ['.*', '.foo', 'exact'],
  ['.*', 'foo', 'fail'],
  ['abc.def', 'abcdef', 'fail'],
  ['abc.def', 'abc.def', 'exact'],
  ['abc.def', 'abcZdef', 'fail'],
  ['abc?def', 'abcZdef', 'exact'],
  ['abc?def', 'abcdef', 'fail'],
  ['**/foo/bar', 'foo/bar', 'exact'],
  ['**/foo/bar', 'dir/foo/bar', 'exact'],
  ['**/foo/bar', 'dir/dir2/foo/bar', 'exact'],
  ['abc/**', 'abc', 'fail'],
  ['abc/**', 'abc/def', 'exact'],
  ['abc/**', 'abc/def/ghi', 'exact'],
  ['**/.foo', '.foo', 'exact'],
  ['**/.foo', 'bar.foo', 'fail'],
  ['a(b)c/def', 'a(b)c/def', 'exact'],
  ['a(b)c/def', 'a(b)c/xyz', 'fail'],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', 'exact'],
  [
    'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl',
    'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl',
    'exact',
  ],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['a\\\\', 'a\\', 'exact'],
  ['a\\*b', 'a*b', 'exact'],
];
const multi: [string[], string, Pass][] = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', 'fail'],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', 'exact'],
  [
    ['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'],
    'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl',
    'fail',
  ],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'fail'],
];

function viaParents(pm: PatternMatcher, text: string): boolean {
  const parent = text.split('/').slice(0, -1);
  let info: boolean[] | undefined = [];
  if (parent.length > 0 && parent.join('/') !== '') {
    for (let i = 0; i < parent.length; i++)
      info = pm.matchesUsingParentResults(parent.slice(0, i + 1).join('/'), info).info;
  }
  return pm.matchesUsingParentResults(text, info).matched;
}

describe('PatternMatcher (moby/patternmatcher semantics)', () => {
  it.each(tests)('MatchesExact %s ~ %s → %s', (pattern, text, pass) => {
    expect(new PatternMatcher([pattern]).matchesExact(text)).toBe(pass === 'exact');
  });
  it.each([...tests.map(([p, t, r]) => [[p], t, r] as [string[], string, Pass]), ...multi])(
    'MatchesOrParentMatches / UsingParentResults %j ~ %s → %s',
    (patterns, text, pass) => {
      const pm = new PatternMatcher(patterns);
      expect(pm.matchesOrParentMatches(text)).toBe(pass !== 'fail');
      expect(viaParents(pm, text)).toBe(pass !== 'fail');
      expect(pm.matchesUsingParentResults(text, []).matched).toBe(pass !== 'fail');
    },
  );

  // Go's filepath.Match table, as moby runs it through Matches().
  const matchTests: [string, string, boolean | 'error'][] = [
    ['abc', 'abc', true],
    ['*', 'abc', true],
    ['*c', 'abc', true],
    ['a*', 'a', true],
    ['a*', 'abc', true],
    ['a*', 'ab/c', true],
    ['a*/b', 'abc/b', true],
    ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
    ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true],
    ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true],
    ['ab[b-d]', 'abc', true],
    ['ab[e-g]', 'abc', false],
    ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false],
    ['ab[^e-g]', 'abc', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true],
    ['a[^a]b', 'a☺b', true],
    ['a???b', 'a☺b', false],
    ['a[^a][^a][^a]b', 'a☺b', false],
    ['[a-ζ]*', 'α', true],
    ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false],
    ['a*b', 'a/b', false],
    ['[\\]a]', ']', true],
    ['[\\-]', '-', true],
    ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true],
    ['[x\\-]', 'z', false],
    ['[\\-x]', 'x', true],
    ['[\\-x]', '-', true],
    ['[\\-x]', 'a', false],
    ['[]a]', ']', 'error'],
    ['[-]', '-', 'error'],
    ['[x-]', 'x', 'error'],
    ['[x-]', '-', 'error'],
    ['[x-]', 'z', 'error'],
    ['[-x]', 'x', 'error'],
    ['[-x]', '-', 'error'],
    ['[-x]', 'a', 'error'],
    ['\\', 'a', 'error'],
    ['[a-b-c]', 'a', 'error'],
    ['[', 'a', 'error'],
    ['[^', 'a', 'error'],
    ['[^bc', 'a', 'error'],
    ['a[', 'a', 'error'],
    ['a[', 'ab', 'error'],
    ['*x', 'xxx', true],
  ];
  it.each(matchTests)('filepath.Match table %s ~ %s → %s', (pattern, text, want) => {
    if (want === 'error') {
      expect(() => new PatternMatcher([pattern])).toThrow(/pattern/);
      return;
    }
    expect(new PatternMatcher([pattern]).matchesOrParentMatches(cleanPath(text))).toBe(want);
  });

  it('folder patterns and exceptions', () => {
    expect(new PatternMatcher(['docs', '!docs/README.md']).matchesOrParentMatches('docs/README.md')).toBe(
      false,
    );
    expect(new PatternMatcher(['docs/', '!docs/README.md']).matchesOrParentMatches('docs/README.md')).toBe(
      false,
    );
    expect(new PatternMatcher(['docs/*', '!docs/README.md']).matchesOrParentMatches('docs/README.md')).toBe(
      false,
    );
    expect(new PatternMatcher(['!fileutils.go', '*.go']).matchesOrParentMatches('fileutils.go')).toBe(true);
    expect(new PatternMatcher(['*.go', '!fileutils.go']).matchesOrParentMatches('fileutils.go')).toBe(false);
  });

  it('cleans patterns, drops empties, flags exclusions, rejects a lone !', () => {
    expect(new PatternMatcher(['docs', 'config', '']).patterns).toHaveLength(2);
    expect(new PatternMatcher(['docs', '  !docs/README.md']).exclusions).toBe(true);
    expect(new PatternMatcher(['docs', '!docs/README.md  ']).exclusions).toBe(true);
    expect(() => new PatternMatcher(['!'])).toThrow(/illegal exclusion/);
    expect(new PatternMatcher(['./a/../b/']).patterns[0]?.cleaned).toBe('b');
  });

  it('compiles to the same match kinds as moby', () => {
    const kind = (p: string) => new PatternMatcher([p]).patterns[0]?.type;
    expect(kind('*')).toBe('regexp');
    expect(kind('**')).toBe('suffix');
    expect(kind('**/**')).toBe('regexp');
    expect(kind('dir/**')).toBe('prefix');
    expect(kind('**/dir')).toBe('suffix');
    expect(kind('**/dir2/*')).toBe('regexp');
    expect(kind('**file')).toBe('suffix');
    expect(kind('abc')).toBe('exact');
    expect(new PatternMatcher(['**/**/*.txt']).patterns[0]?.regexp?.source).toBe(
      String.raw`^(.*\/)?(.*\/)?[^/]*\.txt$`,
    );
  });
});
