import { DockerfileSyntaxError, firstLine, type SourceRange, TsbuildError } from '../../errors.js';
import { type Platform, parsePlatform } from '../../oci/index.js';
import { expandWord, type Instruction, type Stage, type StagesResult, suggest } from '../../parser/index.js';
import type { ConvertOptions } from './convert.js';
import { emptyImage } from './image-config.js';
import { applyNamed, namedContext } from './named-contexts.js';
import { resolveBase } from './stage-init.js';
import type { StageState } from './stage-state.js';

// The stages as dockerfile2llb sees them before it dispatches any: a state per stage (FROM
// expanded), what COPY --from and RUN --mount from= name (a stage, an index, a named context or an
// image), which of them the target needs, and their bases resolved.

export interface Stages {
  states: StageState[];
  byName: Map<string, StageState>;
  extra: StageState[];
}

/**
 * What the target needs, with every base image resolved (in parallel). The ONBUILD triggers of a
 * resolved base may name stages or images of their own: BuildKit scans them for dependencies too
 * (testOnBuildNewDeps), so this goes round until nothing new is reached.
 */
export async function resolveReachable(
  target: StageState,
  g: Stages,
  opts: ConvertOptions,
): Promise<Set<StageState>> {
  const reachable = new Set<StageState>();
  const visit = (s: StageState) => {
    if (reachable.has(s)) return;
    reachable.add(s);
    for (const d of s.deps) visit(d);
  };
  visit(target);
  const resolved = new Set<StageState>();
  for (;;) {
    checkCycles([...g.states, ...g.extra].filter((s) => reachable.has(s)));
    const todo = [...g.states, ...g.extra].filter((s) => reachable.has(s) && !s.base && !resolved.has(s));
    if (todo.length === 0) return reachable;
    for (const s of todo) resolved.add(s);
    await Promise.all(todo.map((s) => resolveBase(s, opts).catch((e) => Promise.reject(located(e, s, g)))));
    for (const s of todo)
      for (const t of s.onbuild ?? [])
        for (const from of fromRefs(t)) {
          const d = findSource(from, s, g.states, g.byName, g.extra, opts);
          s.deps.add(d);
          visit(d);
        }
  }
}

/**
 * A base that could not be resolved, placed at the line that names it. A bare name close to a
 * stage's (`COPY --from=biuld`) was most likely meant as that stage: BuildKit takes any name no
 * stage has for an image, and the registry's "not found" says nothing of the typo.
 */
function located(e: unknown, s: StageState, g: Stages): unknown {
  if (!(e instanceof TsbuildError)) return e;
  const name = s.fromName ?? s.baseRef ?? '';
  const near = /^[\w.-]+$/.test(name)
    ? suggest(
        name,
        g.states.flatMap((t) => (t.stage.name ? [t.stage.name] : [])),
        false,
      )
    : undefined;
  const err = near
    ? new TsbuildError(e.code, e.message, {
        hint: `no stage is named "${name}" (did you mean "${near}"?), so it was taken for an image${e.hint ? `; ${e.hint}` : ''}`,
        cause: e,
      })
    : e;
  err.locate(s.refLine ?? s.stage.from.range.start.line, undefined);
  return err;
}

/** A state per stage, its FROM expanded with the global ARGs; named stages by lower-cased name. */
export function stageStates(
  parsed: StagesResult,
  opts: ConvertOptions,
  globals: Map<string, string | undefined>,
  esc: StagesResult['escapeToken'],
) {
  const lookup = (n: string) => globals.get(n);
  const states: StageState[] = [];
  const byName = new Map<string, StageState>();
  parsed.stages.forEach((stage, i) => {
    const base = expandWord(stage.base, lookup, { escapeToken: esc, range: stage.from.range });
    if (base === '')
      throw new DockerfileSyntaxError(`base name (${stage.base}) should not be blank`, stage.from.range);
    const st = newState(stage, stage.name ?? `stage-${i}`, opts.targetPlatform);
    if (opts.multiPlatform) st.prefixPlatform = true;
    st.baseRef = base;
    const named = namedContext(base, opts.namedContexts);
    const b = named ? undefined : byName.get(base.toLowerCase());
    if (b) st.base = b;
    if (named) applyNamed(st, named);
    if (stage.platform)
      st.platform = parsePlatformWord(stage, expandWord(stage.platform, lookup, { escapeToken: esc }));
    // dockerfile2llb: stage names match case-insensitively (EqualFold); an unnamed stage never does.
    st.ignoreCache =
      !!opts.noCache ||
      (!!stage.name && (opts.noCacheFilter ?? []).some((n) => n.toLowerCase() === stage.name?.toLowerCase()));
    states.push(st);
    if (stage.name) byName.set(stage.name.toLowerCase(), st);
  });
  if (states.length === 0)
    throw new TsbuildError('DOCKERFILE_EMPTY', 'the Dockerfile has no FROM instruction');
  if (states.length === 1) (states[0] as StageState).name = '';
  return { states, byName };
}

function newState(stage: Stage, name: string, platform: Platform): StageState {
  return {
    stage,
    name,
    image: emptyImage(platform),
    platform,
    env: [],
    cwd: '/',
    user: '',
    buildArgs: [],
    cmdIndex: 0,
    cmdTotal: 0,
    cmdSet: false,
    ignoreCache: false,
    dispatched: false,
    deps: new Set(),
  };
}

/** As BuildKit's dispatch: platforms.Parse (`arm64` alone is linux/arm64), its error quoted. */
function parsePlatformWord(stage: Stage, v: string): Platform {
  try {
    return parsePlatform(v);
  } catch (e) {
    throw new DockerfileSyntaxError(`failed to parse platform ${v}: ${firstLine(e)}`, stage.from.range);
  }
}

export function fromRefs(ins: Instruction): string[] {
  const out: string[] = [];
  if (ins.kind === 'COPY' && ins.from) out.push(ins.from);
  if (ins.kind === 'RUN')
    for (const m of ins.mounts) {
      if (!m.from || m.type === 'secret' || m.type === 'ssh') continue;
      // BuildKit's parseMount says it its own way for a mount (COPY --from gets findSource's words)
      if (m.from.includes('$'))
        throw new DockerfileSyntaxError(
          "'from' doesn't support variable expansion, define alias stage instead",
          ins.range,
        );
      out.push(m.from);
    }
  return out;
}

/** BuildKit's toCommand: --from is a stage name, a stage index, or an image reference. */
export function findSource(
  from: string,
  st: StageState,
  states: StageState[],
  byName: Map<string, StageState>,
  extra: StageState[],
  opts: ConvertOptions,
  range?: SourceRange,
): StageState {
  // The instruction that names `from` (BuildKit locates these errors there), else its stage.
  const at = range ?? st.stage.from.range;
  const line = range?.start.line;
  if (/\$/.test(from)) {
    throw new DockerfileSyntaxError(
      'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
      at,
    );
  }
  const ctx = namedContext(from, opts.namedContexts);
  const named = ctx ? undefined : byName.get(from.toLowerCase());
  if (named) return named;
  if (!ctx && /^\d+$/.test(from)) {
    const s = states[Number(from)];
    if (!s) {
      const e = new TsbuildError('INVALID_STAGE_INDEX', `invalid stage index ${from}`);
      e.locate(line, undefined);
      throw e;
    }
    return s;
  }
  let x = extra.find((e) => e.fromName === from);
  if (!x) {
    x = newState(
      { ...st.stage, instructions: [], name: undefined } as unknown as Stage,
      from,
      opts.targetPlatform,
    );
    x.baseRef = from;
    if (ctx) applyNamed(x, ctx);
    x.fromName = from;
    x.unregistered = true;
    if (line !== undefined) x.refLine = line;
    extra.push(x);
  }
  return x;
}

/**
 * BuildKit dispatches the stages in order, so what a --from names must be dispatched already (an
 * image always is): a later stage is an error where it is used (newer frontends; 0.8 read it empty).
 */
export function requireDispatched(src: StageState, message: string, at: SourceRange): StageState {
  if (!src.unregistered && !src.dispatched) throw new DockerfileSyntaxError(message, at);
  return src;
}

/** BuildKit's stageName: the stage's name, else `stage-N`. */
export function stageName(s: StageState): string {
  return s.stage.name ?? `stage-${s.stage.index}`;
}

/**
 * BuildKit's hasCircularDependency, over every stage, built or not: a depth-first walk from each
 * stage in order; the error names the stage the walk started from, which may only lead to the cycle.
 */
export function checkCycles(states: StageState[]): void {
  const visited = new Set<StageState>();
  const path = new Set<StageState>();
  const visit = (s: StageState): boolean => {
    if (visited.has(s)) return false;
    visited.add(s);
    path.add(s);
    for (const d of s.deps) if (path.has(d) || visit(d)) return true;
    path.delete(s);
    return false;
  };
  for (const s of states)
    if (visit(s))
      throw new TsbuildError('CIRCULAR_DEPENDENCY', `circular dependency detected on stage: ${stageName(s)}`);
}
