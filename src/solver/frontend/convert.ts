import { TsbuildError } from '../../errors.js';
import { type ImageConfig, normalizePlatform, type Platform } from '../../oci/index.js';
import { applyChecks, type Stage, type StagesResult, suggest, type Warning } from '../../parser/index.js';
import { type ExecOp, makeVertex, type Vertex } from '../graph.js';
import { globalArgs, sourceDateEpoch, unusedBuildArgs } from './build-args.js';
import { dispatchInstruction } from './dispatch.js';
import { omitEmpty, type StageImage, sortedKeys } from './image-config.js';
import type { NamedContext } from './named-contexts.js';
import { countSteps, initFromBase, onbuildTriggers, prefix } from './stage-init.js';
import type { StageState } from './stage-state.js';
import { checkCycles, findSource, fromRefs, resolveReachable, stageStates } from './stage-states.js';
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
        st.deps.add(findSource(from, st, states, byName, extra, opts, ins.range));
    if (st.base) st.deps.add(st.base);
  }
  checkCycles(states);
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

export { prefix };
