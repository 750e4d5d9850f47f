import { DockerfileSyntaxError } from '../errors.js';
import { applyChecks, skipChecks } from './checks.js';
import { instructionWarnings, warning } from './lint.js';
import { parseDockerfile } from './parse-dockerfile.js';
import { PREDEFINED_ARG_NAMES } from './scope.js';
import { expandWord, processWordWithMatches } from './shell-lexer.js';
import { suggest } from './suggest.js';
import { toInstruction } from './to-instructions.js';
import type {
  ArgInstruction,
  DockerfileAst,
  FromInstruction,
  Instruction,
  ParseOptions,
  Result,
  Stage,
  StagesResult,
  Warning,
} from './types.js';

/** Text or AST → stages + meta ARGs. Throws DockerfileSyntaxError (e.g. an instruction before FROM). */
export function toStages(input: string | DockerfileAst, opts: ParseOptions = {}): Result<StagesResult> {
  const parsed = typeof input === 'string' ? parseDockerfile(input, opts) : { value: input, warnings: [] };
  const ast = parsed.value;
  const stages: Stage[] = [];
  const metaArgs: ArgInstruction[] = [];
  const all: Instruction[] = [];
  const warningsBefore = (e: DockerfileSyntaxError, line: number): Warning[] => {
    try {
      const nodes = ast.nodes.slice(0, all.length);
      const found = [
        ...parsed.warnings,
        ...instructionWarnings(nodes, all),
        ...stageWarnings(stages, metaArgs),
      ];
      return skipChecks(found, ast.checks).filter((w) => w.range.start.line < line);
    } catch {
      return e.warnings; // the syntax error is what matters; its warnings are a courtesy
    }
  };
  for (const node of ast.nodes) {
    let ins: Instruction;
    try {
      ins = toInstruction(node, ast.escapeToken);
    } catch (e) {
      // BuildKit prints the checks of what it parsed before the error (testWarningsBeforeError).
      if (e instanceof DockerfileSyntaxError) e.warnings = warningsBefore(e, node.range.start.line);
      throw e;
    }
    all.push(ins);
    if (ins.kind === 'FROM') {
      stages.push(newStage(ins, stages.length));
    } else if (stages.length === 0) {
      if (ins.kind === 'ARG') metaArgs.push(ins);
      else {
        throw new DockerfileSyntaxError(
          `no build stage in current context: ${node.keyword} before the first FROM`,
          node.range,
          {
            hint: 'a Dockerfile starts with FROM; only ARG instructions and parser directives may come before it',
          },
        );
      }
    } else stages[stages.length - 1]!.instructions.push(ins);
  }
  if (stages.length === 0) {
    // Only ARGs (parseDockerfile already rejected a file with no instruction at all).
    const last = metaArgs[metaArgs.length - 1]!;
    throw new DockerfileSyntaxError('dockerfile contains no stages to build', last.range, {
      hint: 'add a FROM instruction: a stage starts with FROM',
    });
  }
  const warnings = [
    ...parsed.warnings,
    ...instructionWarnings(ast.nodes, all),
    ...stageWarnings(stages, metaArgs),
  ].sort((a, b) => a.range.start.line - b.range.start.line);
  const value: StagesResult = {
    stages,
    metaArgs,
    directives: ast.directives,
    escapeToken: ast.escapeToken,
    checks: ast.checks,
  };
  return { value, warnings: applyChecks(warnings, ast.checks) };
}

function newStage(from: FromInstruction, index: number): Stage {
  const s: Stage = { index, base: from.image, from, instructions: [], comments: from.comments };
  if (from.stageName !== undefined) s.name = from.stageName;
  if (from.platform !== undefined) s.platform = from.platform;
  return s;
}

function stageWarnings(stages: Stage[], metaArgs: ArgInstruction[]): Warning[] {
  const out: Warning[] = [];
  const seen = new Set<string>();
  const declared = new Set<string>([
    ...PREDEFINED_ARG_NAMES,
    ...metaArgs.flatMap((a) => a.args.map((d) => d.name)),
  ]);
  const defaults = metaDefaults(metaArgs);
  const carried = new Map<Stage, StageChecks>();
  for (const s of stages) {
    if (s.name !== undefined) {
      if (seen.has(s.name)) {
        out.push(
          warning(
            'DuplicateStageName',
            `Duplicate stage name "${s.name}", stage names should be unique`,
            s.from.range,
          ),
        );
      }
      seen.add(s.name);
    }
    for (const word of [s.base, s.platform ?? '']) {
      for (const name of undeclared(word, declared)) {
        const near = suggest(name, [...declared]);
        const mean = near ? ` (did you mean ${near}?)` : '';
        out.push(
          warning('UndefinedArgInFrom', `FROM argument '${name}' is not declared${mean}`, s.from.range),
        );
      }
    }
    if (s.base.includes('$') && !validDefaultBase(s.base, defaults)) {
      out.push(
        warning(
          'InvalidDefaultArgInFrom',
          `Default value for ARG ${s.base} results in empty or invalid base image name`,
          s.from.range,
        ),
      );
    }
    // A stage built on an earlier one starts with its SHELL and WORKDIR (BuildKit's dispatch state).
    const base = s.base.toLowerCase();
    const inherited = stages.slice(0, stages.indexOf(s)).findLast((p) => p.name?.toLowerCase() === base);
    const state = { shellSet: false, absWorkdir: false, ...(inherited ? carried.get(inherited) : {}) };
    out.push(...instructionOrderWarnings(s, state));
    carried.set(s, state);
  }
  return out;
}

/** Global ARGs with only their defaults (no --build-arg), platform args as placeholders. */
function metaDefaults(metaArgs: ArgInstruction[]): Map<string, string> {
  const m = new Map<string, string>(
    PREDEFINED_ARG_NAMES.map((n) => [n, n.endsWith('PLATFORM') ? 'linux/amd64' : 'x']),
  );
  for (const a of metaArgs) {
    for (const d of a.args) {
      if (d.default === undefined) {
        if (!m.has(d.name)) m.set(d.name, '');
        continue;
      }
      try {
        m.set(
          d.name,
          expandWord(d.default, (n) => m.get(n)),
        );
      } catch {
        m.set(d.name, '');
      }
    }
  }
  return m;
}

/** Does the FROM word, expanded with the defaults, look like an image reference (or a stage name)? */
function validDefaultBase(base: string, defaults: Map<string, string>): boolean {
  let v: string;
  try {
    v = expandWord(base, (n) => defaults.get(n));
  } catch {
    return false;
  }
  return /^[a-z0-9][a-z0-9._\-/:@]*$/i.test(v) && !/[:@]$/.test(v) && !v.includes('::') && !v.includes('//');
}

function undeclared(word: string, declared: Set<string>): string[] {
  try {
    return [...processWordWithMatches(word, (n) => (declared.has(n) ? '' : undefined)).unmatched];
  } catch {
    return [];
  }
}

/** What a stage passes on to one built on it: a SHELL was set, an absolute WORKDIR was set. */
interface StageChecks {
  shellSet: boolean;
  absWorkdir: boolean;
}

function instructionOrderWarnings(s: Stage, state: StageChecks): Warning[] {
  const out: Warning[] = [];
  const last = new Map<string, Instruction>();
  for (const ins of s.instructions) {
    if (ins.kind === 'SHELL') state.shellSet = true;
    if ((ins.kind === 'CMD' || ins.kind === 'ENTRYPOINT') && ins.form === 'shell' && !state.shellSet) {
      out.push(
        warning(
          'JSONArgsRecommended',
          `JSON arguments recommended for ${ins.kind} to prevent unintended behavior related to OS signals`,
          ins.range,
        ),
      );
    }
    if (ins.kind === 'CMD' || ins.kind === 'ENTRYPOINT' || ins.kind === 'HEALTHCHECK') {
      const prev = last.get(ins.kind);
      if (prev) {
        out.push(
          warning(
            'MultipleInstructionsDisallowed',
            `Multiple ${ins.kind} instructions should not be used in the same stage because only the last one will be used`,
            prev.range,
          ),
        );
      }
      last.set(ins.kind, ins);
    }
    if (ins.kind === 'WORKDIR') {
      const p = ins.path.replace(/^["']|["']$/g, '');
      // BuildKit checks only the first WORKDIR a stage (or the stage it is built on) sets.
      const first = !state.absWorkdir;
      state.absWorkdir = true;
      if (first && !p.startsWith('/') && !p.startsWith('$')) {
        out.push(
          warning(
            'WorkdirRelativePath',
            `Relative workdir "${ins.path}" can have unexpected results if the base image changes`,
            ins.range,
          ),
        );
      }
    }
  }
  return out;
}
