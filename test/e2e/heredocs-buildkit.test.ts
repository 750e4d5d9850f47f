/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile text, not templates */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

// BuildKit's heredoc tests (frontend/dockerfile/dockerfile_heredoc_test.go) with their Dockerfiles
// and expected files; busybox is the test registry's, which has no adduser and no /etc/passwd, so
// the two tests that need users write them first.
const CASES: { name: string; dockerfile: (base: string) => string; files: Record<string, string> }[] = [
  {
    name: 'testCopyHeredoc',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      ' AS build\n\nRUN echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd && echo "user:x:1000:1000::/home/user:/bin/sh" >> /etc/passwd && printf "root:x:0:\\nuser:x:1000:\\n" > /etc/group\nWORKDIR /dest\n\nCOPY <<EOF single\nsingle file\nEOF\n\nCOPY <<EOF <<EOF2 double/\nfirst file\nEOF\nsecond file\nEOF2\n\nRUN mkdir -p /permfiles\nCOPY --chmod=777 <<EOF /permfiles/all\ndummy content\nEOF\nCOPY --chmod=0644 <<EOF /permfiles/rw\ndummy content\nEOF\nCOPY --chown=user:user <<EOF /permfiles/owned\ndummy content\nEOF\nRUN stat -c "%04a" /permfiles/all >> perms && \\\n\tstat -c "%04a" /permfiles/rw >> perms && \\\n\tstat -c "%U:%G" /permfiles/owned >> perms\n\nFROM scratch\nCOPY --from=build /dest /\n',
    files: {
      single: 'single file\n',
      'double/EOF': 'first file\n',
      'double/EOF2': 'second file\n',
      perms: '0777\n0644\nuser:user\n',
    },
  },
  {
    name: 'testCopyHeredocSpecialSymbols',
    dockerfile: (_BASE: string) =>
      'FROM scratch\n\nCOPY <<EOF quotefile\n"quotes in file"\nEOF\n\nCOPY <<EOF slashfile1\n\\\nEOF\nCOPY <<EOF slashfile2\n\\\\\nEOF\nCOPY <<EOF slashfile3\n\\$\nEOF\n\nCOPY <<"EOF" rawslashfile1\n\\\nEOF\nCOPY <<"EOF" rawslashfile2\n\\\\\nEOF\nCOPY <<"EOF" rawslashfile3\n\\$\nEOF\n',
    files: {
      quotefile: '"quotes in file"\n',
      slashfile1: '\n',
      slashfile2: '\\\n',
      slashfile3: '$\n',
      rawslashfile1: '\\\n',
      rawslashfile2: '\\\\\n',
      rawslashfile3: '\\$\n',
    },
  },
  {
    name: 'testRunBasicHeredoc',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      ' AS build\n\nRUN echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd\nRUN <<EOF\necho "i am" >> /dest\nwhoami >> /dest\nEOF\n\nFROM scratch\nCOPY --from=build /dest /dest\n',
    files: { dest: 'i am\nroot\n' },
  },
  {
    name: 'testRunFakeHeredoc',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      ' AS build\n\nSHELL ["/bin/awk"]\nRUN <<EOF\nBEGIN {\n\tprint "foo" > "/dest"\n}\nEOF\n\nFROM scratch\nCOPY --from=build /dest /dest\n',
    files: { dest: 'foo\n' },
  },
  {
    name: 'testRunShebangHeredoc',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      ' AS build\n\nRUN <<EOF\n#!/bin/awk -f\nBEGIN {\n\tprint "hello" >> "/dest"\n\tprint "world" >> "/dest"\n}\nEOF\n\nFROM scratch\nCOPY --from=build /dest /dest\n',
    files: { dest: 'hello\nworld\n' },
  },
  {
    name: 'testRunComplexHeredoc',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      ' AS build\n\nWORKDIR /dest\n\nRUN cat <<EOF1 | tr \'[:upper:]\' \'[:lower:]\' > ./out1; \\\n\tcat <<EOF2 | tr \'[:lower:]\' \'[:upper:]\' > ./out2\nhello WORLD\nEOF1\nHELLO world\nEOF2\n\nRUN <<EOF 3<<IN1 4<<IN2 awk -f -\nBEGIN {\n\twhile ((getline line < "/proc/self/fd/3") > 0)\n\t\tprint tolower(line) > "./fd3"\n\twhile ((getline line < "/proc/self/fd/4") > 0)\n\t\tprint toupper(line) > "./fd4"\n}\nEOF\nhello WORLD\nIN1\nHELLO world\nIN2\n\nFROM scratch\nCOPY --from=build /dest /\n',
    files: { out1: 'hello world\n', out2: 'HELLO WORLD\n', fd3: 'hello world\n', fd4: 'HELLO WORLD\n' },
  },
  {
    name: 'testHeredocIndent',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      ' AS build\n\nCOPY <<EOF /dest/foo-copy\n\tfoo\nEOF\n\nCOPY <<-EOF /dest/bar-copy\n\tbar\nEOF\n\nRUN <<EOF\necho "\n\tfoo" > /dest/foo-run\nEOF\n\nRUN <<-EOF\necho "\n\tbar" > /dest/bar-run\nEOF\n\nRUN <<EOF\n#!/bin/sh\necho "\n\tfoo" > /dest/foo2-run\nEOF\n\nRUN <<-EOF\n#!/bin/sh\necho "\n\tbar" > /dest/bar2-run\nEOF\n\nRUN <<EOF sh > /dest/foo3-run\necho "\n\tfoo"\nEOF\n\nRUN <<-EOF sh > /dest/bar3-run\necho "\n\tbar"\nEOF\n\nFROM scratch\nCOPY --from=build /dest /\n',
    files: {
      'foo-copy': '\tfoo\n',
      'foo-run': '\n\tfoo\n',
      'foo2-run': '\n\tfoo\n',
      'foo3-run': '\n\tfoo\n',
      'bar-copy': 'bar\n',
      'bar-run': '\nbar\n',
      'bar2-run': '\nbar\n',
      'bar3-run': '\nbar\n',
    },
  },
  {
    name: 'testHeredocVarSubstitution',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      ' as build\n\nARG name=world\n\nCOPY <<EOF /dest/c1\nHello ${name}!\nEOF\nCOPY <<\'EOF\' /dest/c2\nHello ${name}!\nEOF\nCOPY <<"EOF" /dest/c3\nHello ${name}!\nEOF\n\nCOPY <<EOF /dest/q1\nHello \'${name}\'!\nEOF\nCOPY <<EOF /dest/q2\nHello "${name}"!\nEOF\nCOPY <<\'EOF\' /dest/qsingle1\nHello \'${name}\'!\nEOF\nCOPY <<\'EOF\' /dest/qsingle2\nHello "${name}"!\nEOF\nCOPY <<"EOF" /dest/qdouble1\nHello \'${name}\'!\nEOF\nCOPY <<"EOF" /dest/qdouble2\nHello "${name}"!\nEOF\n\nRUN <<EOF\ngreeting="Hello"\necho "${greeting} ${name}!" > /dest/r1\nEOF\nRUN <<EOF\nname="new world"\necho "Hello ${name}!" > /dest/r2\nEOF\n\nFROM scratch\nCOPY --from=build /dest /\n',
    files: {
      c1: 'Hello world!\n',
      c2: 'Hello ${name}!\n',
      c3: 'Hello ${name}!\n',
      q1: "Hello 'world'!\n",
      q2: 'Hello "world"!\n',
      qsingle1: "Hello '${name}'!\n",
      qsingle2: 'Hello "${name}"!\n',
      qdouble1: "Hello '${name}'!\n",
      qdouble2: 'Hello "${name}"!\n',
      r1: 'Hello world!\n',
      r2: 'Hello new world!\n',
    },
  },
];

describe('heredocs: BuildKit dockerfile_heredoc_test.go', () => {
  for (const c of CASES)
    it(c.name, async () => {
      const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-heredoc-bk-'));
      const r = await buildIt(root, makeContext({}), c.dockerfile(registryBase()));
      for (const [name, content] of Object.entries(c.files))
        expect(readFileSync(join(r.rootfs, name), 'utf8'), name).toBe(content);
    });

  it('testOnBuildHeredoc: an ONBUILD RUN heredoc of a base runs in the child', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-heredoc-bk-'));
    const base = `FROM ${registryBase()}\nONBUILD RUN <<EOF\necho "hello world" >> /dest\nEOF\n`;
    await buildIt(root, makeContext({}), base, { tags: ['tsb-onbuild-heredoc:base'] });
    const child =
      '\tFROM tsb-onbuild-heredoc:base AS base\n\tFROM scratch\n\tCOPY --from=base /dest /dest\n\t';
    const r = await buildIt(root, makeContext({}), child);
    expect(readFileSync(join(r.rootfs, 'dest'), 'utf8')).toBe('hello world\n');
  });
});
