import { rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import {
  type ContainerMount,
  type RunMountSpec,
  RunStepError,
  resolveRunMounts,
  runStep,
} from '../../runner/index.js';
import { digestOf, type ExecMountSpec, type ExecOp, keyedOp, type Vertex } from '../graph.js';
import type { OpImpl, OpResult } from '../scheduler.js';
import { type ContentRead, contentFamilyOf, contentKeyOf } from './content-checksum.js';
import { contextMount, contextMountChecksum } from './context-mount.js';
import type { SolvedFs, SolverEnv } from './env.js';
import { activeKey, commitStep, emptyDir, mountView } from './snapshots.js';

/** RUN: runc on a prepared snapshot (parent chain as overlay lowers); the upper becomes the layer. */
export function execOp(env: SolverEnv): OpImpl {
  return {
    async cacheKey(v, inputKeys) {
      const contextMounts = await contextMountSums(env, v);
      return digestOf({
        op: keyedOp(v.op),
        inputKeys,
        ...(contextMounts.length > 0 ? { contextMounts } : {}),
      });
    },
    async contentFamily(v, inputKeys) {
      return contentFamilyOf(keyed(v), inputKeys, contentReads(v), async () => ({
        contextMounts: await contextMountSums(env, v),
      }));
    },
    async contentKey(v, inputs, inputKeys, ctx) {
      const contextMounts = async () => ({ contextMounts: await contextMountSums(env, v) });
      return contentKeyOf(env, keyed(v), inputs, inputKeys, contentReads(v), contextMounts, ctx.signal);
    },
    exec: (v, inputs, ctx) => runExec(env, v, inputs, ctx),
  };
}

type ExecContext = Parameters<OpImpl['exec']>[2];

async function runExec(env: SolverEnv, v: Vertex, inputs: OpResult[], ctx: ExecContext): Promise<SolvedFs> {
  const op = v.op as ExecOp;
  const base = op.scratchRoot ? undefined : (inputs[0] as OpResult & SolvedFs);
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const resolved = await runMounts(env, v, inputs, cleanups, ctx.signal);
    const mounts: ContainerMount[] = [...resolved.mounts];
    if (op.inlineFiles && op.inlineFiles.length > 0) mounts.push(await inlineFilesMount(env, op, cleanups));
    const active = activeKey();
    const log = (stream: 'stdout' | 'stderr') => (b: Buffer) =>
      ctx.progress.emit({ type: 'log', id: v.digest, stream, data: b.toString(), at: Date.now() });
    await runStep({
      snapshotter: env.store.snapshots,
      key: active,
      ...(base?.snapshot ? { parent: base.snapshot } : {}),
      process: {
        args: op.args,
        env: [...op.env, ...(op.proxyEnv ?? []), ...resolved.env],
        cwd: op.cwd,
        // No USER ('') is uid 0 in the runner, with or without /etc/passwd.
        user: op.user,
      },
      ...(env.limits ? { limits: env.limits } : {}),
      root: env.root,
      network: op.network === 'none' ? 'none' : 'host',
      ...(op.extraHosts ? { extraHosts: op.extraHosts } : {}),
      ...(op.ulimits ? { rlimits: op.ulimits } : {}),
      ...(op.shmSize ? { shmSize: op.shmSize } : {}),
      ...(op.hostname ? { hostname: op.hostname } : {}),
      ...(op.security === 'insecure' ? { privileged: true } : {}),
      mounts,
      signal: ctx.signal,
      // A cancelled step's output is thrown away: SIGKILL at once, as BuildKit's executor does. A
      // shell as PID 1 ignores SIGTERM, so a grace period only let the step run on (a watch
      // rebuild waited for the superseded RUN to finish its command).
      killGraceMs: 0,
      onStdout: log('stdout'),
      onStderr: log('stderr'),
    });
    const name = await commitStep(env, active, ctx);
    return { snapshot: name, layers: [...(base?.layers ?? []), { snapshot: name }] };
  } catch (e) {
    // The CLI shows the Dockerfile line of a failed RUN (BuildKit's `Dockerfile:N` excerpt).
    if (e instanceof RunStepError) e.locate(v.line, v.name);
    throw e;
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

/** The step's `--mount`s resolved to host dirs: context binds, views of inputs, caches, secrets. */
async function runMounts(
  env: SolverEnv,
  v: Vertex,
  inputs: OpResult[],
  cleanups: (() => Promise<void>)[],
  signal: AbortSignal,
) {
  const op = v.op as ExecOp;
  const fromDirs = new Map<string, string>();
  const specs: RunMountSpec[] = [];
  for (const [j, m] of op.mounts.entries()) {
    let from = m.input !== undefined ? String(m.input) : undefined;
    let source = m.source;
    if (isContextBind(v, m)) {
      const c = await contextMount(env, m.source, cleanups);
      from = `context-${j}`;
      source = c.source;
      fromDirs.set(from, c.dir);
    } else if (from !== undefined && m.input! >= 0 && !fromDirs.has(from)) {
      const input = inputs[m.input!] as OpResult & SolvedFs;
      fromDirs.set(from, await mountView(env, input.snapshot, cleanups));
    }
    const spec = mountSpec(m, from, source);
    // A cache seeded from a stage starts over when that stage changes (see runner/mounts.ts).
    if (m.type === 'cache' && m.input !== undefined && m.input >= 0)
      spec.fromIdentity = (inputs[m.input] as OpResult & SolvedFs).snapshot ?? 'scratch';
    if (m.type === 'cache' && v.ignoreCache) spec.fresh = true;
    specs.push(spec);
  }
  const resolved = await resolveRunMounts(specs, {
    root: env.root,
    contextDir: env.contextDir,
    resolveFrom: async (from) => fromDirs.get(from) ?? (await emptyDir(env, cleanups)),
    secrets: env.secrets,
    ssh: env.ssh,
    cwd: op.cwd,
    signal,
  });
  cleanups.push(() => resolved.release());
  return resolved;
}

/** A heredoc RUN with a shebang: its file, read-only at /dev/pipes/ (BuildKit's dispatchRun). */
async function inlineFilesMount(
  env: SolverEnv,
  op: ExecOp,
  cleanups: (() => Promise<void>)[],
): Promise<ContainerMount> {
  const dir = await env.store.tempDir('pipes');
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const files = op.inlineFiles ?? [];
  for (const f of files) await writeFile(join(dir, posix.basename(f.path)), f.data, { mode: f.mode });
  return {
    target: posix.dirname(files[0]?.path ?? '/dev/pipes/x'),
    type: 'bind',
    source: dir,
    readonly: true,
  };
}

/** A bind of the context is keyed by what it shows (the context op's own key is constant). */
const keyed = (v: Vertex): Vertex => ({ ...v, op: keyedOp(v.op) });

async function contextMountSums(env: SolverEnv, v: Vertex): Promise<string[]> {
  const sums: string[] = [];
  for (const m of (v.op as ExecOp).mounts)
    if (isContextBind(v, m)) sums.push(contextMountChecksum(await env.context(), m.source));
  return sums;
}

/**
 * Bind mounts of inputs read only that way (`from=` a stage or image, not the rootfs, not a cache
 * mount's base): keyed by the content the mounts show, as BuildKit keys every mount but the root
 * and writable outputs (exec.go getMountDeps).
 */
function contentReads(v: Vertex): ContentRead[] {
  const op = v.op as ExecOp;
  const other = new Set(op.mounts.filter((m) => m.type !== 'bind').map((m) => m.input));
  if (!op.scratchRoot) other.add(0);
  return op.mounts
    .filter((m) => m.type === 'bind' && m.input !== undefined && m.input >= 0 && !isContextBind(v, m))
    .filter((m) => !other.has(m.input))
    .map((m) => ({ input: m.input as number, sources: [m.source ?? '/'], excludes: [] }));
}

/** A `type=bind` mount of the build context (no `from=`). */
function isContextBind(v: Vertex, m: ExecMountSpec): boolean {
  return m.type === 'bind' && m.input !== undefined && v.inputs[m.input]?.op.kind === 'context';
}

function mountSpec(m: ExecMountSpec, from: string | undefined, source: string | undefined): RunMountSpec {
  return {
    type: m.type,
    ...(from !== undefined ? { from } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(m.target ? { target: m.target } : {}),
    readOnly: m.readonly ?? false,
    ...(m.required !== undefined ? { required: m.required } : {}),
    ...(m.sharing ? { sharing: m.sharing } : {}),
    ...(m.id !== undefined ? { id: m.id } : {}),
    ...(m.uid !== undefined ? { uid: m.uid } : {}),
    ...(m.gid !== undefined ? { gid: m.gid } : {}),
    ...(m.mode !== undefined ? { mode: m.mode } : {}),
    ...(m.size !== undefined ? { size: m.size } : {}),
    ...(m.env !== undefined ? { env: m.env } : {}),
  };
}
