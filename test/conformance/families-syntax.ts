// Generator of the randomized differential builds (differential.ts `syntax`): one instruction line
// with flags in every place and shape (unknown, duplicated, empty, bare, `--`, after the arguments)
// and 0-3 arguments, to compare which lines each frontend accepts and what they make. Found by hand
// before it existed: flags on STOPSIGNAL and HEALTHCHECK NONE are ignored, COPY counts its arguments
// before its flags, a JSON array is its first value (`CMD ["a"] junk`). Newer syntax BuildKit 0.8 refuses (COPY --link/--parents/--exclude, ADD
// --checksum, RUN --network, flags on ARG) is left out: the README lists those differences.
import { BB, CONTEXT } from './families-fs.js';
import type { ConformanceCase } from './kit.js';
import type { R } from './rng.js';

/** Flags each instruction knows in BuildKit 0.8, with values that are valid for it. */
const KNOWN: Record<string, string[]> = {
  COPY: ['--chown=1:2', '--chmod=640', '--from=bb'],
  ADD: ['--chown=1:2', '--chmod=640'],
  RUN: ['--mount=type=tmpfs,target=/t'],
  HEALTHCHECK: ['--interval=5s', '--retries=2', '--timeout=1s', '--start-period=2s'],
};

const ARGS: Record<string, string[]> = {
  COPY: ['a', 'x.txt', '/dst/', 'd1'],
  ADD: ['a', 'x.txt', '/dst/', 'd1'],
  RUN: ['echo', 'hi', '>', '/o'],
  HEALTHCHECK: ['CMD', 'NONE', 'true', 'cmd'],
  ENV: ['A=1', 'B', '2', 'C=x'],
  LABEL: ['l=1', 'm', '"n o"=p'],
  ARG: ['A', 'B=2'],
  EXPOSE: ['80', '81/udp'],
  USER: ['1', 'nobody'],
  WORKDIR: ['/w', 'x'],
  STOPSIGNAL: ['SIGINT', '9'],
  VOLUME: ['/v', '/u'],
  CMD: ['echo', 'x'],
  ENTRYPOINT: ['echo', 'y'],
  SHELL: ['["/bin/sh", "-c"]'],
  MAINTAINER: ['me', 'you'],
  ONBUILD: ['RUN true', 'ENV Q=1'],
};

function flag(r: R, keyword: string): string {
  const known = KNOWN[keyword] ?? [];
  return r.pick([
    ...known,
    ...known.map((f) => f.replace(/=.*/, '')), // bare: a string flag without its value
    ...known.map((f) => f.replace(/=.*/, '=')), // empty value
    '--bogus',
    '--bogus=1',
    '--',
    '---chown=1',
    '--CHOWN=1',
    '--link=maybe',
  ]);
}

/** Keywords whose arguments may be a JSON array (parseMaybeJSON, parseMaybeJSONToList). */
const JSON_FORM = new Set(['COPY', 'ADD', 'RUN', 'CMD', 'ENTRYPOINT', 'VOLUME', 'SHELL']);

/** The arguments as a JSON array, well-formed or not, with or without text after it. */
function jsonArgs(r: R, args: string[]): string {
  const items = args.map((a) => JSON.stringify(a));
  const body = r.pick([
    () => `[${items.join(', ')}]`,
    () => `[${items.join(',')},]`, // trailing comma: not JSON
    () => `[ ${items.join(' ')} ]`, // no commas
    () => `[${items.join(', ')}, 1]`, // not all strings
    () => `[${items.map((i) => `[${i}]`).join(', ')}]`, // nested
    () => `[${items.map((i) => i.replace(/"/g, "'")).join(', ')}]`, // single quotes
    () => `[${items.map(escapeFirst).join(', ')}]`,
    () => '[]',
  ])();
  return body + r.pick(['', '', ' junk', ']', ' ["x"]', ' # c', '\t;']);
}

/** `"ab"` as `"\u0061b"`: JSON escapes are decoded. */
function escapeFirst(item: string): string {
  return `"\\u${item.charCodeAt(1).toString(16).padStart(4, '0')}${item.slice(2)}`;
}

/** One stage on bb with one generated line (the same twice sometimes: duplicated flags), then a RUN. */
export function syntaxCase(r: R): Partial<ConformanceCase> {
  const keyword = r.pick(Object.keys(ARGS));
  const flags: string[] = [];
  // No flags on ARG: BuildKit 0.8 ignores them, newer frontends refuse unknown ones (README).
  for (let i = keyword === 'ARG' ? 0 : r.pick([0, 1, 1, 2]); i > 0; i--) flags.push(flag(r, keyword));
  if (flags.length === 1 && r.next() < 0.2) flags.push(flags[0]!);
  let args = r.sample(ARGS[keyword]!, r.pick([0, 1, 1, 2, 2, 3]));
  if (JSON_FORM.has(keyword) && r.next() < 0.4) {
    const words = keyword === 'SHELL' ? ['/bin/sh', '-c'] : args.length > 0 ? args : ['a'];
    args = [jsonArgs(r, words)];
  }
  const late = r.next() < 0.1 && keyword !== 'ARG' ? ` ${flag(r, keyword)}` : '';
  const word = r.next() < 0.15 ? keyword.toLowerCase() : keyword;
  const line = [word, ...flags, ...args].join(' ') + late;
  return { dockerfile: `${BB}FROM bb\n${line}\nRUN echo done > /done\n`, files: CONTEXT };
}
