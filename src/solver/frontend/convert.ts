import { DockerfileSyntaxError, TsbuildError } from '../../errors.js';
import { type ImageConfig, normalizePlatform, type Platform } from '../../oci/index.js';
import {
  applyChecks,
  expandWord,
  type Instruction,
  type Stage,
  type StagesResult,
  suggest,
  type Warning,
} from '../../parser/index.js';
import { type ExecOp, makeVertex, type Vertex } from '../graph.js';
import { globalArgs, sourceDateEpoch, unusedBuildArgs } from './build-args.js';
import { dispatchInstruction } from './dispatch.js';
import { emptyImage, omitEmpty, type StageImage, sortedKeys } from './image-config.js';
import { applyNamed, type NamedContext, namedContext } from './named-contexts.js';
import { countSteps, initFromBase, onbuildTriggers, prefix, resolveBase } from './stage-init.js';
import type { StageState } from './stage-state.js';
import { undefinedVars } from './undefined-vars.js';

export interface ResolvedImage {
  /** Canonical reference pinned by digest (`name:tag@sha256:…`). */
  ref: string;
  config: ImageConfig;
}

export interface ConvertOptions {
  target?: string;
  buildArgs?: Record<string, string>;
  targetPlatform: Platform;
  /** `--platform` was given: the image gets that platform (dockerfile2llb's !implicitTarget). */
  explicitPlatform?: boolean;
  /** One of several target platforms: step names carry the platform, as BuildKit's. */
  multiPlatform?: boolean;
  /** `--build-context`s by name. */
  namedContexts?: Record<string, NamedContext>;
  buildPlatform: Platform;
  labels?: Record<string, string>;
  noCache?: boolean;
  noCacheFilter?: string[];
  network?: 'default' | 'none' | 'host';
  /** What every RUN gets from `--add-host`, `--ulimit` and `--shm-size`. */
  run?: Pick<ExecOp, 'extraHosts' | 'ulimits' | 'shmSize'>;
  /** Entitlements granted (`security.insecure`: `RUN --security=insecure` runs privileged). */
  allow?: string[];
  escapeToken?: '\\' | '`';
  /** Parse warnings of the checks BuildKit makes at dispatch (`DISPATCH_CHECKS`): kept for the stages built. */
  dispatchWarnings?: Warning[];
  /** Resolves a base image reference to its digest and config (pulls through the registry client). */
  resolveImage(ref: string, platform: Platform): Promise<ResolvedImage>;
}

export interface ConvertResult {
  /** The target's rootfs vertex; undefined for an empty (scratch-only) image. */
  vertex?: Vertex;
  image: StageImage;
  targetName: string;
  warnings: Warning[];
  /** Number of instructions that produce a vertex (RUN, COPY, ADD, WORKDIR, FROM image). */
  steps: number;
  /** SOURCE_DATE_EPOCH, seconds: the exporters date the image (and outputs' files) by it. */
  epoch?: number;
}

/** The context source: one vertex shared by every COPY/ADD from the context. */
export const CONTEXT_VERTEX: Vertex = makeVertex({ kind: 'context', name: 'context' }, [], {
  name: '[internal] load build context',
});

/**
 * Stages → op graph, following BuildKit's dockerfile2llb: expand FROM with the global ARGs, resolve
 * reachable base images in parallel, dispatch only the stages the target needs (in file order),
 * carry the image config along, run ONBUILD triggers of the base, add `--label`s to the target.
 */
export async function convert(parsed: StagesResult, opts: ConvertOptions): Promise<ConvertResult> {
  const warnings: Warning[] = [];
  const globals = globalArgs(parsed, opts, opts.buildArgs ?? {});
  const epoch = sourceDateEpoch(opts.buildArgs ?? {}, globals);
  const esc = opts.escapeToken ?? parsed.escapeToken;
  const { states, byName } = stageStates(parsed, opts, globals, esc);
  let target = states[states.length - 1] as StageState;
  if (opts.target) {
    const t = byName.get(opts.target.toLowerCase());
    if (!t) {
      const near = suggest(
        opts.target,
        [...byName.values()].map((s) => s.stage.name ?? ''),
      );
      const mean = near ? ` (did you mean ${near}?)` : '';
      throw new TsbuildError('TARGET_NOT_FOUND', `target stage "${opts.target}" could not be found${mean}`);
    }
    target = t;
  }
  // BuildKit >= 0.18's built-in TARGETSTAGE: the stage being built (`default` for an unnamed last one)
  globals.set('TARGETSTAGE', opts.target ?? target.stage.name ?? 'default');
  // Dependencies: COPY --from and RUN --mount from= name stages (or images: unregistered states).
  const extra: StageState[] = [];
  for (const st of states) {
    // An ONBUILD's own --from is the child's to need (the stage that runs the trigger), not this one's.
    const own = st.stage.instructions.filter((i) => i.kind !== 'ONBUILD');
    const inherited = st.base ? onbuildTriggers(st) : [];
    for (const ins of [...inherited, ...own])
      for (const from of fromRefs(ins))
        st.deps.add(findSource(from, st, states, byName, extra, opts, ins.range.start.line));
    if (st.base) st.deps.add(st.base);
  }
  const reachable = await resolveReachable(target, { states, byName, extra }, opts);
  for (const st of [...extra, ...states]) {
    if (!reachable.has(st) || st.unregistered) continue;
    initFromBase(st);
    countSteps(st);
    const ctx = { opts, states, byName, extra, globals, warnings, esc };
    for (const ins of onbuildTriggers(st)) await dispatchInstruction(st, ins, ctx, true);
    for (const ins of st.stage.instructions) {
      warnings.push(...undefinedVars(st, ins, globals.keys(), esc));
      await dispatchInstruction(st, ins, ctx, false);
    }
    st.dispatched = true;
  }
  warnings.push(...builtStagesOnly(opts.dispatchWarnings ?? [], parsed.stages, reachable));
  const unused = unusedBuildArgs(parsed, reachable, opts.buildArgs ?? {});
  if (unused)
    // BuildKit: "[Warning] One or more build-args [X] were not consumed".
    warnings.push({ code: 'UnusedBuildArgs', message: unused, range: target.stage.from.range });
  finishTarget(target, opts);
  const steps = [...reachable].reduce((n, s) => n + s.cmdTotal, 0);
  // The build checks made while converting (UndefinedVar) obey `# check=` as the parser's do; the
  // unused build-arg notice is not a check in BuildKit (skip and error=true leave it alone).
  const isCheck = (w: Warning) => w.code !== 'UnusedBuildArgs';
  const kept = [
    ...applyChecks(warnings.filter(isCheck), parsed.checks),
    ...warnings.filter((w) => !isCheck(w)),
  ];
  const out: ConvertResult = { image: target.image, targetName: target.name, warnings: kept, steps };
  if (target.vertex) out.vertex = target.vertex;
  if (epoch !== undefined) out.epoch = epoch;
  return out;
}

/**
 * The parser's checks that BuildKit makes while it dispatches a stage (dispatchEnv, dispatchCmd,
 * dispatchWorkdir, validateUsedOnce, validateNoSecretKey): a build reports them only for the stages
 * it builds. run-build passes them here instead of printing them at once.
 */
export const DISPATCH_CHECKS = new Set([
  'LegacyKeyValueFormat',
  'SecretsUsedInArgOrEnv',
  'JSONArgsRecommended',
  'WorkdirRelativePath',
  'MultipleInstructionsDisallowed',
]);

function builtStagesOnly(ws: Warning[], stages: Stage[], reachable: Set<StageState>): Warning[] {
  const built = new Set([...reachable].map((st) => st.stage));
  const stageAt = (line: number) => stages.findLast((s) => s.from.range.start.line <= line);
  return ws.filter((w) => {
    const s = stageAt(w.range.start.line);
    return s !== undefined && built.has(s);
  });
}

interface Stages {
  states: StageState[];
  byName: Map<string, StageState>;
  extra: StageState[];
}

/**
 * What the target needs, with every base image resolved (in parallel). The ONBUILD triggers of a
 * resolved base may name stages or images of their own: BuildKit scans them for dependencies too
 * (testOnBuildNewDeps), so this goes round until nothing new is reached.
 */
async function resolveReachable(
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
    checkCycles(reachable);
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
function stageStates(
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

/** `--label`s, the explicit platform and BuildKit's empty-field omission on the target's image. */
function finishTarget(target: StageState, opts: ConvertOptions): void {
  if (opts.labels && Object.keys(opts.labels).length > 0) {
    target.image.config.Labels = sortedKeys({ ...(target.image.config.Labels ?? {}), ...opts.labels });
  }
  // dockerfile2llb: an explicit target platform, normalized (linux/arm64 has no variant), is the
  // image's, whatever its base image's config says (`arm64` + `v8` there).
  if (opts.explicitPlatform) {
    const { os, architecture, variant } = normalizePlatform(opts.targetPlatform);
    Object.assign(target.image, { os, architecture });
    if (variant) target.image.variant = variant;
    else delete target.image.variant;
  }
  omitEmpty(target.image);
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

function parsePlatformWord(stage: Stage, v: string): Platform {
  const [os, architecture, variant] = v.split('/');
  if (!os || !architecture)
    throw new DockerfileSyntaxError(`failed to parse platform ${v}`, stage.from.range);
  return variant ? { os, architecture, variant } : { os, architecture };
}

function fromRefs(ins: Instruction): string[] {
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
  line?: number,
): StageState {
  if (/\$/.test(from)) {
    throw new DockerfileSyntaxError(
      'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
      st.stage.from.range,
    );
  }
  const ctx = namedContext(from, opts.namedContexts);
  const named = ctx ? undefined : byName.get(from.toLowerCase());
  if (named) return defined(named, st, from);
  if (!ctx && /^\d+$/.test(from)) {
    const s = states[Number(from)];
    if (!s) {
      const e = new TsbuildError('INVALID_STAGE_INDEX', `invalid stage index ${from}`);
      e.locate(line, undefined);
      throw e;
    }
    return defined(s, st, from);
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

/** BuildKit: a stage can only use stages defined before it. */
function defined(src: StageState, st: StageState, from: string): StageState {
  if (src.stage.index >= st.stage.index && !st.unregistered) {
    throw new DockerfileSyntaxError(
      `cannot copy from stage "${from}", it needs to be defined before current stage "${st.name}"`,
      st.stage.from.range,
    );
  }
  return src;
}

function checkCycles(reachable: Set<StageState>): void {
  const visiting = new Set<StageState>();
  const done = new Set<StageState>();
  const dfs = (s: StageState) => {
    if (done.has(s)) return;
    if (visiting.has(s))
      throw new TsbuildError('CIRCULAR_DEPENDENCY', `circular dependency detected on stage: ${s.name}`);
    visiting.add(s);
    for (const d of s.deps) dfs(d);
    visiting.delete(s);
    done.add(s);
  };
  for (const s of reachable) dfs(s);
}

export { prefix };
