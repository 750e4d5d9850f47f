import { DockerfileSyntaxError } from '../errors.js';
import { BFlags } from './bflag.js';
import { applyChecks } from './checks.js';
import { checkExpansionSyntax } from './expand-instruction.js';
import {
  atLeastOne,
  type Base,
  commandForm,
  exactlyOne,
  type Fail,
  failAt,
  keyValues,
} from './instruction-helpers.js';
import { instructionWarnings } from './lint.js';
import { suggest } from './suggest.js';
import { toHealthcheck } from './to-healthcheck.js';
import { toCopy, toRun } from './to-run-copy.js';
import type { AstNode, DockerfileAst, EscapeToken, Instruction, Result, Warning } from './types.js';

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
    case 'FROM':
      return toFrom(node, flags, base, fail);
    case 'RUN':
      return toRun(node, flags, base, fail);
    case 'CMD':
    case 'ENTRYPOINT':
      flags.parse();
      return { kind: node.keyword, ...base, ...commandForm(node) };
    case 'SHELL':
      flags.parse();
      // Bare or `[]`: buildkit's parseShell checks for no words before the JSON form.
      if (a.length === 0) fail('SHELL requires at least one argument');
      if (!node.json)
        fail('SHELL requires the arguments to be in JSON form', 'write it as SHELL ["/bin/sh", "-c"]');
      return { kind: 'SHELL', ...base, args: a };
    case 'ENV':
    case 'LABEL': {
      flags.parse();
      return { kind: node.keyword, ...base, pairs: keyValues(node, fail) };
    }
    case 'ARG':
      return toArg(node, flags, base, fail);
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
      // buildkit's parseStopSignal never parses flags: `STOPSIGNAL --x SIGTERM` is SIGTERM.
      return { kind: 'STOPSIGNAL', ...base, signal: exactlyOne(node, undefined) };
    case 'HEALTHCHECK':
      return toHealthcheck(node, flags, base, fail);
    case 'ONBUILD':
      return toOnbuild(node, flags, base, fail);
    default: {
      const s = suggest(node.keyword, [...KEYWORDS]);
      return fail(
        `unknown instruction: ${printable(node.keywordAsWritten.toUpperCase())}${s ? ` (did you mean ${s}?)` : ''}`,
        `Dockerfile instructions are ${KEYWORDS.join(', ')}`,
      );
    }
  }
}

function toFrom(node: AstNode, flags: BFlags, base: Base, fail: Fail): Instruction {
  const a = node.args;
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

function toArg(node: AstNode, flags: BFlags, base: Base, fail: Fail): Instruction {
  flags.parse();
  atLeastOne(node);
  const args = node.args.map((w) => {
    const i = w.indexOf('=');
    if (i < 0) return { name: w };
    if (i === 0) fail('ARG names can not be blank');
    return { name: w.slice(0, i), default: w.slice(i + 1) };
  });
  return { kind: 'ARG', ...base, args };
}

function toOnbuild(node: AstNode, flags: BFlags, base: Base, fail: Fail): Instruction {
  // The trigger is checked before the flags, as buildkit's parseOnBuild does.
  if (!node.next) return fail('ONBUILD requires at least one argument');
  flags.parse();
  const t = node.next.keyword;
  if (t === 'ONBUILD') fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (t === 'MAINTAINER' || t === 'FROM') fail(`${t} isn't allowed as an ONBUILD trigger`);
  // The image config keeps the trigger as text: heredoc bodies are appended so it re-parses whole.
  let expression = node.original.replace(/^\s*ONBUILD\s*/i, '');
  for (const h of node.next.heredocs) expression += `\n${h.content}${h.name}`;
  // The trigger's words are expanded when it fires in a child build, so no expansion check here;
  // nor is it parsed for good here (see OnbuildInstruction.triggerError).
  try {
    return { kind: 'ONBUILD', ...base, expression, trigger: toInstruction(node.next) };
  } catch (e) {
    if (!(e instanceof DockerfileSyntaxError)) throw e;
    return { kind: 'ONBUILD', ...base, expression, triggerError: e.message };
  }
}

/** A keyword from a binary or garbled file is shown quoted and short, never raw control bytes. */
function printable(word: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
  if (word.length <= 40 && !/[\u0000-\u001f\u007f-\u009f\ufffd]/.test(word)) return word;
  const quoted = JSON.stringify(word.length > 40 ? `${word.slice(0, 40)}…` : word);
  return quoted.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
