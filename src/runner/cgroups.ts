import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunLimits } from './types.js';

/**
 * cgroups for one container. runc is given the relative path `tsbuild/<id>/ctr`; we own the parent
 * `tsbuild/<id>`, which outlives runc's leaf (runc removes only the leaf). That is what makes OOM
 * detection possible after `runc run` returns:
 * - v1 (hybrid hosts like these): the limits are written on the parent by us, so a charge over the
 *   limit fails at the parent and its `memory.failcnt` survives the leaf (see wasOomKilled). The
 *   container's own cgroup files show no limit (the kernel enforces the parent's).
 * - v2: the limits go in the runtime spec (runc applies them to the leaf); `memory.events` counts
 *   propagate to ancestors, so the parent's `oom_kill` still says so.
 */
export type CgroupVersion = 1 | 2;

export interface CgroupParent {
  version: CgroupVersion;
  /** what goes in the spec's `linux.cgroupsPath` */
  runtimePath: string;
  /** host dirs of the parent, one per v1 hierarchy (or the single v2 dir) */
  dirs: string[];
  /** the memory controller's dir of the parent, where OOM kills are counted */
  memoryDir?: string;
  /** whether the spec must carry the limits (v2) or they are already on the parent (v1) */
  limitsInSpec: boolean;
}

const CGROUP_ROOT = '/sys/fs/cgroup';

export function detectCgroupVersion(): CgroupVersion {
  return existsSync(join(CGROUP_ROOT, 'cgroup.controllers')) ? 2 : 1;
}

interface V1Mount {
  mountPoint: string;
  controllers: string[];
}

/** v1 hierarchies (and a hybrid host's cgroup2 mount) from /proc/self/mountinfo: (mount point, controllers). */
export function parseV1Mounts(mountinfo: string): V1Mount[] {
  const out: V1Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const [fstype, , superOpts] = post.split(' ');
    const mountPoint = pre.split(' ')[4]!;
    // The hybrid layout's cgroup2 mount (/sys/fs/cgroup/unified): runc makes its path there too,
    // keyed by '' in /proc/self/cgroup (`0::/…`).
    if (fstype === 'cgroup2') out.push({ mountPoint, controllers: [''] });
    if (fstype !== 'cgroup') continue;
    const controllers = (superOpts ?? '').split(',').filter((o) => o !== 'rw' && o !== 'ro');
    out.push({ mountPoint, controllers });
  }
  return out;
}

/** `/proc/self/cgroup` → controller list string → path (v2 under the key ''). */
export function parseProcCgroup(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const ctrls = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    for (const c of ctrls === '' ? [''] : ctrls.split(',')) m.set(c, path);
  }
  return m;
}

function writeIf(dir: string, file: string, value: string | undefined): void {
  if (value === undefined) return;
  const p = join(dir, file);
  if (existsSync(p)) writeFileSync(p, value);
}

export function cpuQuota(limits: RunLimits): { quota?: number; period: number } {
  const period = limits.cpuPeriod ?? 100_000;
  if (limits.cpuQuota !== undefined) return { quota: limits.cpuQuota, period };
  if (limits.cpus !== undefined) return { quota: Math.round(limits.cpus * period), period };
  return { period };
}

function hasLimits(l: RunLimits): boolean {
  return (
    l.memory !== undefined || l.pidsLimit !== undefined || l.cpuQuota !== undefined || l.cpus !== undefined
  );
}

/** Creates the parent cgroup of container `id` (v1: with the limits written on it). */
export function createCgroupParent(id: string, limits: RunLimits = {}): CgroupParent {
  const inner = join('tsbuild', id);
  const runtimePath = join(inner, 'ctr');
  const version = detectCgroupVersion();
  if (!hasLimits(limits)) {
    // Nothing to enforce, so no OOM of ours to detect: runc gets a plain `tsbuild/<id>` and creates
    // and removes it itself (a pre-made parent costs a few ms per step on v1's many hierarchies).
    return { version, runtimePath: inner, dirs: [], limitsInSpec: version === 2 };
  }
  const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  if (version === 2) {
    // runc resolves a relative v2 path against the *parent* of its own cgroup (a cgroup with tasks
    // cannot enable controllers for children); mirror that.
    const dir = join(CGROUP_ROOT, dirname(own.get('') ?? '/'), inner);
    mkdirSync(dir, { recursive: true });
    return { version: 2, runtimePath, dirs: [dir], memoryDir: dir, limitsInSpec: true };
  }
  const dirs: string[] = [];
  let memoryDir: string | undefined;
  for (const m of parseV1Mounts(readFileSync('/proc/self/mountinfo', 'utf8'))) {
    const key = m.controllers[0];
    if (key === undefined) continue;
    const dir = join(m.mountPoint, own.get(key) ?? '/', inner);
    mkdirSync(dir, { recursive: true });
    dirs.push(dir);
    if (m.controllers.includes('memory')) {
      memoryDir = dir;
      if (limits.memory !== undefined) {
        writeIf(dir, 'memory.limit_in_bytes', String(limits.memory));
        // No swap beyond the limit: a build step that exceeds --memory is killed, not swapped.
        writeIf(dir, 'memory.memsw.limit_in_bytes', String(limits.memory));
      }
    }
    if (m.controllers.includes('pids') && limits.pidsLimit !== undefined) {
      writeIf(dir, 'pids.max', String(limits.pidsLimit));
    }
    if (m.controllers.includes('cpu')) {
      const { quota, period } = cpuQuota(limits);
      if (quota !== undefined) {
        writeIf(dir, 'cpu.cfs_period_us', String(period));
        writeIf(dir, 'cpu.cfs_quota_us', String(quota));
      }
    }
  }
  return { version: 1, runtimePath, dirs, memoryDir, limitsInSpec: false };
}

function readCount(file: string, pattern: RegExp): number {
  try {
    const m = pattern.exec(readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Whether the container's process was killed by the OOM killer. v2: the parent's `memory.events`
 * `oom_kill` (events propagate up). v1 keeps `oom_kill` on the victim's own cgroup, which runc has
 * removed by now; the limit is on our parent, so an exit by SIGKILL (137) after the parent's usage
 * reached its limit (`memory.max_usage_in_bytes`; `memory.failcnt` where the kernel still counts it)
 * is the OOM killer.
 */
export function wasOomKilled(parent: CgroupParent, exitCode: number): boolean {
  if (!parent.memoryDir) return false;
  if (parent.version === 2)
    return readCount(join(parent.memoryDir, 'memory.events'), /^oom_kill (\d+)$/m) > 0;
  if (exitCode !== 137) return false;
  const dir = parent.memoryDir;
  if (readCount(join(dir, 'memory.failcnt'), /^(\d+)/) > 0) return true;
  const limit = readCount(join(dir, 'memory.limit_in_bytes'), /^(\d+)/);
  const peak = readCount(join(dir, 'memory.max_usage_in_bytes'), /^(\d+)/);
  // Within a few pages of the limit: the charge that failed was at most that far away.
  return limit > 0 && limit < 2 ** 62 && peak >= limit - 256 * 1024;
}

/** The parent dirs container `id` would have, without creating them (for sweeping leftovers). */
export function cgroupParentOf(id: string): CgroupParent {
  const inner = join('tsbuild', id);
  const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  if (detectCgroupVersion() === 2) {
    const dir = join(CGROUP_ROOT, dirname(own.get('') ?? '/'), inner);
    return { version: 2, runtimePath: join(inner, 'ctr'), dirs: [dir], memoryDir: dir, limitsInSpec: true };
  }
  const dirs = parseV1Mounts(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((m) => m.controllers[0] !== undefined)
    .map((m) => join(m.mountPoint, own.get(m.controllers[0]!) ?? '/', inner));
  return { version: 1, runtimePath: join(inner, 'ctr'), dirs, limitsInSpec: false };
}

/** Tries to remove each dir; returns those still there (busy: tasks of the step still exiting). */
function removeDirs(parent: CgroupParent): string[] {
  const left: string[] = [];
  for (const dir of parent.dirs) {
    for (const d of [join(dir, 'ctr'), dir]) {
      try {
        rmdirSync(d);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d);
      }
    }
  }
  return left;
}

/** Removes the parent (and runc's leaf if left); never throws. Synchronous: for exit paths. */
export function removeCgroupParentSync(parent: CgroupParent): void {
  removeDirs(parent);
}

/**
 * Removes the parent and runc's leaf. A cgroup with tasks cannot be removed, and after a kill the
 * step's processes can take a moment to be reaped (a fork bomb's hundreds), so busy dirs are retried
 * for up to ~1 s. Never throws; what still cannot go is left for the next sweep.
 */
export async function removeCgroupParent(parent: CgroupParent): Promise<void> {
  for (let i = 0; i < 50 && removeDirs(parent).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
}
