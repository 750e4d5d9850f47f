import type { SourceRange } from '../errors.js';
import type { AstNode, Instruction, Warning } from './types.js';

/**
 * BuildKit's build checks (frontend/dockerfile/linter) that need only the instructions themselves.
 * Messages follow BuildKit's wording; codes are its rule names.
 */
const URL = 'https://docs.docker.com/go/dockerfile/rule/';
const slug = (code: string) => code.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

export function warning(code: string, message: string, range: SourceRange): Warning {
  return { code, message, range, url: `${URL}${slug(code)}/` };
}

const selfConsistent = (s: string) => s === s.toUpperCase() || s === s.toLowerCase();

/** Names that look like secrets (BuildKit's SecretsUsedInArgOrEnv tokens). */
const reSecret =
  /(?:^|_)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)/i;
const reSecretAllow = /(?:^|_)public(?:_|$)/i;

export function instructionWarnings(nodes: AstNode[], instructions: Instruction[]): Warning[] {
  const out: Warning[] = [];
  let lower = 0;
  let upper = 0;
  for (const n of nodes) {
    if (!selfConsistent(n.keywordAsWritten)) continue;
    if (n.keywordAsWritten === n.keywordAsWritten.toLowerCase()) lower++;
    else upper++;
  }
  const majorityLower = lower > upper;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    const kw = n.keywordAsWritten;
    const ins = instructions[i]!;
    let casing: string | undefined;
    if (!selfConsistent(kw)) casing = majorityLower ? 'lowercase' : 'uppercase';
    else if (majorityLower && kw === kw.toUpperCase() && kw !== kw.toLowerCase()) casing = 'lowercase';
    else if (!majorityLower && kw === kw.toLowerCase() && kw !== kw.toUpperCase()) casing = 'uppercase';
    if (casing) {
      out.push(
        warning(
          'ConsistentInstructionCasing',
          `Command '${kw}' should match the case of the command majority (${casing})`,
          n.range,
        ),
      );
    }
    out.push(...nodeWarnings(n, ins));
  }
  return out;
}

function nodeWarnings(n: AstNode, ins: Instruction): Warning[] {
  const out: Warning[] = [];
  const r = n.range;
  switch (ins.kind) {
    case 'MAINTAINER':
      out.push(
        warning('MaintainerDeprecated', 'Maintainer instruction is deprecated in favor of using label', r),
      );
      break;
    case 'ENV':
    case 'LABEL':
      if (n.legacyKeyValue) {
        out.push(
          warning(
            'LegacyKeyValueFormat',
            `"${ins.kind} key=value" should be used instead of legacy "${ins.kind} key value" format`,
            r,
          ),
        );
      }
      if (ins.kind === 'ENV') for (const p of ins.pairs) out.push(...secretCheck('ENV', p.key, r));
      break;
    case 'ARG':
      for (const a of ins.args) out.push(...secretCheck('ARG', a.name, r));
      break;
    case 'FROM':
      out.push(...fromWarnings(n, ins));
      break;
  }
  return out;
}

function fromWarnings(n: AstNode, ins: Extract<Instruction, { kind: 'FROM' }>): Warning[] {
  const out: Warning[] = [];
  const r = n.range;
  const asWord = n.args[1];
  if (asWord !== undefined && selfConsistent(asWord) && selfConsistent(n.keywordAsWritten)) {
    const fromUpper = n.keywordAsWritten === n.keywordAsWritten.toUpperCase();
    const asUpper = asWord === asWord.toUpperCase();
    if (fromUpper !== asUpper)
      out.push(
        warning('FromAsCasing', `'${asWord}' and '${n.keywordAsWritten}' keywords' casing do not match`, r),
      );
  }
  const written = n.args[2];
  if (written !== undefined && written !== written.toLowerCase()) {
    out.push(warning('StageNameCasing', `Stage name '${written}' should be lowercase`, r));
  }
  if (ins.stageName === 'scratch' || ins.stageName === 'context') {
    out.push(
      warning(
        'ReservedStageName',
        `Stage name should not use the same name as reserved stage "${ins.stageName}"`,
        r,
      ),
    );
  }
  if (ins.platform !== undefined) {
    if (ins.platform === '$TARGETPLATFORM' || ins.platform === `\${TARGETPLATFORM}`) {
      out.push(
        warning(
          'RedundantTargetPlatform',
          `Setting platform to predefined ${ins.platform} in FROM is redundant as this is the default behavior`,
          r,
        ),
      );
    } else if (!ins.platform.includes('$') && !namesPlatform(ins.stageName, ins.platform)) {
      out.push(
        warning(
          'FromPlatformFlagConstDisallowed',
          `FROM --platform flag should not use constant value "${ins.platform}"`,
          r,
        ),
      );
    }
  }
  return out;
}

function secretCheck(kind: 'ARG' | 'ENV', name: string, r: SourceRange): Warning[] {
  if (!reSecret.test(name) || reSecretAllow.test(name)) return [];
  return [
    warning(
      'SecretsUsedInArgOrEnv',
      `Do not use ARG or ENV instructions for sensitive data (${kind} "${name}")`,
      r,
    ),
  ];
}

/** BuildKit lets a constant platform be when the stage's name says which one (`AS linux`, `AS my_amd64`). */
function namesPlatform(stage: string | undefined, platform: string): boolean {
  if (!stage) return false;
  const [os = '', arch = ''] = platform.toLowerCase().split('/');
  const name = stage.toLowerCase();
  return (os !== '' && name.includes(os)) || (arch !== '' && name.includes(arch));
}
