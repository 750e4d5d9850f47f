import { DockerfileSyntaxError, TsbuildError } from '../../errors.js';
import { expandWords, type Instruction } from '../../parser/index.js';
import { type DispatchContext, expand, withShell } from './dispatch.js';
import {
  addEnv,
  commitToHistory,
  goDuration,
  goList,
  goQuoteList,
  goRune,
  sortedKeys,
} from './image-config.js';
import { isSignal, parsePorts } from './ports-signals.js';
import { addStateEnv, envLookup, type StageState } from './stage-state.js';

// The instructions that only change the image config (no vertex): each as BuildKit's dispatch
// writes the config and its history entry.

type Ins<K extends Instruction['kind']> = Extract<Instruction, { kind: K }>;
type ConfigIns = Exclude<Instruction, Ins<'ARG' | 'WORKDIR' | 'RUN' | 'COPY' | 'ADD' | 'FROM'>>;

export function dispatchConfig(st: StageState, ctx: DispatchContext, ins: ConfigIns): void {
  const img = st.image;
  const c = img.config;
  switch (ins.kind) {
    case 'ENV':
      dispatchEnv(st, ctx, ins);
      return;
    case 'LABEL':
      dispatchLabel(st, ctx, ins);
      return;
    case 'EXPOSE':
      dispatchExpose(st, ctx, ins);
      return;
    case 'VOLUME':
      dispatchVolume(st, ctx, ins);
      return;
    case 'HEALTHCHECK':
      dispatchHealthcheck(st, ctx, ins);
      return;
    case 'MAINTAINER':
      img.author = ins.name;
      commitToHistory(img, `MAINTAINER ${ins.name}`, false, false);
      return;
    case 'USER': {
      const u = expand(st, ctx, ins.user);
      st.user = u;
      c.User = u;
      commitToHistory(img, `USER ${u}`, false, false);
      return;
    }
    case 'STOPSIGNAL': {
      const sig = expand(st, ctx, ins.signal);
      if (!isSignal(sig)) throw new TsbuildError('INVALID_SIGNAL', `Invalid signal: ${sig}`);
      c.StopSignal = sig;
      commitToHistory(img, `STOPSIGNAL ${sig}`, false, false);
      return;
    }
    case 'SHELL':
      c.Shell = [...ins.args];
      commitToHistory(img, `SHELL ${goList(ins.args)}`, false, false);
      return;
    case 'CMD': {
      const args = ins.form === 'shell' ? withShell(st, ins.command) : [...ins.args];
      c.Cmd = args;
      c.ArgsEscaped = true;
      st.cmdSet = true;
      commitToHistory(img, `CMD ${goQuoteList(args)}`, false, false);
      return;
    }
    case 'ENTRYPOINT': {
      const args = ins.form === 'shell' ? withShell(st, ins.command) : [...ins.args];
      c.Entrypoint = args;
      if (!st.cmdSet) c.Cmd = null;
      commitToHistory(img, `ENTRYPOINT ${goQuoteList(args)}`, false, false);
      return;
    }
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), ins.expression];
      return;
  }
}

/** Every pair is expanded against the environment before the instruction sets any. */
function dispatchEnv(st: StageState, ctx: DispatchContext, ins: Ins<'ENV'>): void {
  const img = st.image;
  const c = img.config;
  let msg = 'ENV';
  // Every word is expanded against the environment before the instruction (BuildKit expands
  // the whole command first): `ENV A=1 B=$A` sees the old A.
  const pairs = ins.pairs.map((kv) => [expand(st, ctx, kv.key), expand(st, ctx, kv.value)] as const);
  for (const [k, v] of pairs) {
    msg += ` ${k}=${v}`;
    addStateEnv(st, k, v);
    c.Env = addEnv(c.Env, k, v);
  }
  commitToHistory(img, msg, false, false);
}

/** Labels merge into the config, sorted as Go marshals a map. */
function dispatchLabel(st: StageState, ctx: DispatchContext, ins: Ins<'LABEL'>): void {
  const img = st.image;
  const c = img.config;
  let msg = 'LABEL';
  const labels = { ...(c.Labels ?? {}) };
  const pairs = ins.pairs.map((kv) => [expand(st, ctx, kv.key), expand(st, ctx, kv.value)] as const);
  for (const [k, v] of pairs) {
    labels[k] = v;
    msg += ` ${k}=${v}`;
  }
  c.Labels = sortedKeys(labels);
  commitToHistory(img, msg, false, false);
}

/** Ports as go-connections/nat parses them; history as Go prints the port map. */
function dispatchExpose(st: StageState, ctx: DispatchContext, ins: Ins<'EXPOSE'>): void {
  const img = st.image;
  const c = img.config;
  const ports = new Set<string>();
  for (const w of ins.ports)
    for (const p of expandWords(w, envLookup(st), { escapeToken: ctx.esc }))
      for (const q of parsePorts(p)) ports.add(q);
  const exposed = { ...(c.ExposedPorts ?? {}) };
  for (const p of ports) exposed[p] = {};
  c.ExposedPorts = sortedKeys(exposed);
  const sorted = [...ports].sort();
  commitToHistory(img, `EXPOSE map[${sorted.map((p) => `${p}:{}`).join(' ')}]`, false, false);
}

/** An empty volume path fails, as in BuildKit. */
function dispatchVolume(st: StageState, ctx: DispatchContext, ins: Ins<'VOLUME'>): void {
  const img = st.image;
  const c = img.config;
  const vols = ins.paths.map((p) => expand(st, ctx, p));
  const volumes = { ...(c.Volumes ?? {}) };
  for (const v of vols) {
    if (v === '') throw new DockerfileSyntaxError('VOLUME specified can not be an empty string', ins.range);
    volumes[v] = {};
  }
  c.Volumes = sortedKeys(volumes);
  commitToHistory(img, `VOLUME ${goList(vols)}`, false, false);
}

/** HEALTHCHECK NONE, or a test with its durations (ms in the Dockerfile, ns in the config). */
function dispatchHealthcheck(st: StageState, _ctx: DispatchContext, ins: Ins<'HEALTHCHECK'>): void {
  const img = st.image;
  const c = img.config;
  const hc: NonNullable<typeof c.Healthcheck> = { Test: ins.test === 'NONE' ? ['NONE'] : ins.testArgs };
  let interval = 0;
  let timeout = 0;
  let startPeriod = 0;
  let retries = 0;
  if (ins.test !== 'NONE') {
    interval = (ins.interval ?? 0) * 1e6;
    timeout = (ins.timeout ?? 0) * 1e6;
    startPeriod = (ins.startPeriod ?? 0) * 1e6;
    retries = ins.retries ?? 0;
    // Go's omitempty: zero durations and retries are not in the config JSON.
    if (interval) hc.Interval = interval;
    if (timeout) hc.Timeout = timeout;
    if (startPeriod) hc.StartPeriod = startPeriod;
    if (ins.startInterval) hc.StartInterval = ins.startInterval * 1e6;
    if (retries) hc.Retries = retries;
  }
  c.Healthcheck = hc;
  // BuildKit (dockerd 20.10) formats the struct with %q: durations as quoted strings, retries as a rune.
  const q = (ns: number) => `"${goDuration(ns)}"`;
  commitToHistory(
    img,
    `HEALTHCHECK &{${goQuoteList(hc.Test ?? [])} ${q(interval)} ${q(timeout)} ${q(startPeriod)} ${goRune(retries)}}`,
    false,
    false,
  );
}
