import { DockerfileSyntaxError } from '../../errors.js';
import { type Instruction, parseMount } from '../../parser/index.js';
import { type ExecMountSpec, makeVertex, type Vertex } from '../graph.js';
import { CONTEXT_VERTEX } from './convert.js';
import { type DispatchContext, label, step, withShell } from './dispatch.js';
import { commitToHistory } from './image-config.js';
import { envList, envLookup, type StageState } from './stage-state.js';
import { findSource, requireDispatched } from './stage-states.js';

/**
 * BuildKit's runCommandString: `|N K=V … cmd` when the stage declared ARGs. One entry per ARG
 * declaration, repeats included (`ARG A=1 A=2` gives `|2 A=2 A=2`), as dockerd 20.10's BuildKit
 * writes it; later frontends merge repeats, but history strings follow 0.8 (README, Conformance).
 */
export function runCommandString(st: StageState, args: string[]): string {
  const env = envLookup(st);
  const tmp = st.buildArgs.map((a) => `${a.key}=${env(a.key) ?? a.value ?? ''}`);
  const pre = tmp.length > 0 ? [`|${tmp.length}`, ...tmp] : [];
  return [...pre, ...args].join(' ');
}

export function dispatchRun(
  st: StageState,
  ctx: DispatchContext,
  ins: Extract<Instruction, { kind: 'RUN' }>,
): void {
  const { args, summary, inlineFiles } = runArgs(st, ins);
  if (ins.security === 'insecure' && !(ctx.opts.allow ?? []).includes('security.insecure')) {
    // An entitlement the caller grants, as BuildKit's `--allow security.insecure`.
    throw new DockerfileSyntaxError(
      'RUN --security=insecure needs the security.insecure entitlement: build with --allow security.insecure',
      ins.range,
    );
  }
  const inputs: Vertex[] = st.vertex ? [st.vertex] : [];
  const scratchRoot = !st.vertex;
  // Every value but `from` expands with the stage's ARG/ENV (`type=$T` too), as BuildKit's parseMount.
  const lex = { escapeToken: ctx.esc, range: ins.range };
  const mounts = ins.mounts.map((m) =>
    mountOf(st, ctx, ins, parseMount(m.original, envLookup(st), lex), inputs),
  );
  const network =
    ins.network ?? (ctx.opts.network === 'default' ? 'default' : (ctx.opts.network ?? 'default'));
  const proxies = proxyEnv(ctx.opts.buildArgs ?? {});
  const hostname = ctx.opts.buildArgs?.BUILDKIT_SANDBOX_HOSTNAME;
  const op = {
    kind: 'exec' as const,
    args,
    env: envList(st),
    cwd: st.cwd,
    user: st.user,
    network,
    mounts,
    ...ctx.opts.run,
    ...(proxies.length > 0 ? { proxyEnv: proxies } : {}),
    ...(ins.security ? { security: ins.security } : {}),
    ...(hostname ? { hostname } : {}),
    ...(inlineFiles.length > 0 ? { inlineFiles } : {}),
    ...(scratchRoot ? { scratchRoot } : {}),
  };
  st.vertex = makeVertex(op, inputs, {
    name: step(st, `${label(st, ctx, ins)}${summary}`),
    stage: st.name,
    line: ins.range.start.line,
    ...(st.ignoreCache ? { ignoreCache: true } : {}),
  });
  commitToHistory(st.image, `RUN ${runCommandString(st, args)}`, true, true);
}

type RunIns = Extract<Instruction, { kind: 'RUN' }>;

/**
 * The process's arguments, as BuildKit's dispatchRun makes them: a RUN that is one heredoc runs its
 * content, or, when that starts with `#!`, the content as a file mounted at /dev/pipes/ (mode 0755);
 * other heredocs follow the command for the shell to read. Shell form goes through the stage's SHELL
 * either way (`/bin/sh -c /dev/pipes/EOF`).
 */
function runArgs(st: StageState, ins: RunIns) {
  const inlineFiles: { path: string; data: string; mode: number }[] = [];
  if (ins.form !== 'shell') return { args: [...ins.args], summary: '', inlineFiles };
  let cmd = ins.command;
  const only = /^<<-?\s*['"]?([A-Za-z0-9_.-]+)['"]?\s*$/.exec(cmd.trim());
  const first = ins.heredocs[0];
  if (first && only && ins.heredocs.length === 1) {
    const summary = ` (${summarizeHeredoc(first.content)})`;
    if (!first.content.startsWith('#!')) return { args: withShell(st, first.content), summary, inlineFiles };
    const path = `/dev/pipes/${first.name}`;
    inlineFiles.push({ path, data: first.content, mode: 0o755 });
    return { args: withShell(st, path), summary, inlineFiles };
  }
  for (const h of ins.heredocs) cmd += `\n${h.content}${h.name}`;
  return { args: withShell(st, cmd), summary: '', inlineFiles };
}

/** One `--mount`: its input (a stage, an image or the context) added to `inputs`. */
function mountOf(
  st: StageState,
  ctx: DispatchContext,
  ins: RunIns,
  m: RunIns['mounts'][number],
  inputs: Vertex[],
): ExecMountSpec {
  const spec: ExecMountSpec = { type: m.type, target: m.target ?? '' };
  if (m.type === 'bind' || m.type === 'cache') {
    if (m.from) {
      if (m.from.includes('$'))
        throw new DockerfileSyntaxError(
          "'from' doesn't support variable expansion, define alias stage instead",
          ins.range,
        );
      const src = requireDispatched(
        findSource(m.from, st, ctx.states, ctx.byName, ctx.extra, ctx.opts),
        `cannot mount from stage "${m.from}" to "${m.target ?? ''}", stage needs to be defined before current command`,
        ins.range,
      );
      spec.input = src.vertex ? inputs.push(src.vertex) - 1 : -1;
    } else if (m.type === 'bind') spec.input = inputs.push(CONTEXT_VERTEX) - 1;
  }
  if (m.source !== undefined) spec.source = m.source;
  spec.readonly = m.readOnly;
  if (m.id !== undefined) spec.id = m.id;
  if (m.sharing) spec.sharing = m.sharing;
  if (m.uid !== undefined) spec.uid = m.uid;
  if (m.gid !== undefined) spec.gid = m.gid;
  if (m.mode !== undefined) spec.mode = m.mode;
  if (m.size !== undefined) spec.size = m.size;
  spec.required = m.required;
  if (m.env !== undefined) spec.env = m.env;
  // An ssh mount defaults to /run/buildkit/ssh_agent.N (the runner's), and a secret given as
  // env= alone needs no file; every other mount needs a target.
  const targetless = m.type === 'ssh' || (m.type === 'secret' && m.env !== undefined);
  if (!spec.target && !targetless)
    throw new DockerfileSyntaxError(`mount ${m.original}: target is required`, ins.range);
  return spec;
}

/**
 * BuildKit's proxyEnvFromBuildArgs + proxyEnvList: a `--build-arg` named like a proxy variable (any
 * case) reaches every RUN in both spellings, declared or not, and stays out of the history.
 */
export function proxyEnv(buildArgs: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY']) {
    const keys = Object.keys(buildArgs).filter((k) => k.toUpperCase() === name);
    const v = keys.length > 0 ? buildArgs[keys[keys.length - 1] as string] : undefined;
    if (v) out.push(`${name}=${v}`, `${name.toLowerCase()}=${v}`);
  }
  return out;
}

function summarizeHeredoc(doc: string): string {
  const lines = doc.trim().replace(/\r\n/g, '\n').split('\n');
  return lines.length > 1 ? `${lines[0]}...` : (lines[0] as string);
}
