import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import { detectCgroupVersion } from './cgroups.js';
import { RunnerError } from './errors.js';

export interface OciRuntime {
  name: 'runc' | 'crun';
  path: string;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findInPath(name: string, pathEnv: string): string | undefined {
  const dirs = [...pathEnv.split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** A hybrid v1/v2 host (v1 controllers plus a v2 mount): crun refuses to run there. */
function isHybrid(): boolean {
  return detectCgroupVersion() === 1 && existsSync('/sys/fs/cgroup/unified/cgroup.procs');
}

let cached: OciRuntime | undefined;

/**
 * The OCI runtime to use: `$TSBUILD_RUNTIME` (runc|crun|a path) if set, else runc, else crun
 * where it works (not on cgroup v1 or hybrid hosts). No runtime is an error naming the package.
 */
export function detectRuntime(env: NodeJS.ProcessEnv = process.env): OciRuntime {
  if (cached && env === process.env) return cached;
  const pathEnv = env.PATH ?? '';
  const wanted = env.TSBUILD_RUNTIME;
  let found: OciRuntime | undefined;
  if (wanted) {
    const path = wanted.includes('/')
      ? isExecutable(wanted)
        ? wanted
        : undefined
      : findInPath(wanted, pathEnv);
    if (!path) {
      throw new RunnerError('RUNNER_NO_RUNTIME', `OCI runtime ${wanted} (TSBUILD_RUNTIME) not found`, {
        hint: `apt-get install -y ${wanted.includes('crun') ? 'crun' : 'runc'}`,
      });
    }
    found = { name: path.endsWith('crun') ? 'crun' : 'runc', path };
  } else {
    const runc = findInPath('runc', pathEnv);
    const crun = findInPath('crun', pathEnv);
    if (runc) found = { name: 'runc', path: runc };
    else if (crun && detectCgroupVersion() === 2) found = { name: 'crun', path: crun };
    else if (crun && isHybrid()) {
      throw new RunnerError(
        'RUNNER_NO_RUNTIME',
        'crun does not support cgroups v1/hybrid hosts and runc is not installed',
        {
          hint: 'apt-get install -y runc',
        },
      );
    }
  }
  if (!found) {
    throw new RunnerError('RUNNER_NO_RUNTIME', 'no OCI runtime found (looked for runc and crun in PATH)', {
      hint: 'apt-get install -y runc',
    });
  }
  if (env === process.env) cached = found;
  return found;
}
