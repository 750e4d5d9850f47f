import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupStaleMounts } from '../../src/solver/ops/snapshots.js';
import { requireRoot } from '../helpers/require.js';

requireRoot();

describe('cleanupStaleMounts', () => {
  it('unmounts and removes the COPY mounts of a dead build, keeps those of live ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-stale-'));
    // A pid that cannot be alive: above the kernel's pid_max.
    const deadPid = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
    const dead = join(root, 'tmp', `m-${deadPid}-abcdef`);
    const live = join(root, 'tmp', `m-${process.pid}-abcdef`);
    mkdirSync(dead, { recursive: true });
    mkdirSync(live, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', dead]);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', live]);
    try {
      await cleanupStaleMounts(root);
      const mounts = readFileSync('/proc/self/mounts', 'utf8');
      expect(mounts).not.toContain(` ${dead} `);
      expect(existsSync(dead)).toBe(false);
      expect(mounts).toContain(` ${live} `);
    } finally {
      execFileSync('umount', [live]);
    }
  });
});
