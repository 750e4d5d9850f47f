import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type BuildOptions, type BuildResult, build } from '../../src/build.js';
import type { ImageConfig } from '../../src/oci/index.js';
import type { ProgressEvent } from '../../src/progress/index.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';

/** A context dir from a map of files (`->target` makes a symlink). */
export function makeContext(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-e2e-ctx-'));
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    if (c.startsWith('->')) symlinkSync(c.slice(2), join(dir, p));
    else writeFileSync(join(dir, p), c);
  }
  return dir;
}

export interface Built extends BuildResult {
  events: ProgressEvent[];
  cfg: ImageConfig;
  /** The flattened rootfs (an `--output type=local` dir). */
  rootfs: string;
}

/** Builds with the library entry point and also flattens the result into a dir to inspect. */
export async function buildIt(
  root: string,
  context: string,
  dockerfile: string,
  extra: Partial<BuildOptions> = {},
): Promise<Built> {
  const events: ProgressEvent[] = [];
  const rootfs = mkdtempSync(join(tmpdir(), 'tsb-e2e-out-'));
  const r = await build({
    root,
    context,
    dockerfileText: dockerfile,
    progress: { emit: (e) => events.push(e) },
    ...extra,
    outputs: [...(extra.outputs ?? ['type=image']), `type=local,dest=${rootfs}`],
  });
  return { ...r, events, cfg: r.config as ImageConfig, rootfs };
}

/**
 * uid:gid of `p` in a `type=tar` output: the `type=local` rootfs is owned by whoever built it, as
 * BuildKit's local exporter writes it.
 */
export function ownerInTar(tar: string, p: string): string {
  const line = execFileSync('tar', ['--numeric-owner', '-tvf', tar, p], { encoding: 'utf8' }).split('\n')[0]!;
  return line.split(/\s+/)[1]!.replace('/', ':');
}

export function read(rootfs: string, p: string): string {
  return readFileSync(join(rootfs, p), 'utf8');
}

export function ranSteps(events: ProgressEvent[]): string[] {
  return events
    .filter((e) => e.type === 'vertex' && e.status === 'started' && !e.name.startsWith('[internal]'))
    .map((e) => (e as { name: string }).name);
}

/** A registry for the calling file's tests with busybox pushed to it; `base()` is its reference. */
export function useBusyboxRegistry(): () => string {
  return useBusyboxRegistryWith().base;
}

/** useBusyboxRegistry, with the registry itself for images of the test's own. */
export function useBusyboxRegistryWith(): { base: () => string; registry: () => TestRegistry } {
  let reg: TestRegistry | undefined;
  let base = '';
  beforeAll(async () => {
    reg = await startRegistry();
    base = pushBusyboxImage(reg, 'library/busybox:latest').ref;
  });
  afterAll(async () => {
    await reg?.stop();
  });
  return { base: () => base, registry: () => reg as TestRegistry };
}
