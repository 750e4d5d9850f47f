import { DockerfileSyntaxError, type SourceRange } from '../errors.js';
import { applyChecks } from './checks.js';
import { DirectiveParser, parseCheckDirective } from './directives.js';
import { chompHeredocContent, heredocsFromLine } from './heredoc.js';
import { argsForKeyword } from './node-args.js';
import { splitCommand } from './split-command.js';
import type {
  AstFlag,
  AstNode,
  CheckConfig,
  DockerfileAst,
  Heredoc,
  ParseOptions,
  Result,
  Warning,
} from './types.js';

/** Keywords whose args may open heredocs (ONBUILD through its trigger). */
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);

interface RawLine {
  /** Without the line terminator. */
  text: string;
  /** With it (heredoc bodies keep line endings byte for byte). */
  full: string;
}

function splitLines(text: string): RawLine[] {
  const out: RawLine[] = [];
  let i = 0;
  while (i < text.length) {
    const j = text.indexOf('\n', i);
    const full = j < 0 ? text.slice(i) : text.slice(i, j + 1);
    out.push({ full, text: trimNewline(full) });
    i = j < 0 ? text.length : j + 1;
  }
  return out;
}

/** Go's bytes.TrimRight(s, "\r\n"), without a regexp (a long run of \r must not go quadratic). */
function trimNewline(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === '\n' || s[end - 1] === '\r')) end--;
  return s.slice(0, end);
}

const trimLeft = (s: string) => s.replace(/^[\t\n\v\f\r \u0085\u00a0]+/, '');
const isComment = (s: string) => trimLeft(s).startsWith('#');

const CONTINUATION: Record<string, RegExp> = {
  // BuildKit: an escape char at the end (trailing blanks allowed), unless it is itself escaped.
  '\\': /([^\\])\\[ \t]*$|^\\[ \t]*$/,
  '`': /([^`])`[ \t]*$|^`[ \t]*$/,
};

function continuationRegex(esc: string): RegExp {
  return CONTINUATION[esc]!;
}

export function parseFlag(original: string): AstFlag {
  const body = original.startsWith('--') ? original.slice(2) : original;
  const i = body.indexOf('=');
  return i < 0
    ? { name: body, value: null, original }
    : { name: body.slice(0, i), value: body.slice(i + 1), original };
}

interface LineState {
  lines: RawLine[];
  idx: number;
  directives: DirectiveParser;
  contRe: RegExp;
  warnings: Warning[];
}

/** Dockerfile text → AST (directives, escape token, nodes with ranges). Throws DockerfileSyntaxError. */
export function parseDockerfile(text: string, opts: ParseOptions = {}): Result<DockerfileAst> {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const st: LineState = {
    lines: splitLines(text),
    idx: 0,
    directives: new DirectiveParser(),
    contRe: continuationRegex('\\'),
    warnings: [],
  };
  const nodes: AstNode[] = [];
  let comments: string[] = [];
  while (st.idx < st.lines.length) {
    const raw = st.lines[st.idx]!.text;
    const directivesBefore = st.directives.directives.length;
    const node = readInstruction(st, isComment(raw) ? comments : [...comments], opts);
    // Comment lines are collected for the next instruction (its description); directives are not.
    if (isComment(raw) && st.directives.directives.length === directivesBefore) {
      const c = trimLeft(raw).slice(1).trim();
      if (c === '') comments = [];
      else comments.push(c);
    }
    if (node) {
      nodes.push(node);
      comments = [];
    }
  }
  if (nodes.length === 0) {
    const line = Math.max(1, st.lines.length);
    throw new DockerfileSyntaxError('file with no instructions', {
      start: { line, column: 1 },
      end: { line, column: 1 },
    });
  }
  const d = st.directives;
  const escapeToken = opts.escapeToken ?? d.escapeToken;
  const checkDirective = d.directives.find((x) => x.name === 'check');
  const checks: CheckConfig = {
    ...(checkDirective
      ? parseCheckDirective(checkDirective.value, checkDirective.range)
      : { skip: [], error: false }),
    ...opts.checks,
  };
  const syntax = d.directives.find((x) => x.name === 'syntax')?.value;
  const ast: DockerfileAst = { directives: d.directives, escapeToken, checks, nodes };
  if (syntax !== undefined) ast.syntax = syntax;
  return { value: ast, warnings: applyChecks(st.warnings, checks) };
}

/** Reads one logical line (and its heredoc bodies) from st.idx; undefined for blank/comment lines. */
function readInstruction(st: LineState, comments: string[], opts: ParseOptions): AstNode | undefined {
  const first = st.lines[st.idx]!;
  const lineNo = st.idx + 1;
  const left = trimLeft(first.text);
  st.directives.parseLine(left, lineNo);
  if (opts.escapeToken === undefined) st.contRe = continuationRegex(st.directives.escapeToken);
  st.idx++;
  const startCol = first.text.length - left.length + 1;
  let [line, eol] = trimContinuation(left.startsWith('#') ? '' : left, st.contRe);
  if (eol && line === '') return undefined;
  let hasEmpty = false;
  while (!eol && st.idx < st.lines.length) {
    const raw = st.lines[st.idx]!.text;
    st.directives.parseLine(raw, st.idx + 1);
    st.idx++;
    if (isComment(raw)) continue;
    if (trimLeft(raw) === '') {
      hasEmpty = true;
      continue;
    }
    let part: string;
    [part, eol] = trimContinuation(raw, st.contRe);
    line += part;
  }
  const range = (endLine: number): SourceRange => ({
    start: { line: lineNo, column: startCol },
    end: { line: endLine, column: Math.max(1, st.lines[endLine - 1]?.text.length ?? 1) },
  });
  if (hasEmpty) {
    st.warnings.push({
      code: 'NoEmptyContinuation',
      // BuildKit's rule text; its location is the instruction's last line (parser.go currentLine)
      message: 'Empty continuation line',
      range: { start: { line: st.idx, column: 1 }, end: { line: st.idx, column: 1 } },
      url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
    });
  }
  const esc = opts.escapeToken ?? st.directives.escapeToken;
  const node = nodeFromLine(line, esc, range(st.idx), comments);
  const target = node.next ?? node;
  if (HEREDOC_KEYWORDS.has(target.keyword) && !target.json && line.includes('<<')) {
    target.heredocs = readHeredocs(st, line, lineNo, range);
    if (target !== node) node.heredocs = target.heredocs;
  }
  const r = range(st.idx);
  node.range = r;
  if (node.next) node.next.range = r;
  return node;
}

function trimContinuation(line: string, re: RegExp): [string, boolean] {
  if (re.test(line)) return [line.replace(re, '$1'), false];
  return [line, true];
}

function readHeredocs(
  st: LineState,
  line: string,
  lineNo: number,
  range: (end: number) => SourceRange,
): Heredoc[] {
  const out: Heredoc[] = [];
  let starts: ReturnType<typeof heredocsFromLine>;
  try {
    starts = heredocsFromLine(line);
  } catch (e) {
    if (e instanceof DockerfileSyntaxError) throw new DockerfileSyntaxError(e.message, range(st.idx));
    throw e;
  }
  for (const h of starts) {
    let content = '';
    let terminated = false;
    while (st.idx < st.lines.length) {
      const l = st.lines[st.idx]!;
      st.idx++;
      const candidate = h.chomp ? l.text.replace(/^\t+/, '') : l.text;
      if (candidate === h.name) {
        terminated = true;
        break;
      }
      content += l.full;
    }
    if (!terminated) {
      throw new DockerfileSyntaxError(
        `unterminated heredoc (missing ${h.name} after line ${lineNo})`,
        range(st.idx),
      );
    }
    out.push({ ...h, content: h.chomp ? chompHeredocContent(content) : content });
  }
  return out;
}

/** One logical line → node (keyword, flags, args per BuildKit's line parser for the keyword). */
export function nodeFromLine(line: string, esc: string, range: SourceRange, comments: string[]): AstNode {
  const { keyword, flags, args } = splitCommand(line);
  const kw = keyword.toUpperCase();
  const parsed = argsForKeyword(kw, args, esc, range);
  const node: AstNode = {
    keyword: kw,
    keywordAsWritten: keyword,
    args: parsed.args,
    argsText: args,
    json: parsed.json,
    flags: flags.map(parseFlag),
    heredocs: [],
    comments: [...comments],
    original: line,
    range,
  };
  if (parsed.legacy) node.legacyKeyValue = true;
  if (kw === 'ONBUILD' && args !== '') node.next = nodeFromLine(args, esc, range, []);
  return node;
}
