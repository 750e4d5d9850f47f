import { DockerfileSyntaxError, TsbuildError, UNLOCATED } from '../../errors.js';
import type { Platform } from '../../oci/index.js';
import {
  expandWord,
  type Instruction,
  type KeyValue,
  type LexOptions,
  type Warning,
} from '../../parser/index.js';
import { type FileAction, makeVertex, type Vertex } from '../graph.js';
import { type ConvertOptions, prefix } from './convert.js';
import { dispatchConfig } from './dispatch-config.js';
import { dispatchCopy } from './dispatch-copy.js';
import { dispatchRun } from './dispatch-run.js';
import { commitToHistory } from './image-config.js';
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
  try {
    await dispatchOne(st, ins, ctx, onbuild);
  } catch (e) {
    // An error of the instruction's words (`${X:?unset}`, `EXPOSE 80-70`) is shown at its line
    // (BuildKit locates dispatch errors there).
    if (e instanceof DockerfileSyntaxError) {
      if (e.range !== UNLOCATED) throw e;
      const located = new DockerfileSyntaxError(e.message, ins.range, { cause: e });
      located.warnings = e.warnings;
      throw located;
    }
    if (e instanceof TsbuildError) e.locate(ins.range.start.line, undefined);
    throw e;
  }
}

async function dispatchOne(st: StageState, ins: Instruction, ctx: DispatchContext, onbuild: boolean) {
  switch (ins.kind) {
    case 'ARG':
      dispatchArg(st, ctx, ins.args);
      return;
    case 'WORKDIR':
      dispatchWorkdir(st, ctx, ins);
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
    default:
      dispatchConfig(st, ctx, ins);
      return;
  }
}

function dispatchWorkdir(
  st: StageState,
  ctx: DispatchContext,
  ins: Extract<Instruction, { kind: 'WORKDIR' }>,
): void {
  const c = st.image.config;
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
  commitToHistory(st.image, `WORKDIR ${shown}`, withLayer, false);
}

function dispatchArg(st: StageState, ctx: DispatchContext, args: { name: string; default?: string }[]): void {
  const strs: string[] = [];
  const buildArgs = ctx.opts.buildArgs ?? {};
  // Every key and default of one ARG line is expanded before any of them is set (BuildKit's
  // ArgCommand.Expand runs on the whole instruction first): in `ARG X=20 Y=$X`, Y gets the X from
  // before the line, and `ARG "Q"=3` declares Q.
  const names = args.map((a) => expand(st, ctx, a.name));
  // A default a --build-arg overrides is not needed: its expansion may fail (`${FOO:?missing}`)
  // without failing the build, as in BuildKit >= 0.12's dispatchArg; history still shows it.
  const defaults = args.map((a, i) => {
    if (a.default === undefined) return undefined;
    try {
      return expand(st, ctx, a.default);
    } catch (e) {
      if (Object.hasOwn(buildArgs, names[i] as string)) return a.default;
      throw e;
    }
  });
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
