import { DockerfileSyntaxError, TsbuildError } from '../../errors.js';
import type { Platform } from '../../oci/index.js';
import {
  expandWord,
  expandWords,
  type Instruction,
  type KeyValue,
  type LexOptions,
  type Warning,
} from '../../parser/index.js';
import { type FileAction, makeVertex, type Vertex } from '../graph.js';
import { type ConvertOptions, prefix } from './convert.js';
import { dispatchCopy } from './dispatch-copy.js';
import { dispatchRun } from './dispatch-run.js';
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

export interface DispatchContext {
  opts: ConvertOptions;
  states: StageState[];
  byName: Map<string, StageState>;
  extra: StageState[];
  globals: Map<string, string>;
  warnings: Warning[];
  esc: '\\' | '`';
}

export function expand(st: StageState, ctx: DispatchContext, word: string, extra: LexOptions = {}): string {
  return expandWord(word, envLookup(st), { escapeToken: ctx.esc, ...extra });
}

/** Go's filepath.Clean for absolute slash paths. */
export function cleanAbs(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return `/${parts.join('/')}`;
}

/** BuildKit's NormalizeWorkdir: relative paths join the current one. */
export function normalizeWorkdir(current: string, requested: string): string {
  // An empty WORKDIR (`WORKDIR $UNSET`) keeps the current one: BuildKit path.Joins it onto it.
  return cleanAbs(requested.startsWith('/') ? requested : `${current || '/'}/${requested}`);
}

export function step(st: StageState, text: string): string {
  st.cmdIndex++;
  return prefix(st, text, st.cmdIndex);
}

/** `uppercaseCmd(processCmdEnv(...))`: the label BuildKit shows for a step. */
export function label(st: StageState, ctx: DispatchContext, ins: Instruction): string {
  const first = ins.original.split('\n')[0] as string;
  let text = first;
  try {
    text = expand(st, ctx, first, { skipUnsetEnv: true, rawQuotes: true, rawEscapes: true });
  } catch {
    // BuildKit falls back to the raw command when expansion fails.
  }
  const sp = text.indexOf(' ');
  return sp < 0 ? text.toUpperCase() : `${text.slice(0, sp).toUpperCase()}${text.slice(sp)}`;
}

export async function dispatchInstruction(
  st: StageState,
  ins: Instruction,
  ctx: DispatchContext,
  onbuild: boolean,
): Promise<void> {
  const img = st.image;
  const c = img.config;
  switch (ins.kind) {
    case 'ENV': {
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
      return;
    }
    case 'LABEL': {
      let msg = 'LABEL';
      const labels = { ...(c.Labels ?? {}) };
      const pairs = ins.pairs.map((kv) => [expand(st, ctx, kv.key), expand(st, ctx, kv.value)] as const);
      for (const [k, v] of pairs) {
        labels[k] = v;
        msg += ` ${k}=${v}`;
      }
      c.Labels = sortedKeys(labels);
      commitToHistory(img, msg, false, false);
      return;
    }
    case 'MAINTAINER':
      img.author = ins.name;
      commitToHistory(img, `MAINTAINER ${ins.name}`, false, false);
      return;
    case 'ARG':
      dispatchArg(st, ctx, ins.args);
      return;
    case 'WORKDIR': {
      const requested = expand(st, ctx, ins.path);
      const wd = normalizeWorkdir(c.WorkingDir ?? st.cwd, requested);
      // BuildKit 0.8's dispatchWorkdir only path.Joins a relative WORKDIR: an absolute one is
      // recorded as written (`/a/b/`, `//x//y`) in the config and history; the mkdir and cwd are clean.
      const shown = requested.startsWith('/') ? requested : wd;
      c.WorkingDir = shown;
      st.cwd = wd;
      let withLayer = false;
      if (shown !== '/') {
        const action: FileAction = { type: 'mkdir', path: wd, mode: 0o755 };
        if (c.User) action.user = c.User;
        st.vertex = fileVertex(st, [action], [], step(st, label(st, ctx, ins)), ins.range.start.line);
        withLayer = true;
      }
      commitToHistory(img, `WORKDIR ${shown}`, withLayer, false);
      return;
    }
    case 'USER': {
      const u = expand(st, ctx, ins.user);
      st.user = u;
      c.User = u;
      commitToHistory(img, `USER ${u}`, false, false);
      return;
    }
    case 'EXPOSE': {
      const ports = new Set<string>();
      for (const w of ins.ports)
        for (const p of expandWords(w, envLookup(st), { escapeToken: ctx.esc }))
          for (const q of parsePorts(p)) ports.add(q);
      const exposed = { ...(c.ExposedPorts ?? {}) };
      for (const p of ports) exposed[p] = {};
      c.ExposedPorts = sortedKeys(exposed);
      const sorted = [...ports].sort();
      commitToHistory(img, `EXPOSE map[${sorted.map((p) => `${p}:{}`).join(' ')}]`, false, false);
      return;
    }
    case 'VOLUME': {
      const vols = ins.paths.map((p) => expand(st, ctx, p));
      const volumes = { ...(c.Volumes ?? {}) };
      for (const v of vols) {
        if (v === '')
          throw new DockerfileSyntaxError('VOLUME specified can not be an empty string', ins.range);
        volumes[v] = {};
      }
      c.Volumes = sortedKeys(volumes);
      commitToHistory(img, `VOLUME ${goList(vols)}`, false, false);
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
    case 'HEALTHCHECK': {
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
      return;
    }
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), ins.expression];
      return;
    case 'RUN':
      dispatchRun(st, ctx, ins);
      return;
    case 'COPY':
    case 'ADD':
      dispatchCopy(st, ctx, ins, step(st, label(st, ctx, ins)), onbuild);
      return;
    case 'FROM':
      throw new DockerfileSyntaxError('FROM is not allowed here', ins.range);
  }
}

function dispatchArg(st: StageState, ctx: DispatchContext, args: { name: string; default?: string }[]): void {
  const strs: string[] = [];
  const buildArgs = ctx.opts.buildArgs ?? {};
  // Every key and default of one ARG line is expanded before any of them is set (BuildKit's
  // ArgCommand.Expand runs on the whole instruction first): in `ARG X=20 Y=$X`, Y gets the X from
  // before the line, and `ARG "Q"=3` declares Q.
  const names = args.map((a) => expand(st, ctx, a.name));
  const defaults = args.map((a) => (a.default === undefined ? undefined : expand(st, ctx, a.default)));
  names.forEach((name, i) => {
    const dflt = defaults[i];
    let value: string | undefined;
    if (Object.hasOwn(buildArgs, name)) value = buildArgs[name];
    else if (dflt !== undefined) value = dflt;
    else if (ctx.globals.has(name)) value = ctx.globals.get(name);
    if (value !== undefined) addStateEnv(st, name, value);
    st.buildArgs.push(value === undefined ? { key: name } : { key: name, value });
    // History shows the ARG as declared (its expanded default), not the --build-arg value (BuildKit in dockerd 20.10).
    strs.push(dflt === undefined ? name : `${name}=${dflt}`);
  });
  commitToHistory(st.image, `ARG ${strs.join(' ')}`, false, false);
}

export function withShell(st: StageState, command: string): string[] {
  const shell =
    st.image.config.Shell && st.image.config.Shell.length > 0 ? st.image.config.Shell : ['/bin/sh', '-c'];
  return [...shell, command];
}

export function fileVertex(
  st: StageState,
  actions: FileAction[],
  sources: Vertex[],
  name: string,
  line: number,
): Vertex {
  const inputs = st.vertex ? [st.vertex, ...sources] : sources;
  return makeVertex({ kind: 'file', actions, scratchBase: !st.vertex }, inputs, {
    name,
    stage: st.name,
    line,
    ...(st.ignoreCache ? { ignoreCache: true } : {}),
  });
}

export type { KeyValue, Platform };
