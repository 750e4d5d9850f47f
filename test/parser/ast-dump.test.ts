import { describe, expect, it } from 'vitest';
import { type AstNode, parseDockerfile } from '../../src/parser/index.js';

/**
 * AST-level conformance in BuildKit's own dump format (`(keyword ["--flag"] "arg" …)`, as its
 * parser/testfiles/*\/result files use), so the splitting of each keyword can be compared line by line
 * with what BuildKit's parser produces.
 */
function dump(n: AstNode): string {
  let s = n.keyword.toLowerCase();
  if (n.flags.length > 0) s += ` [${n.flags.map((f) => JSON.stringify(f.original)).join(' ')}]`;
  if (n.next) return `${s} (${dump(n.next)})`;
  for (const a of n.args) s += ` ${JSON.stringify(a)}`;
  return s;
}

const ast = (text: string) => parseDockerfile(text).value.nodes.map((n) => `(${dump(n)})`);

describe('AST dump (BuildKit parser result format)', () => {
  it('flags: only leading --words, a bare -- ends them', () => {
    expect(
      ast(
        'FROM scratch\nCOPY --user=me --doit=true foo /tmp/\nCOPY --doit=true -- foo /tmp/\nCOPY -- foo /tmp/\nCMD --doit [ "a", "b" ]\nCMD --doit -- [ ]\nCOPY a --not-a-flag b\n',
      ),
    ).toEqual([
      '(from "scratch")',
      '(copy ["--user=me" "--doit=true"] "foo" "/tmp/")',
      '(copy ["--doit=true"] "foo" "/tmp/")',
      '(copy "foo" "/tmp/")',
      '(cmd ["--doit"] "a" "b")',
      '(cmd ["--doit"])',
      '(copy "a" "--not-a-flag" "b")',
    ]);
  });

  it('continuations keep the indentation of continued lines', () => {
    expect(
      ast(
        'FROM u\nRUN echo hello\\\n  world\\\n  goodnight  \\\n  moon\\\n  light\\\nning\nRUN echo hello\\\nworld\nRUN echo hi \\\n \\\n hello \\\n world\n',
      ),
    ).toEqual([
      '(from "u")',
      '(run "echo hello  world  goodnight    moon  lightning")',
      '(run "echo helloworld")',
      '(run "echo hi   hello  world")',
    ]);
  });

  it('the escape directive changes the continuation character', () => {
    expect(ast('# escape = `\nFROM image\nENV GOPATH `\n\\go\n')).toEqual([
      '(from "image")',
      '(env "GOPATH" "\\\\go")',
    ]);
    expect(ast('#escape = `\n\nFROM image\nENV GOPATH \\\n\\go\n')).toEqual([
      '(from "image")',
      '(env "GOPATH" "\\\\")',
      '(\\go)',
    ]);
    expect(ast('# a comment first\n# escape = `\n\nFROM image\nENV GOPATH \\\n\\go\n')).toEqual([
      '(from "image")',
      '(env "GOPATH" "\\\\go")',
    ]);
  });

  it('splits per keyword: legacy ENV/LABEL, MAINTAINER as one string, JSON or not', () => {
    expect(
      ast(
        'FROM\tubuntu:14.04\nLABEL\tmaintainer\tA B <a@b.c> (@ab)\nMAINTAINER James "j@example.com"\nENV SCUBA 1 DUBA 3\nENV SCUBA "1 DUBA 3"\nENTRYPOINT [ "/usr/bin/redis-server" ]\nCMD [\'echo\',\'hello\']\nCMD ["echo", "hello"\nEXPOSE 9000 5000 6000\nVOLUME ["/test", "/test2"]\nVOLUME /test3\nONBUILD RUN ["echo", "test"]\nHEALTHCHECK --timeout=3s CMD ["foo"]\nHEALTHCHECK CONNECT TCP 7000\n',
      ),
    ).toEqual([
      '(from "ubuntu:14.04")',
      '(label "maintainer" "A B <a@b.c> (@ab)")',
      '(maintainer "James \\"j@example.com\\"")',
      '(env "SCUBA" "1 DUBA 3")',
      '(env "SCUBA" "\\"1 DUBA 3\\"")',
      '(entrypoint "/usr/bin/redis-server")',
      "(cmd \"['echo','hello']\")",
      '(cmd "[\\"echo\\", \\"hello\\"")',
      '(expose "9000" "5000" "6000")',
      '(volume "/test" "/test2")',
      '(volume "/test3")',
      '(onbuild (run "echo" "test"))',
      '(healthcheck ["--timeout=3s"] "CMD" "foo")',
      '(healthcheck "CONNECT" "TCP 7000")',
    ]);
  });

  it('comment lines ending in the escape char do not continue', () => {
    expect(
      ast(
        'FROM a\n# RUN Commands \\\n# linebreak in comment \\\nRUN ["ls", "-la"]\nRUN    sh -c \'echo root:testpass \\\n        > /tmp/passwd\'\n',
      ),
    ).toEqual([
      '(from "a")',
      '(run "ls" "-la")',
      '(run "sh -c \'echo root:testpass         > /tmp/passwd\'")',
    ]);
  });
});
