import { unlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { BuildOptions, BuildResult } from '../build.js';
import { type ContextSnapshot, resolveContextDir } from '../context/index.js';
import { errnoText, TsbuildError } from '../errors.js';
import { type OutputSpec, parseAnnotations, parseOutputs } from '../exporter/index.js';
import { formatReference, type Platform, parseReference } from '../oci/index.js';
import { parseCheckDirective, toStages } from '../parser/index.js';
import { nullSink, type ProgressSink } from '../progress/events.js';
import { type PullResult, RegistryClient } from '../registry/index.js';
import { type LeaseHandle, openStore } from '../store/index.js';
import { exportBuild, exportPlatforms } from './build-export.js';
import { convertAll, sessionResolver } from './build-graphs.js';
import { buildInputs, readDockerfile, scanWithProgress } from './build-inputs.js';
import { imageModel } from './build-result.js';
import { type BuildWarning, emitCarried, emitSetupWarnings, emitWarnings } from './build-warnings.js';
import { type BuildCacheIndex, cacheIndex } from './cache-index.js';
import { exportCaches, type SolvedStep, withUnsolvedSteps } from './cache-io/cache-export.js';
import { importCaches, withImportedCaches } from './cache-io/cache-import.js';
import { buildCacheSpecs } from './cache-io/cache-spec.js';
import { inlineCacheArg } from './cache-io/inline-cache.js';
import { contextIncludes } from './context-paths.js';
import { earlyLayers } from './early-layers.js';
import { type ConvertResult, DISPATCH_CHECKS } from './frontend/convert.js';
import type { Vertex } from './graph.js';
import { createOps, type SolvedFs } from './ops/index.js';
import { cleanupStaleMounts } from './ops/snapshots.js';
import { imageResolver, pendingPull } from './resolve-image.js';
import { Scheduler } from './scheduler.js';
import { parseSecrets, parseSsh } from './secrets.js';

/** build(): parse → convert → solve → commit → export, under a lease so gc keeps what is in use. */
export async function runBuild(o: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const progress = o.progress ?? nullSink;
  // One failed step cancels the others (as BuildKit does); the caller's signal cancels everything.
  const inner = new AbortController();
  const onOuter = () => inner.abort(o.signal?.reason);
  if (o.signal?.aborted) onOuter();
  o.signal?.addEventListener('abort', onOuter, { once: true });
  if (o.iidfile) removeStaleIidfile(o.iidfile);
  // Docker's context checks and symlink resolution, before anything reads the context or the Dockerfile.
  const contextDir = resolveContextDir(resolve(o.context));
  const prepared = await prepare(o, contextDir).catch((e) => Promise.reject(emitCarried(progress, e)));
  const { store } = prepared;
  const now = (w: BuildWarning) => !DISPATCH_CHECKS.has(w.code);
  emitWarnings(progress, prepared.parsed.warnings.filter(now));
  emitSetupWarnings(progress, o, store, prepared.cacheSpecs.ignored);
  // A watch session opens the store (and cleans stale mounts) once, for all its builds.
  const session = o.session;
  const fresh = session?.store !== store;
  const [lease] = await Promise.all([
    store.meta.createLease({ ttlMs: 24 * 3600_000 }),
    fresh ? cleanupStaleMounts(store.root) : undefined,
  ]);
  if (fresh && session) session.store = store;
  const run: Run = { o, ...prepared, contextDir, lease, progress, inner, started, images: new Map() };
  try {
    return await solveAndExport(run).catch((e) => Promise.reject(emitCarried(progress, e)));
  } finally {
    o.signal?.removeEventListener('abort', onOuter);
    // Records name snapshots only the lease protects until they are written.
    await run.cache?.settle().catch(() => undefined);
    // A base unpacked beside a build that never needed its rootfs is finished, not cut off (the
    // CLI exits as soon as the build returns), and its pull lock released.
    await Promise.allSettled([...run.images.values()].map((r) => pendingPull(r)?.settled));
    await lease.release().catch(() => undefined);
    if (!session) await store.close();
  }
}

type Prepared = Awaited<ReturnType<typeof prepare>>;

/** One build's state between runBuild's set-up and its clean-up. */
interface Run extends Prepared {
  o: BuildOptions;
  contextDir: string;
  lease: LeaseHandle;
  progress: ProgressSink;
  inner: AbortController;
  started: number;
  /** Set once the solve starts; runBuild settles it whatever happens. */
  cache?: BuildCacheIndex;
  /** Base images pulled for this build, by reference. */
  images: Map<string, PullResult>;
}

async function solveAndExport(r: Run): Promise<BuildResult> {
  const { o, store, progress } = r;
  const signal = r.inner.signal;
  const registry = new RegistryClient(
    o.insecureRegistries?.length ? { insecureRegistries: o.insecureRegistries } : {},
  );
  const images = r.images;
  const resolveImage = imageResolver(store, registry, images, progress, signal, o.pull ? { pull: true } : {});
  const io = { store, registry, progress, signal };
  // Read beside the conversion (both ask registries); the solve waits for it.
  const importing = r.cacheSpecs.from.length > 0 ? importCaches(r.cacheSpecs.from, io) : undefined;
  importing?.catch(() => {});
  const { platforms, converted } = await convertAll(
    r.parsed.value,
    o,
    sessionResolver(o, images, resolveImage),
    r.parsed.warnings.filter((w) => DISPATCH_CHECKS.has(w.code)),
  );
  const multi = platforms.length > 1;
  const first = converted[0]!;
  emitWarnings(progress, first.warnings);
  const { context, scanned } = contextScan(
    r,
    converted.map((c) => c.vertex),
  );
  const env = solverEnv(r, context, registry, platforms[0]!);
  const local = cacheIndex(store, env.retain);
  r.cache = local;
  const cache = withImportedCaches(local, (await importing) ?? [], { ...io, retain: env.retain });
  const inline = r.cacheSpecs.inline || inlineCacheArg(o.buildArgs);
  // Solved steps are kept only for a cache to export (to a registry or dir, or inline).
  const steps: SolvedStep[] | undefined = r.cacheSpecs.to.length > 0 || inline ? [] : undefined;
  const targets = converted.map((c) => c.vertex);
  // Layers made ahead are the single image's; an index's platforms commit theirs at export.
  const early = earlyLayers(store, first.vertex, multi ? [] : r.outputs, signal);
  const scheduler = new Scheduler({
    opFor: createOps(env),
    cache,
    maxParallelism: o.maxParallelism ?? availableParallelism(),
    signal,
    progress,
    onRun: early.onRun,
    ...(steps ? { onSolved: (v, key, result) => steps.push({ v, key, result }) } : {}),
  });
  // No layer walk outlives the solve: a failed one has aborted `signal`, which stops them first.
  const solved = await solveAll(scheduler, targets, r.inner).finally(early.settle);
  const known = steps
    ? await withUnsolvedSteps(steps, targets, (v) => scheduler.knownKey(v), {
        cache,
        local,
        all: r.cacheSpecs.to.some((c) => c.mode === 'max'),
      })
    : [];
  // The build cache goes out after the image, before the summary (BuildKit's order).
  const beforeSummary =
    r.cacheSpecs.to.length > 0 ? () => exportCaches(r.cacheSpecs.to, known, targets, io) : undefined;
  const exported = { converted, platforms, solved, registry, stats: scheduler.stats, beforeSummary };
  return exportSolved(r, { ...exported, ...(inline ? { inline: known } : {}) }, scanned);
}

/** What the ops work with: the store, the context, the registry, secrets and ssh, the lease. */
function solverEnv(
  r: Run,
  context: () => Promise<ContextSnapshot>,
  registry: RegistryClient,
  platform: Platform,
) {
  const { o, store } = r;
  return {
    store,
    root: store.root,
    contextDir: r.contextDir,
    context,
    registry,
    platform,
    images: r.images,
    secrets: parseSecrets(o.secrets ?? []),
    ssh: parseSsh(o.ssh ?? []),
    retain: (s: string) => r.lease.addSnapshot(s),
    ...(o.limits ? { limits: o.limits } : {}),
  };
}

/** The solved graphs as images: one, or an index of one per platform; then the no-op record's inputs. */
async function exportSolved(
  r: Run,
  s: {
    converted: ConvertResult[];
    platforms: Platform[];
    solved: SolvedFs[];
    registry: RegistryClient;
    stats: Scheduler['stats'];
    beforeSummary: (() => Promise<void>) | undefined;
    /** The solved steps, when the images carry their cache inline. */
    inline?: SolvedStep[];
  },
  scanned: () => Promise<ContextSnapshot | undefined>,
): Promise<BuildResult> {
  const first = s.converted[0]!;
  const manifest = r.annotations.manifest;
  const models = await Promise.all(
    s.converted.map(async (c, i) => {
      const inline = s.inline ? { steps: s.inline, target: c.vertex } : undefined;
      const m = await imageModel(r.store, c.image, s.solved[i]!, c.epoch, inline);
      return Object.keys(manifest).length > 0 ? { ...m, annotations: manifest } : m;
    }),
  );
  const job = {
    ...r,
    model: models[0]!,
    registry: s.registry,
    platform: s.platforms[0]!,
    signal: r.inner.signal,
    cache: r.cache!,
    stats: s.stats,
    ...(first.epoch !== undefined ? { epoch: first.epoch } : {}),
    indexAnnotations: r.annotations.index,
    ...(s.beforeSummary ? { beforeSummary: s.beforeSummary } : {}),
  };
  if (s.platforms.length > 1)
    return exportPlatforms(
      job,
      s.platforms.map((platform, i) => ({ platform, model: models[i]! })),
    );
  const result = await exportBuild(job);
  if (r.o.observe) r.o.observe(buildInputs(await scanned(), first.vertex));
  return result;
}

/**
 * The context, scanned once for only what the graphs read. Started now, not when the first COPY's
 * cache key asks for it: that key waits for its input's, and a base being pulled has its key only
 * once its blobs are in. Its error is met where it is used.
 */
function contextScan(r: Run, vertices: (Vertex | undefined)[]) {
  const { o, store, progress } = r;
  let snap: Promise<ContextSnapshot> | undefined;
  const includes = contextIncludes(vertices, r.contextDir);
  const context = () => {
    snap ??= scanWithProgress(store, r.contextDir, r.dockerfilePath, progress, r.inner.signal, includes).then(
      (s) => (o.contextKeepsOwners ? { ...s, keepOwners: true } : s),
    );
    return snap;
  };
  if (includes.length > 0) context().catch(() => {});
  return { context, scanned: async () => (snap ? await snap : undefined) };
}

/** Every platform's graph at once; a failure stops the rest, and all are drained before it is thrown. */
async function solveAll(
  scheduler: Scheduler,
  vertices: (Vertex | undefined)[],
  inner: AbortController,
): Promise<SolvedFs[]> {
  // The first failure is the one to report: the others may only be its cancellation.
  let failed: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    vertices.map(async (v) => {
      if (!v) return { layers: [] } as SolvedFs;
      try {
        return (await scheduler.solve(v)) as SolvedFs;
      } catch (e) {
        failed ??= { error: e };
        // Stop the steps still running and wait for them: no container or mount outlives build().
        inner.abort(e);
        await scheduler.drain();
        throw e;
      }
    }),
  );
  if (failed) throw failed.error;
  return settled.map((x) => (x as PromiseFulfilledResult<SolvedFs>).value);
}

type OpenedStore = Awaited<ReturnType<typeof openStore>>;

/**
 * The Dockerfile read and parsed, outputs and tags checked, the store open. The store opens beside
 * the read and the parse (IO under CPU: neither needs the other); a failure closes it again.
 */
async function prepare(o: BuildOptions, contextDir: string) {
  const shared = o.session?.store as OpenedStore | undefined;
  const opening = shared
    ? undefined
    : openStore(o.root, { sweep: 'background', ...(o.snapshotter ? { snapshotter: o.snapshotter } : {}) });
  opening?.catch(() => {}); // its error is met below, where it is awaited
  try {
    const { text, path: dockerfilePath } = await readDockerfile(o, contextDir);
    const parsed = parseCached(o, text);
    const outputs = outputSpecs(o);
    const tags = (o.tags ?? []).map((t) => formatReference(parseReference(t)));
    const annotations = parseAnnotations(o.annotations ?? []);
    if (Object.keys(annotations.index).length > 0 && !o.platform?.includes(','))
      throw new TsbuildError('INVALID_ANNOTATION', 'an index annotation needs several --platform values', {
        hint: 'a single-platform image has no index: annotate its manifest (KEY=VALUE)',
      });
    const cacheSpecs = buildCacheSpecs(o.cacheFrom ?? [], o.cacheTo ?? []);
    const store = shared ?? (await (opening as Promise<OpenedStore>));
    return { dockerfilePath, parsed, outputs, tags, annotations, cacheSpecs, store };
  } catch (e) {
    await opening?.then(
      (s) => s.close(),
      () => {},
    );
    throw e;
  }
}

/** The parsed Dockerfile, from the session while its text is the same. */
function parseCached(o: BuildOptions, text: string): ReturnType<typeof toStages> {
  // BuildKit's BUILDKIT_DOCKERFILE_CHECK build arg stands in for the `# check=` directive.
  const check = o.buildArgs?.BUILDKIT_DOCKERFILE_CHECK;
  const key = check === undefined ? text : `${text}\0${check}`;
  const hit = o.session?.parsed;
  if (hit && hit.text === key) return hit.value as ReturnType<typeof toStages>;
  const range = { start: { line: 1, column: 1 }, end: { line: 1, column: 1 } };
  const parsed = toStages(text, check === undefined ? {} : { checks: parseCheckDirective(check, range) });
  if (o.session) o.session.parsed = { text: key, value: parsed };
  return parsed;
}

function outputSpecs(o: BuildOptions): OutputSpec[] {
  // No --output: the local image store, with uncompressed layers, as the Docker engine keeps them
  // (BuildKit's default `docker` exporter). Compression happens when the image leaves the machine
  // (push, oci/docker archives), so a local rebuild never pays for gzip.
  if ((o.outputs ?? []).length === 0 && !o.push) return parseOutputs(['type=image,compression=uncompressed']);
  const specs = parseOutputs(o.outputs ?? []);
  // buildx --load beside other outputs: the image in the local store too.
  if (o.load && !specs.some((s) => s.type === 'image'))
    specs.push(...parseOutputs(['type=image,compression=uncompressed']));
  // --push as buildx (multiple exporters) treats it: push= on every image output, else one more
  // output that pushes. It used to be dropped silently next to `-o type=oci`.
  if (o.push) {
    for (const s of specs) if (s.type === 'image') s.push = true;
    if (!specs.some((s) => s.push)) specs.push(...parseOutputs(['type=image,push=true']));
  }
  return specs;
}

/** docker build's first step: a failed build must not leave the last build's ID behind. */
function removeStaleIidfile(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new TsbuildError('IIDFILE_UNWRITABLE', `Removing image ID file: remove ${path}: ${errnoText(e)}`);
  }
}
