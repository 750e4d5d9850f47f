import type { BuildOptions } from '../build.js';
import { DockerfileSyntaxError } from '../errors.js';
import type { ProgressSink } from '../progress/events.js';
import type { openStore } from '../store/index.js';

// The warnings a build prints before its steps: build checks, ignored flags, the copy snapshotter.

type OpenedStore = Awaited<ReturnType<typeof openStore>>;

export type BuildWarning = { code: string; message: string; range: { start: { line: number } } };

/** The build-check warnings an error carries are printed before it (BuildKit: warnings, then the error). */
export function emitCarried(progress: ProgressSink, e: unknown): unknown {
  if (e instanceof DockerfileSyntaxError) emitWarnings(progress, e.warnings);
  return e;
}

export function emitWarnings(progress: ProgressSink, warnings: readonly BuildWarning[]): void {
  for (const w of warnings)
    progress.emit({
      type: 'warning',
      message: `${w.code}: ${w.message}`,
      line: w.range.start.line,
      at: Date.now(),
    });
}

/** Flags accepted only for docker's sake, and the copy snapshotter's cost. */
export function emitSetupWarnings(
  progress: ProgressSink,
  o: BuildOptions,
  store: OpenedStore,
  ignoredCaches: string[] = [],
): void {
  for (const f of ignoredCaches)
    progress.emit({
      type: 'warning',
      message: `${f}: this cache backend is not supported, ignored (type=registry, type=local and --cache-to type=inline are)`,
      at: Date.now(),
    });
  for (const f of o.ignoredFlags ?? []) {
    const why = /^--(provenance|sbom)\b/.test(f)
      ? 'no attestation is attached to the image'
      : 'a classic builder flag, which docker build with BuildKit ignores too';
    progress.emit({ type: 'warning', message: `${f}: not supported, ignored; ${why}`, at: Date.now() });
  }
  if (store.snapshots.kind === 'copy')
    progress.emit({
      type: 'warning',
      message: copySnapshotterWarning(store.snapshotterReason),
      at: Date.now(),
    });
}

/** The copy snapshotter works everywhere but copies each step's whole tree: say so, and why. */
export function copySnapshotterWarning(reason: string | undefined): string {
  const cost = "every step copies its parent's files (slower builds, more disk)";
  return reason
    ? `overlayfs is not usable here (${reason.split('\n')[0]}): using the copy snapshotter, ${cost}`
    : `using the copy snapshotter (selected), ${cost}`;
}
