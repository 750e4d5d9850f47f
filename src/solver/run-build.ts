import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { BuildOptions, BuildResult } from '../build.js';
import { type ContextSnapshot, resolveContextDir } from '../context/index.js';
import { TsbuildError } from '../errors.js';
import {
  exportImages,
  type ImageModel,
  type OutputSpec,
  parseOutputs,
  recordUntagged,
} from '../exporter/index.js';
import {
  formatReference,
  hostPlatform,
  type ImageConfig,
  parsePlatform,
  parseReference,
} from '../oci/index.js';
import { toStages } from '../parser/index.js';
import { nullSink } from '../progress/events.js';
import { type PullResult, RegistryClient } from '../registry/index.js';
import { openStore } from '../store/index.js';
import { buildInputs, readDockerfile, scanWithProgress } from './build-inputs.js';
import { historyTimes, loadCommitted, metadata } from './build-result.js';
import { bytesProgress } from './bytes-progress.js';
import { type BuildCacheIndex, cacheIndex } from './cache-index.js';
import { contextIncludes } from './context-paths.js';
import { convert } from './frontend/convert.js';
import { isGoneError, leaseImage } from './lease-image.js';
import { createOps, type SolvedFs } from './ops/index.js';
import { cleanupStaleMounts } from './ops/snapshots.js';
import { imageResolver } from './resolve-image.js';
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
  const signal = inner.signal;
  // Docker's context checks and symlink resolution, before anything reads the context or the Dockerfile.
  const contextDir = resolveContextDir(resolve(o.context));
  const { dockerfilePath, parsed, outputs, tags, store } = await prepare(o, contextDir);
  for (const w of parsed.warnings)
    progress.emit({
      type: 'warning',
      message: `${w.code}: ${w.message}`,
      line: w.range.start.line,
      at: Date.now(),
    });
  for (const f of o.ignoredFlags ?? [])
    progress.emit({
      type: 'warning',
      message: `${f}: not supported, ignored; the build cache is the store's (--root), shared by every build that uses it`,
      at: Date.now(),
    });
  if (store.snapshots.kind === 'copy')
    progress.emit({
      type: 'warning',
      message: copySnapshotterWarning(store.snapshotterReason),
      at: Date.now(),
    });
  // A watch session opens the store (and cleans stale mounts) once, for all its builds.
  const session = o.session;
  const fresh = session?.store !== store;
  const [lease] = await Promise.all([
    store.meta.createLease({ ttlMs: 24 * 3600_000 }),
    fresh ? cleanupStaleMounts(store.root) : undefined,
  ]);
  if (fresh && session) session.store = store;
  let cache: BuildCacheIndex | undefined;
  try {
    const registry = new RegistryClient(
      o.insecureRegistries?.length ? { insecureRegistries: o.insecureRegistries } : {},
    );
    const images = new Map<string, PullResult>();
    const platform = o.platform ? parsePlatform(o.platform) : hostPlatform();
    const converted = await convert(parsed.value, {
      ...(o.target ? { target: o.target } : {}),
      buildArgs: o.buildArgs ?? {},
      targetPlatform: platform,
      ...(o.platform ? { explicitPlatform: true } : {}),
      buildPlatform: hostPlatform(),
      ...(o.labels ? { labels: o.labels } : {}),
      ...(o.noCache ? { noCache: true } : {}),
      ...(o.noCacheFilter ? { noCacheFilter: o.noCacheFilter } : {}),
      ...(o.network ? { network: o.network } : {}),
      run: {
        ...(o.addHosts?.length ? { extraHosts: o.addHosts } : {}),
        ...(o.ulimits?.length ? { ulimits: o.ulimits } : {}),
        ...(o.shmSize ? { shmSize: o.shmSize } : {}),
      },
      ...(o.allow ? { allow: o.allow } : {}),
      resolveImage: sessionResolver(
        o,
        images,
        imageResolver(store, registry, images, progress, signal, o.pull ? { pull: true } : {}),
      ),
    });
    for (const w of converted.warnings)
      progress.emit({
        type: 'warning',
        message: `${w.code}: ${w.message}`,
        line: w.range.start.line,
        at: Date.now(),
      });

    let snap: Promise<ContextSnapshot> | undefined;
    const context = () => {
      snap ??= scanWithProgress(
        store,
        contextDir,
        dockerfilePath,
        progress,
        signal,
        contextIncludes(converted.vertex, contextDir),
      );
      return snap;
    };
    const env = {
      store,
      root: store.root,
      contextDir,
      context,
      registry,
      platform,
      images,
      secrets: parseSecrets(o.secrets ?? []),
      ssh: parseSsh(o.ssh ?? []),
      retain: (s: string) => lease.addSnapshot(s),
      ...(o.limits ? { limits: o.limits } : {}),
    };
    cache = cacheIndex(store, env.retain);
    const scheduler = new Scheduler({
      opFor: createOps(env),
      cache,
      maxParallelism: o.maxParallelism ?? availableParallelism(),
      signal,
      progress,
    });
    let solved: SolvedFs = { layers: [] };
    if (converted.vertex) {
      try {
        solved = (await scheduler.solve(converted.vertex)) as SolvedFs;
      } catch (e) {
        // Stop the steps still running and wait for them: no container or mount outlives build().
        inner.abort(e);
        await scheduler.drain();
        throw e;
      }
    }

    const img = converted.image;
    const { created, history } = await historyTimes(store, img.history, solved.layers);
    const config: ImageModel['config'] = {
      created,
      architecture: img.architecture,
      os: img.os,
      ...(img.variant ? { variant: img.variant } : {}),
      ...(img.author ? { author: img.author } : {}),
      config: img.config,
    } as ImageConfig;
    const model: ImageModel = { config, layers: solved.layers, history };
    let leased: string | undefined;
    if (o.exportGate) {
      // Watch's speculative build: the image's blobs now (content-addressed, invisible) and leased,
      // its names and outputs only once the gate opens; the export after it finds them and only tags.
      const silent = outputs.filter((x) => x.type === 'image' && !x.push).map((x) => ({ ...x, names: [] }));
      // Best effort: a failure here (a racing prune) is the real export's to meet and report.
      const pre =
        silent.length > 0
          ? await exportImages(store, model, silent, { platform, signal }).catch(() => [])
          : [];
      if (
        pre[0] &&
        (await leaseImage(store, lease, pre[0].digest, pre[0].image?.manifest).catch(() => false))
      )
        leased = pre[0].digest;
      await gateOrAbort(o.exportGate, signal);
    }
    const exportAll = () =>
      exportImages(store, model, outputs, {
        tags,
        registry,
        platform,
        signal,
        onProgress: bytesProgress(progress),
        keepReplaced: o.keepUntagged !== false,
      });
    // A prune racing the export may take a blob it reused: lease them all, export again if one went.
    let results = await exportAll().catch((e) => (isGoneError(e) ? exportAll() : Promise.reject(e)));
    for (
      let i = 0;
      i < 3 &&
      results[0] &&
      results[0].digest !== leased &&
      !(await leaseImage(store, lease, results[0].digest, results[0].image?.manifest));
      i++
    )
      results = await exportAll();
    const first = results[0];
    if (!first) throw new TsbuildError('EXPORT_FAILED', 'no output was written');
    const untagged = results.find((r) => r.output.type === 'image' && r.tags.length === 0)?.image;
    if (untagged && o.keepUntagged !== false) await recordUntagged(store, untagged.descriptor);
    await cache.settle();
    const committed = await loadCommitted(store, first.digest, first.image);
    const size = committed.size;
    const result: BuildResult = {
      digest: first.digest,
      configDigest: first.configDigest,
      manifest: committed.manifest,
      config: committed.config,
      tags: [...new Set(results.flatMap((r) => r.tags))],
      size,
      stepsCached: scheduler.stats.cached,
      stepsRun: scheduler.stats.run,
      duration: Date.now() - started,
    };
    if (o.iidfile) await writeFile(o.iidfile, result.configDigest);
    if (o.metadataFile)
      await writeFile(
        o.metadataFile,
        `${JSON.stringify(metadata(result, first.digest, committed.manifestSize), null, 2)}\n`,
      );
    progress.emit({
      type: 'summary',
      digest: result.digest,
      tags: result.tags,
      size,
      duration: result.duration,
      at: Date.now(),
    });
    if (o.observe) o.observe(buildInputs(snap ? await snap : undefined, converted.vertex));
    return result;
  } finally {
    o.signal?.removeEventListener('abort', onOuter);
    // Records name snapshots only the lease protects until they are written.
    await cache?.settle().catch(() => undefined);
    await lease.release().catch(() => undefined);
    if (!session) await store.close();
  }
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
    const store = shared ?? (await (opening as Promise<OpenedStore>));
    return { dockerfilePath, parsed, outputs, tags, store };
  } catch (e) {
    await opening?.then(
      (s) => s.close(),
      () => {},
    );
    throw e;
  }
}

/** The copy snapshotter works everywhere but copies each step's whole tree: say so, and why. */
export function copySnapshotterWarning(reason: string | undefined): string {
  const cost = "every step copies its parent's files (slower builds, more disk)";
  return reason
    ? `overlayfs is not usable here (${reason.split('\n')[0]}): using the copy snapshotter, ${cost}`
    : `using the copy snapshotter (selected), ${cost}`;
}

/** The parsed Dockerfile, from the session while its text is the same. */
function parseCached(o: BuildOptions, text: string): ReturnType<typeof toStages> {
  const hit = o.session?.parsed;
  if (hit && hit.text === text) return hit.value as ReturnType<typeof toStages>;
  const parsed = toStages(text);
  if (o.session) o.session.parsed = { text, value: parsed };
  return parsed;
}

type Resolve = ReturnType<typeof imageResolver>;
type Resolved = Awaited<ReturnType<Resolve>>;

/**
 * Base images as the session's first build resolved them (a watch does not ask the registry on each
 * save; `--pull` still does). Only successes are kept, so a failed resolution is retried next build.
 * The pull result goes with it: the FROM op needs it when its snapshot is gone.
 */
function sessionResolver(o: BuildOptions, images: Map<string, PullResult>, resolveImage: Resolve): Resolve {
  const session = o.session;
  if (!session || o.pull) return resolveImage;
  session.images ??= new Map();
  const memo = session.images as Map<string, { resolved: Resolved; pulled?: PullResult }>;
  return async (ref, platform) => {
    const k = `${ref}|${JSON.stringify(platform)}`;
    const hit = memo.get(k);
    if (hit) {
      if (hit.pulled) images.set(hit.resolved.ref, hit.pulled);
      return hit.resolved;
    }
    const resolved = await resolveImage(ref, platform);
    const pulled = images.get(resolved.ref);
    memo.set(k, { resolved, ...(pulled ? { pulled } : {}) });
    return resolved;
  };
}

/** Waits for watch's export gate; the build's signal ends the wait. */
function gateOrAbort(gate: Promise<void>, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void gate.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

function outputSpecs(o: BuildOptions): OutputSpec[] {
  // No --output: the local image store, with uncompressed layers, as the Docker engine keeps them
  // (BuildKit's default `docker` exporter). Compression happens when the image leaves the machine
  // (push, oci/docker archives), so a local rebuild never pays for gzip.
  if ((o.outputs ?? []).length === 0 && !o.push) return parseOutputs(['type=image,compression=uncompressed']);
  const specs = parseOutputs(o.outputs ?? []);
  // --push as buildx (multiple exporters) treats it: push= on every image output, else one more
  // output that pushes. It used to be dropped silently next to `-o type=oci`.
  if (o.push) {
    for (const s of specs) if (s.type === 'image') s.push = true;
    if (!specs.some((s) => s.push)) specs.push(...parseOutputs(['type=image,push=true']));
  }
  return specs;
}
