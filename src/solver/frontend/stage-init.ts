import { DockerfileSyntaxError, TsbuildError } from '../../errors.js';
import { formatPlatform, normalizePlatform, type Platform } from '../../oci/index.js';
import { type Instruction, type OnbuildInstruction, toStages } from '../../parser/index.js';
import { makeVertex } from '../graph.js';
import type { ConvertOptions, ResolvedImage } from './convert.js';
import { cleanAbs } from './dispatch.js';
import { emptyImage, fromImageConfig } from './image-config.js';
import { addStateEnv, envLookup, type StageState } from './stage-state.js';

/** Resolves a stage's base image (scratch, or pulled through the resolver) and its ONBUILD triggers. */
export async function resolveBase(st: StageState, opts: ConvertOptions): Promise<void> {
  const ref = st.baseRef as string;
  if (st.named) {
    // A named local context or git/http(s) source: its tree is the rootfs, the config a scratch
    // one (as BuildKit's).
    st.image = emptyImage(st.platform);
    st.vertex = makeVertex(st.named.op, [], {
      name: st.named.label,
      stage: st.name,
      line: st.stage.from.range.start.line,
    });
    st.cmdTotal = 1;
    return;
  }
  if (ref === 'scratch') {
    st.image = emptyImage(st.platform);
    return;
  }
  let r: ResolvedImage;
  try {
    r = await opts.resolveImage(ref, st.platform);
  } catch (e) {
    if (e instanceof TsbuildError) throw e;
    throw new TsbuildError('BASE_IMAGE', `${ref}: ${(e as Error).message}`, { cause: e });
  }
  st.image = fromImageConfig(r.config);
  // ONBUILD triggers of the base image run first in this stage, then leave its config.
  const triggers = st.image.config.OnBuild ?? [];
  if (triggers.length > 0 && !st.unregistered) {
    st.onbuild = triggers.map((t) => parseTrigger(t, st));
    st.image.config.OnBuild = undefined;
  }
  const scratchLike = r.config.rootfs.diff_ids.length === 0;
  if (!scratchLike) {
    const platform = formatPlatform(st.platform);
    st.vertex = makeVertex({ kind: 'image', ref: r.ref, platform }, [], {
      name: 'FROM',
      stage: st.name,
      line: st.stage.from.range.start.line,
    });
    st.cmdTotal = 1;
  }
  st.baseRef = r.ref;
}

/** dispatchState.init + the start of dispatchStages: inherit, ensure PATH, env, workdir, user. */
function parseTrigger(text: string, st: StageState): Instruction {
  const parsed = toStages(`FROM scratch\n${text}\n`).value.stages[0]?.instructions ?? [];
  if (parsed.length !== 1) {
    throw new DockerfileSyntaxError(
      `onbuild trigger should be a single expression: ${text}`,
      st.stage.from.range,
    );
  }
  return parsed[0] as Instruction;
}

export function initFromBase(st: StageState): void {
  if (st.base) {
    const b = st.base;
    if (b.vertex) st.vertex = b.vertex;
    st.platform = b.platform;
    st.image = structuredClone(b.image);
    st.image.config.OnBuild = undefined;
    // The base stage's ARG values stay in the env (BuildKit's AddEnv on the llb state it inherits),
    // but its declared ARGs do not: a RUN here has no `|N K=V` prefix for them (d.buildArgs is per stage).
    st.buildArgs = [];
    st.env = b.env.map((e) => [...e] as [string, string]);
    // Then the image config's Env goes on top, as BuildKit does for every stage: an ENV the base
    // stage set wins again over an ARG of the same name declared after it there.
    applyConfigEnv(st);
    st.cwd = b.cwd;
    st.user = b.user;
    return;
  }
  const env = st.image.config.Env ?? [];
  if (!env.some((e) => e.split('=', 1)[0] === 'PATH')) {
    st.image.config.Env = [...env, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
  }
  applyConfigEnv(st);
  const wd = st.image.config.WorkingDir;
  if (wd) {
    // BuildKit dispatches a base's WorkingDir as an uncommitted WORKDIR, which path.Joins a relative
    // one onto the config's: "rel/dir" becomes "/rel/dir/rel/dir" (every frontend version).
    if (!wd.startsWith('/')) st.image.config.WorkingDir = cleanAbs(`${wd}/${wd}`);
    st.cwd = st.image.config.WorkingDir as string;
  }
  if (st.image.config.User) st.user = st.image.config.User;
}

export function countSteps(st: StageState): void {
  let n = st.base ? 0 : st.vertex ? 1 : 0;
  for (const ins of [...onbuildTriggers(st), ...st.stage.instructions]) {
    if (ins.kind === 'RUN' || ins.kind === 'COPY' || ins.kind === 'ADD' || ins.kind === 'WORKDIR') n++;
  }
  st.cmdTotal = n;
  if (st.vertex && !st.base) {
    // The FROM vertex carries the first step number: `[stage 1/N] FROM ref`.
    st.cmdIndex = 1;
    st.vertex = { ...st.vertex, name: prefix(st, `FROM ${st.baseRef}`, 1) };
  }
}

export function prefix(st: StageState, text: string, index: number): string {
  if (st.cmdTotal === 0) return text;
  const w = String(st.cmdTotal).length;
  const plat = st.prefixPlatform ? `${formatPlatform(st.platform)}${targetSuffix(st)} ` : '';
  return `[${plat}${st.name ? `${st.name} ` : ''}${String(index).padStart(w, ' ')}/${st.cmdTotal}] ${text}`;
}

/**
 * dockerfile2llb's formatTargetPlatform: a stage on one platform that declares TARGET* args for
 * another (cross-compiling from $BUILDPLATFORM) is named `linux/amd64->arm64`.
 */
function targetSuffix(st: StageState): string {
  const env = envLookup(st);
  const whole = env('TARGETPLATFORM');
  let t: Platform | undefined;
  if (whole !== undefined) {
    const [os = '', architecture = '', variant] = whole.split('/');
    t = { os, architecture, ...(variant ? { variant } : {}) };
  } else if (['TARGETOS', 'TARGETARCH', 'TARGETVARIANT'].some((k) => env(k) !== undefined)) {
    const variant = env('TARGETVARIANT');
    t = { os: env('TARGETOS') ?? '', architecture: env('TARGETARCH') ?? '', ...(variant ? { variant } : {}) };
  }
  if (!t) return '';
  const p = normalizePlatform({
    ...t,
    os: t.os || st.platform.os,
    architecture: t.architecture || st.platform.architecture,
  });
  const base = normalizePlatform(st.platform);
  if (p.os !== base.os) return `->${formatPlatform(p)}`;
  if (p.architecture !== base.architecture) return `->${p.architecture}${p.variant ? `/${p.variant}` : ''}`;
  return '';
}

/** ONBUILD triggers of the base image (or base stage) run first in the child stage. */
export function onbuildTriggers(st: StageState): Instruction[] {
  const triggers = st.base
    ? st.base.stage.instructions
        .filter((i): i is OnbuildInstruction => i.kind === 'ONBUILD')
        .map((i) => {
          // A trigger that does not parse fails the stage that runs it, as BuildKit's does.
          if ('triggerError' in i) throw new DockerfileSyntaxError(i.triggerError, i.range);
          return i.trigger;
        })
    : (st.onbuild ?? []);
  return triggers;
}

function applyConfigEnv(st: StageState): void {
  for (const e of st.image.config.Env ?? []) {
    const i = e.indexOf('=');
    addStateEnv(st, i < 0 ? e : e.slice(0, i), i < 0 ? '' : e.slice(i + 1));
  }
}
