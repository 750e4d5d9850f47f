import { warning } from './lint.js';
import { parseMount } from './parse-mount.js';
import {
  type EnvLookup,
  expandWord,
  expandWords,
  type LexOptions,
  processWordWithMatches,
} from './shell-lexer.js';
import { suggest } from './suggest.js';
import type { EscapeToken, Instruction, Warning } from './types.js';

export interface ExpandResult {
  value: Instruction;
  /** Variables the instruction referenced that were unset. */
  unmatched: Set<string>;
  /** BuildKit's UndefinedVar check for those variables. */
  warnings: Warning[];
}

export interface ExpandOptions {
  escapeToken?: EscapeToken;
  /** Names a typo suggestion may point to (defaults to none). */
  known?: string[];
  /** Leave unset variables as written (used to check syntax without values). */
  skipUnsetEnv?: boolean;
}

/**
 * One instruction with its words expanded the way BuildKit expands them at dispatch: ADD, COPY, ENV,
 * EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR, plus RUN's `--mount` values. RUN, CMD,
 * ENTRYPOINT, SHELL, HEALTHCHECK, MAINTAINER and ONBUILD come back unchanged (the container's shell, or
 * the child build, expands those). ARG is unchanged: its defaults are expanded by `StageScope.apply`.
 * Every word sees only `lookup`, i.e. the values from before this instruction (`ENV a=b c=$a`).
 * Throws DockerfileSyntaxError (with the instruction's range) for bad substitutions.
 */
export function expandInstruction(
  ins: Instruction,
  lookup: EnvLookup,
  opts: ExpandOptions = {},
): ExpandResult {
  const lex: LexOptions = { range: ins.range };
  if (opts.escapeToken) lex.escapeToken = opts.escapeToken;
  if (opts.skipUnsetEnv) lex.skipUnsetEnv = true;
  const unmatched = new Set<string>();
  const word = (w: string): string => {
    const r = processWordWithMatches(w, lookup, lex);
    for (const n of r.unmatched) unmatched.add(n);
    return r.result;
  };
  const opt = (w: string | undefined): string | undefined => (w === undefined ? undefined : word(w));
  const value = expandKind(ins, word, opt, (w) => {
    const r = processWordWithMatches(w, lookup, lex);
    for (const n of r.unmatched) unmatched.add(n);
    return expandWords(w, lookup, lex);
  });
  if ((value.kind === 'COPY' || value.kind === 'ADD') && !opts.skipUnsetEnv) {
    // Heredoc files with an unquoted delimiter expand like a shell heredoc: quotes stay as written.
    value.heredocs = value.heredocs.map((h) =>
      h.expand ? { ...h, content: expandContent(h.content, lookup, lex, unmatched) } : h,
    );
  }
  if (value.kind === 'RUN' && ins.kind === 'RUN' && !opts.skipUnsetEnv) {
    value.mounts = ins.mounts.map((m) => parseMount(m.original, lookup, { ...lex, range: ins.range }));
  }
  const warnings = [...unmatched].map((name) => {
    const s = suggest(name, opts.known ?? []);
    return warning(
      'UndefinedVar',
      `Usage of undefined variable '$${name}'${s ? ` (did you mean $${s}?)` : ''}`,
      ins.range,
    );
  });
  return { value, unmatched, warnings };
}

function expandContent(content: string, lookup: EnvLookup, lex: LexOptions, unmatched: Set<string>): string {
  const r = processWordWithMatches(content, lookup, { ...lex, escapeToken: '\\', skipProcessQuotes: true });
  for (const n of r.unmatched) unmatched.add(n);
  return r.result;
}

type Word = (w: string) => string;
type Opt = (w: string | undefined) => string | undefined;

function expandKind(ins: Instruction, word: Word, opt: Opt, words: (w: string) => string[]): Instruction {
  switch (ins.kind) {
    case 'FROM':
      return prune({ ...ins, image: word(ins.image), platform: opt(ins.platform) });
    case 'ENV':
    case 'LABEL':
      return { ...ins, pairs: ins.pairs.map((p) => ({ key: word(p.key), value: word(p.value) })) };
    case 'COPY':
      return prune({
        ...ins,
        sources: ins.sources.map(word),
        dest: word(ins.dest),
        exclude: ins.exclude.map(word),
        from: opt(ins.from),
        chown: opt(ins.chown),
        chmod: opt(ins.chmod),
      });
    case 'ADD':
      return prune({
        ...ins,
        sources: ins.sources.map(word),
        dest: word(ins.dest),
        exclude: ins.exclude.map(word),
        chown: opt(ins.chown),
        chmod: opt(ins.chmod),
        checksum: opt(ins.checksum),
      });
    case 'EXPOSE':
      return { ...ins, ports: ins.ports.flatMap(words) };
    case 'VOLUME':
      return { ...ins, paths: ins.paths.map(word) };
    case 'USER':
      return { ...ins, user: word(ins.user) };
    case 'WORKDIR':
      return { ...ins, path: word(ins.path) };
    case 'STOPSIGNAL':
      return { ...ins, signal: word(ins.signal) };
    case 'RUN':
      return { ...ins };
    default:
      return ins;
  }
}

/** Drops keys whose value is undefined (optional fields stay absent, as the parser emits them). */
function prune<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * Parse-time check of the words BuildKit will expand: an unterminated quote or a bad `${…}` fails
 * here, with the instruction's range, instead of in the middle of a build.
 */
export function checkExpansionSyntax(ins: Instruction, escapeToken: EscapeToken): void {
  const words = expandableWords(ins);
  if (words.length === 0) return;
  const lex: LexOptions = { range: ins.range, escapeToken, skipUnsetEnv: true };
  for (const w of words) expandWord(w, none, lex);
}

const none: EnvLookup = () => undefined;

/** The raw words BuildKit expands at dispatch, ARG defaults included (no closures: hot path). */
function expandableWords(ins: Instruction): string[] {
  const out: string[] = [];
  const push = (w: string | undefined) => w !== undefined && out.push(w);
  switch (ins.kind) {
    case 'FROM':
      out.push(ins.image);
      push(ins.platform);
      break;
    case 'ENV':
    case 'LABEL':
      for (const p of ins.pairs) out.push(p.key, p.value);
      break;
    case 'ARG':
      for (const a of ins.args) push(a.default);
      break;
    case 'COPY':
    case 'ADD':
      out.push(...ins.sources, ins.dest, ...ins.exclude);
      push(ins.chown);
      push(ins.chmod);
      push(ins.kind === 'COPY' ? ins.from : ins.checksum);
      break;
    case 'EXPOSE':
      out.push(...ins.ports);
      break;
    case 'VOLUME':
      out.push(...ins.paths);
      break;
    case 'USER':
      out.push(ins.user);
      break;
    case 'WORKDIR':
      out.push(ins.path);
      break;
    case 'STOPSIGNAL':
      out.push(ins.signal);
      break;
  }
  return out;
}
