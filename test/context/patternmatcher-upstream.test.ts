/**
 * Upstream unit tests ported verbatim from github.com/moby/patternmatcher:
 *   patternmatcher_test.go (commit 1d6a3f429bf0541b7f69372adecc787fabc0c701)
 *   ignorefile/ignorefile_test.go (commit 08a7a10cdec96b1990f699a6d522b91b56adfe51)
 * API mapping: Go `New(patterns)` → `new PatternMatcher(patterns)` (a Go error ↔ a thrown PatternError);
 * `MatchesExact` / `MatchesOrParentMatches` / `MatchesUsingParentResults` → the methods of the same name;
 * `MatchInfo{}` → `[]`; `Patterns()` → `.patterns`; `Exclusions()` → `.exclusions`;
 * the deprecated package-level `Matches(file, patterns)` → `matches()` below (Go's wrapper: Clean the
 * file, "." never matches, then the matcher; tsbuild has no deprecated single-parent `pm.Matches`, so
 * `matchesOrParentMatches` stands in); `ignorefile.ReadAll` → `parseDockerignore` / `readDockerignore`.
 * Not ported: Windows-only cases (`runtime.GOOS == "windows"` rows, TestCompile's "backslash" run) and
 * TestMatches' "MatchesUsingParentResult" subtest (deprecated bool API that tsbuild does not have).
 * Each `it` is one upstream test function; expect.soft reports every failing row, not just the first.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDockerignore, readDockerignore } from '../../src/context/dockerignore.js';
import { type MatchInfo, PatternError, PatternMatcher } from '../../src/context/pattern-matcher.js';

/** Go's path.Clean, written out here so the harness does not lean on the code under test. */
function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg !== '..') out.push(seg);
    else if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (!rooted) out.push('..');
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

/** Go's filepath.Dir on a slash path. */
const goDir = (p: string): string => goClean(p.slice(0, p.lastIndexOf('/') + 1));

/** Runs `f`, mapping a thrown PatternError to 'error' (Go's non-nil err). */
function orError<T>(f: () => T): T | 'error' {
  try {
    return f();
  } catch (e) {
    if (e instanceof PatternError) return 'error';
    throw e;
  }
}

/** Go's package-level `Matches(file, patterns)`. */
function matches(file: string, patterns: string[]): boolean | 'error' {
  const pm = orError(() => new PatternMatcher(patterns));
  if (pm === 'error') return 'error';
  const f = goClean(file);
  if (f === '.') return false;
  return orError(() => pm.matchesOrParentMatches(f));
}

// The small single-case functions at the top of patternmatcher_test.go.
const simple: [name: string, file: string, patterns: string[], want: boolean | 'error'][] = [
  ['TestWildcardMatches', 'fileutils.go', ['*'], true],
  ['TestPatternMatches', 'fileutils.go', ['*.go'], true],
  ['TestExclusionPatternMatchesPatternBefore', 'fileutils.go', ['!fileutils.go', '*.go'], true],
  ['TestPatternMatchesFolderExclusions', 'docs/README.md', ['docs', '!docs/README.md'], false],
  ['TestPatternMatchesFolderWithSlashExclusions', 'docs/README.md', ['docs/', '!docs/README.md'], false],
  ['TestPatternMatchesFolderWildcardExclusions', 'docs/README.md', ['docs/*', '!docs/README.md'], false],
  ['TestExclusionPatternMatchesPatternAfter', 'fileutils.go', ['*.go', '!fileutils.go'], false],
  ['TestExclusionPatternMatchesWholeDirectory', '.', ['*.go'], false],
  ['TestSingleExclamationError', 'fileutils.go', ['!'], 'error'],
  ['TestMatchesWithNoPatterns', '/any/path/there', [], false],
  ['TestMatchesWithMalformedPatterns', '/any/path/there', ['['], 'error'],
];

type Pass = 'fail' | 'exact' | 'inexact';
const tests: [pattern: string, text: string, pass: Pass][] = [
  ['**', 'file', 'exact'],
  ['**', 'file/', 'exact'],
  ['**/', 'file', 'exact'], // weird one
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
  // The non-Windows rows; the Windows row {`a\\`, `a\`, inexact} is skipped.
  ['a\\\\', 'a\\', 'exact'],
  ['a\\*b', 'a*b', 'exact'],
];
const multiPatternTests: [patterns: string[], text: string, pass: Pass][] = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', 'fail'],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', 'exact'],
  [
    ['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'],
    'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl',
    'fail',
  ],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'fail'],
];

// matchTests: Go's filepath.Match table as moby runs it through Matches(); 'error' = ErrBadPattern.
const matchTests: [pattern: string, s: string, want: boolean | 'error'][] = [
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
  ['a[', 'a', 'error'], // was nil but IMO its wrong
  ['a[', 'ab', 'error'],
  ['*x', 'xxx', true],
];

// compileTests, "slash" run: pattern, matchType, compiledRegexp (Go's regexp.String()).
const compileTests: [pattern: string, matchType: string, compiledRegexp: string][] = [
  ['*', 'regexp', '^[^/]*$'],
  ['file*', 'regexp', '^file[^/]*$'],
  ['*file', 'regexp', '^[^/]*file$'],
  ['a*/b', 'regexp', '^a[^/]*/b$'],
  ['**', 'suffix', ''],
  ['**/**', 'regexp', '^(.*/)?.*$'],
  ['dir/**', 'prefix', ''],
  ['**/dir', 'suffix', ''],
  ['**/dir2/*', 'regexp', '^(.*/)?dir2/[^/]*$'],
  ['**/dir2/**', 'regexp', '^(.*/)?dir2/.*$'],
  ['**file', 'suffix', ''],
  ['**/file*txt', 'regexp', '^(.*/)?file[^/]*txt$'],
  ['**/**/*.txt', 'regexp', String.raw`^(.*/)?(.*/)?[^/]*\.txt$`],
  ['a[b-d]e', 'regexp', '^a[b-d]e$'],
  ['.*', 'regexp', String.raw`^\.[^/]*$`],
  ['abc.def', 'exact', ''],
  ['abc?def', 'regexp', '^abc[^/]def$'],
  ['**/foo/bar', 'suffix', ''],
  ['a(b)c/def', 'exact', ''],
  ['a.|)$(}+{bc', 'exact', ''],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact', ''],
];

describe('moby/patternmatcher upstream tests', () => {
  it.each(simple)('%s', (_name, file, patterns, want) => {
    expect(matches(file, patterns)).toBe(want);
  });

  it('TestMatches', () => {
    const walk = (pm: PatternMatcher, text: string): boolean => {
      const parentPath = goDir(text);
      const parentPathDirs = parentPath.split('/');
      let info: MatchInfo = [];
      if (parentPath !== '.') {
        for (let i = 0; i < parentPathDirs.length; i++)
          info = pm.matchesUsingParentResults(parentPathDirs.slice(0, i + 1).join('/'), info).info;
      }
      return pm.matchesUsingParentResults(text, info).matched;
    };
    const single = tests.map(([p, t, r]) => [[p], t, r] as [string[], string, Pass]);
    for (const [pattern, text, pass] of tests) {
      const desc = `MatchesExact (pattern=${JSON.stringify(pattern)} text=${JSON.stringify(text)})`;
      expect.soft(new PatternMatcher([pattern]).matchesExact(text), desc).toBe(pass === 'exact');
    }
    for (const [patterns, text, pass] of [...single, ...multiPatternTests]) {
      const pm = new PatternMatcher(patterns);
      const desc = `(patterns=${JSON.stringify(patterns)} text=${JSON.stringify(text)})`;
      expect.soft(pm.matchesOrParentMatches(text), `MatchesOrParentMatches ${desc}`).toBe(pass !== 'fail');
      expect.soft(walk(pm, text), `MatchesUsingParentResults ${desc}`).toBe(pass !== 'fail');
      expect
        .soft(pm.matchesUsingParentResults(text, []).matched, `MatchesUsingParentResultsNoContext ${desc}`)
        .toBe(pass !== 'fail');
    }
  });

  it('TestCleanPatterns', () => {
    expect(new PatternMatcher(['docs', 'config']).patterns).toHaveLength(2);
  });

  it('TestCleanPatternsStripEmptyPatterns', () => {
    expect(new PatternMatcher(['docs', 'config', '']).patterns).toHaveLength(2);
  });

  it('TestCleanPatternsExceptionFlag', () => {
    expect(new PatternMatcher(['docs', '!docs/README.md']).exclusions).toBe(true);
  });

  it('TestCleanPatternsLeadingSpaceTrimmed', () => {
    expect(new PatternMatcher(['docs', '  !docs/README.md']).exclusions).toBe(true);
  });

  it('TestCleanPatternsTrailingSpaceTrimmed', () => {
    expect(new PatternMatcher(['docs', '!docs/README.md  ']).exclusions).toBe(true);
  });

  it('TestCleanPatternsErrorSingleException', () => {
    expect(() => new PatternMatcher(['!'])).toThrow(PatternError);
  });

  it('TestMatch', () => {
    for (const [pattern, s, want] of matchTests) {
      expect.soft(matches(s, [pattern]), `Match(${pattern}, ${s})`).toBe(want);
    }
  });

  it('TestCompile (slash)', () => {
    for (const [pattern, matchType, compiledRegexp] of compileTests) {
      const p = new PatternMatcher([pattern]).patterns[0];
      expect.soft(p?.cleaned, `pattern ${pattern}: path.Clean`).toBe(goClean(pattern));
      expect.soft(p?.type, `pattern ${pattern}: matchType`).toBe(matchType);
      if (matchType === 'regexp') {
        // JS escapes `/` in RegExp#source where Go's String() does not; compare modulo that.
        const src = p?.regexp?.source.replaceAll('\\/', '/');
        expect.soft(src, `pattern ${pattern}: regexp`).toBe(compiledRegexp);
      }
    }
  });

  // regression test for https://github.com/moby/moby/issues/52203
  // Upstream builds the regexp lazily, so a bad range (`l-O`) errors at each match; tsbuild checks
  // it when the patterns are loaded (the build fails there, before any path is matched). Either way
  // every use reports the bad pattern, and nothing crashes when asked again.
  it('TestMatchesOrParentMatchesMalformedPatternDoesNotPanicOnRepeatedCall', () => {
    for (let i = 0; i < 2; i++) expect(() => new PatternMatcher(['[Local-Only]/'])).toThrow(PatternError);
  });
});

describe('moby/patternmatcher/ignorefile upstream tests', () => {
  it('TestReadAll', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tsbuild-ignorefile-'));
    try {
      // ReadAll(nil): no file → no entries.
      expect(await readDockerignore(dir)).toEqual([]);
      expect(parseDockerignore('')).toEqual([]);
      // ReadAll(emitErrorOnRead{}): a read error is returned (here: .dockerignore is a directory).
      await mkdir(join(dir, '.dockerignore'));
      await expect(readDockerignore(dir)).rejects.toThrow();

      const content =
        'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
      const expected = [
        'test1',
        'test2', // according to https://docs.docker.com/engine/reference/builder/#dockerignore-file, /foo/bar should be treated as foo/bar
        'a/file/here', // according to https://docs.docker.com/engine/reference/builder/#dockerignore-file, /foo/bar should be treated as foo/bar
        'lastfile',
        '!inverted/abs/path',
        '!',
        '!',
      ];
      expect(parseDockerignore(content)).toEqual(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
