import { DockerfileSyntaxError } from '../errors.js';
import { BFlags } from './bflag.js';
import { applyChecks } from './checks.js';
import { parseGoDuration } from './durations.js';
import { checkExpansionSyntax } from './expand-instruction.js';
import { parseHeredocWord } from './heredoc.js';
import { instructionWarnings } from './lint.js';
import { parseMount } from './parse-mount.js';
import { suggest } from './suggest.js';
import type {
  AddInstruction,
  AstNode,
  CommandForm,
  CopyInstruction,
  DockerfileAst,
  EscapeToken,
  HealthcheckInstruction,
  Instruction,
  KeyValue,
  NetworkMode,
  Result,
  RunInstruction,
  SecurityMode,
  Warning,
} from './types.js';

export const KEYWORDS = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
] as const;

const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

/** AST → typed instructions. Throws DockerfileSyntaxError (bad flags, bad JSON, ARG/ENV syntax). */
export function toInstructions(ast: DockerfileAst): Result<Instruction[]> {
  const value = ast.nodes.map((n) => toInstruction(n, ast.escapeToken));
  const warnings: Warning[] = instructionWarnings(ast.nodes, value);
  return { value, warnings: applyChecks(warnings, ast.checks) };
}

/**
 * One node → its typed instruction. With `escapeToken`, the words BuildKit expands at dispatch are
 * also checked for lexer syntax errors (unterminated quotes, bad substitutions).
 */
export function toInstruction(node: AstNode, escapeToken?: EscapeToken): Instruction {
  const ins = toInstructionUnchecked(node);
  if (escapeToken !== undefined) checkExpansionSyntax(ins, escapeToken);
  return ins;
}

function toInstructionUnchecked(node: AstNode): Instruction {
  const fail: Fail = (msg, hint) => failAt(node, msg, hint);
  const flags = new BFlags(node.keyword, node.flags, node.range);
  const base = { range: node.range, original: node.original, comments: node.comments };
  const a = node.args;
  switch (node.keyword) {
    case 'FROM': {
      flags.define('platform', 'string').parse();
      let stageName: string | undefined;
      if (a.length === 3 && a[1]!.toLowerCase() === 'as') {
        stageName = a[2]!.toLowerCase();
        if (!STAGE_NAME.test(stageName)) {
          fail(
            `invalid name for build stage: ${JSON.stringify(a[2])}, name can't start with a number or contain symbols`,
          );
        }
      } else if (a.length !== 1) fail('FROM requires either one or three arguments');
      const from: Instruction = { kind: 'FROM', ...base, image: a[0]! };
      if (stageName !== undefined) from.stageName = stageName;
      const platform = flags.string('platform');
      if (platform !== undefined && platform !== '') from.platform = platform;
      return from;
    }
    case 'RUN':
      return toRun(node, flags, base, fail);
    case 'CMD':
    case 'ENTRYPOINT':
      flags.parse();
      return { kind: node.keyword, ...base, ...commandForm(node) };
    case 'SHELL':
      flags.parse();
      if (node.json && a.length === 0) fail('SHELL requires at least one argument');
      if (!node.json)
        fail('SHELL requires the arguments to be in JSON form', 'write it as SHELL ["/bin/sh", "-c"]');
      return { kind: 'SHELL', ...base, args: a };
    case 'ENV':
    case 'LABEL': {
      flags.parse();
      return { kind: node.keyword, ...base, pairs: keyValues(node, fail) };
    }
    case 'ARG': {
      flags.parse();
      atLeastOne(node);
      const args = a.map((w) => {
        const i = w.indexOf('=');
        if (i < 0) return { name: w };
        if (i === 0) fail('ARG names can not be blank');
        return { name: w.slice(0, i), default: w.slice(i + 1) };
      });
      return { kind: 'ARG', ...base, args };
    }
    case 'MAINTAINER':
      return { kind: 'MAINTAINER', ...base, name: exactlyOne(node, flags) };
    case 'EXPOSE':
      flags.parse();
      atLeastOne(node);
      return { kind: 'EXPOSE', ...base, ports: a };
    case 'ADD':
    case 'COPY':
      return toCopy(node, flags, base, fail);
    case 'VOLUME': {
      flags.parse();
      atLeastOne(node);
      const paths = a.map((v) => v.trim());
      if (paths.some((p) => p === '')) fail('VOLUME specified can not be an empty string');
      return { kind: 'VOLUME', ...base, paths };
    }
    case 'USER':
      return { kind: 'USER', ...base, user: exactlyOne(node, flags) };
    case 'WORKDIR':
      return { kind: 'WORKDIR', ...base, path: exactlyOne(node, flags) };
    case 'STOPSIGNAL':
      return { kind: 'STOPSIGNAL', ...base, signal: exactlyOne(node, flags) };
    case 'HEALTHCHECK':
      return toHealthcheck(node, flags, base, fail);
    case 'ONBUILD': {
      flags.parse();
      if (!node.next) return fail('ONBUILD requires at least one argument');
      const t = node.next.keyword;
      if (t === 'ONBUILD') fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (t === 'MAINTAINER' || t === 'FROM') fail(`${t} isn't allowed as an ONBUILD trigger`);
      // The image config keeps the trigger as text: heredoc bodies are appended so it re-parses whole.
      let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
      for (const h of node.next.heredocs) expression += `\n${h.content}${h.name}`;
      return { kind: 'ONBUILD', ...base, expression, trigger: toInstruction(node.next) };
    }
    default: {
      const s = suggest(node.keyword, [...KEYWORDS]);
      return fail(
        `unknown instruction: ${node.keywordAsWritten.toUpperCase()}${s ? ` (did you mean ${s}?)` : ''}`,
        `Dockerfile instructions are ${KEYWORDS.join(', ')}`,
      );
    }
  }
}

type Base = { range: AstNode['range']; original: string; comments: string[] };

// Module-level helpers, not closures: this runs once per instruction and closures cost (tsx adds
// a defineProperty to every one it creates).
function failAt(node: AstNode, msg: string, hint?: string): never {
  throw new DockerfileSyntaxError(msg, node.range, hint ? { hint } : {});
}

function exactlyOne(node: AstNode, flags: BFlags): string {
  flags.parse();
  if (node.args.length !== 1) failAt(node, `${node.keyword} requires exactly one argument`);
  return node.args[0]!;
}

function atLeastOne(node: AstNode): void {
  if (node.args.length === 0) failAt(node, `${node.keyword} requires at least one argument`);
}

function setOpt<T extends object>(o: T, k: string, v: string | undefined): void {
  if (v !== undefined) (o as Record<string, unknown>)[k] = v;
}
type Fail = (msg: string, hint?: string) => never;

function commandForm(node: AstNode): CommandForm {
  return node.json ? { form: 'exec', args: node.args } : { form: 'shell', command: node.args[0] ?? '' };
}

function keyValues(node: AstNode, fail: Fail): KeyValue[] {
  const a = node.args;
  if (a.length === 0) fail(`${node.keyword} requires at least one argument`);
  const pairs: KeyValue[] = [];
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] === '') fail(`${node.keyword} names can not be blank`);
    pairs.push({ key: a[i]!, value: a[i + 1] ?? '' });
  }
  return pairs;
}

function toRun(node: AstNode, flags: BFlags, base: Base, fail: Fail): RunInstruction {
  flags.define('mount', 'strings').define('network', 'string').define('security', 'string').parse();
  const mounts = flags.strings('mount').map((m) => parseMount(m, undefined, { range: node.range }));
  const run: RunInstruction = { kind: 'RUN', ...base, ...commandForm(node), heredocs: node.heredocs, mounts };
  const network = flags.string('network');
  if (network !== undefined) {
    if (!['default', 'none', 'host'].includes(network))
      fail(`unsupported network mode ${JSON.stringify(network)}`, 'use default, none or host');
    run.network = network as NetworkMode;
  }
  const security = flags.string('security');
  if (security !== undefined) {
    if (!['sandbox', 'insecure'].includes(security))
      fail(`unsupported security mode ${JSON.stringify(security)}`, 'use sandbox or insecure');
    run.security = security as SecurityMode;
  }
  return run;
}

function toCopy(node: AstNode, flags: BFlags, base: Base, fail: Fail): CopyInstruction | AddInstruction {
  const isCopy = node.keyword === 'COPY';
  flags
    .define('chown', 'string')
    .define('chmod', 'string')
    .define('link', 'bool')
    .define('exclude', 'strings');
  if (isCopy) flags.define('from', 'string').define('parents', 'bool');
  else flags.define('checksum', 'string').define('keep-git-dir', 'bool').define('unpack', 'bool');
  flags.parse();
  if (node.args.length < 2) {
    fail(
      `${node.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`,
    );
  }
  const words = node.args.slice(0, -1);
  let sources = words;
  if (node.heredocs.length > 0 && !node.json) {
    // `<<EOF` words name heredoc bodies, not files of the context.
    const names = new Set(node.heredocs.map((h) => h.name));
    sources = words.filter((w) => !names.has(parseHeredocWord(w)?.name ?? '\0'));
  }
  const common = {
    ...base,
    sources,
    dest: node.args[node.args.length - 1]!,
    json: node.json,
    heredocs: node.heredocs,
    link: flags.bool('link'),
    exclude: flags.strings('exclude'),
  };
  if (isCopy) {
    const c: CopyInstruction = { kind: 'COPY', ...common, parents: flags.bool('parents') };
    setOpt(c, 'from', flags.string('from'));
    setOpt(c, 'chown', flags.string('chown'));
    setOpt(c, 'chmod', flags.string('chmod'));
    return c;
  }
  const add: AddInstruction = { kind: 'ADD', ...common, keepGitDir: flags.bool('keep-git-dir') };
  setOpt(add, 'chown', flags.string('chown'));
  setOpt(add, 'chmod', flags.string('chmod'));
  setOpt(add, 'checksum', flags.string('checksum'));
  if (flags.has('unpack')) add.unpack = flags.bool('unpack');
  return add;
}

function toHealthcheck(node: AstNode, flags: BFlags, base: Base, fail: Fail): HealthcheckInstruction {
  if (node.args.length === 0) fail('HEALTHCHECK requires at least one argument');
  const typ = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  if (typ === 'NONE') {
    flags.parse();
    if (rest.length !== 0) fail('HEALTHCHECK NONE takes no arguments');
    return { kind: 'HEALTHCHECK', ...base, test: 'NONE' };
  }
  for (const f of ['interval', 'timeout', 'start-period', 'start-interval', 'retries'])
    flags.define(f, 'string');
  flags.parse();
  if (typ !== 'CMD') fail(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  if (rest.length === 0 || (!node.json && rest[0] === '')) fail('Missing command after HEALTHCHECK CMD');
  const form: CommandForm = node.json ? { form: 'exec', args: rest } : { form: 'shell', command: rest[0]! };
  const testArgs = node.json ? ['CMD', ...rest] : ['CMD-SHELL', rest[0]!];
  const hc: HealthcheckInstruction = { kind: 'HEALTHCHECK', ...base, test: 'CMD', ...form, testArgs };
  const dur = (name: string): number | undefined => {
    const v = flags.string(name);
    if (v === undefined || v === '') return undefined;
    const ns = parseGoDuration(v);
    if (ns === undefined) return fail(`time: invalid duration ${JSON.stringify(v)}`);
    if (ns === 0) return undefined;
    if (ns < 1e6) fail(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return ns / 1e6;
  };
  const set = (k: 'interval' | 'timeout' | 'startPeriod' | 'startInterval', v: number | undefined) => {
    if (v !== undefined) (hc as unknown as Record<string, unknown>)[k] = v;
  };
  set('interval', dur('interval'));
  set('timeout', dur('timeout'));
  set('startPeriod', dur('start-period'));
  set('startInterval', dur('start-interval'));
  const retries = flags.string('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries))
      fail(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number.parseInt(retries, 10);
    if (n < 0) fail(`--retries cannot be negative (${n})`);
    (hc as unknown as Record<string, unknown>).retries = n;
  }
  return hc;
}
