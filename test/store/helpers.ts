import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A fresh directory removed after the file's tests (unmounting anything left mounted below it). */
export function tempDir(prefix = 'tsb-store-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => {
    try {
      execFileSync('sh', ['-c', `grep -o " ${dir}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

export function sh(script: string, cwd?: string): string {
  return execFileSync('bash', ['-c', script], { cwd, encoding: 'utf8', maxBuffer: 1 << 26 });
}

/** `find` listing with type, mode, owner, size, link target and device numbers: compares trees. */
export function treeListing(dir: string): string {
  return sh(
    `cd "${dir}" && find . -mindepth 1 -printf '%p %y %m %U:%G %s %l\\n' | LC_ALL=C sort | while read -r p t m o s l; do
      if [ "$t" = c ] || [ "$t" = b ]; then echo "$p $t $m $o $(stat -c '%t:%T' "$p")"; elif [ "$t" = d ]; then echo "$p $t $m $o"; else echo "$p $t $m $o $s $l"; fi
    done`,
  );
}

/** xattrs of every entry (all namespaces), sorted. */
export function xattrListing(dir: string): string {
  return sh(`cd "${dir}" && getfattr -R -P -h -d -m - -e hex . 2>/dev/null | grep -v '^$' || true`);
}
