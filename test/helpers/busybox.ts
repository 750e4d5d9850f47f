import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './require.js';

/**
 * A busybox root filesystem made from Debian's busybox-static: /bin/busybox plus one symlink per
 * applet, /etc/passwd and /etc/group with root, nobody and a user `app` (1000:1000), and /tmp.
 */
export function makeBusyboxRootfs(dir = mkdtempSync(join(tmpdir(), 'tsb-busybox-'))): string {
  const busybox = requireBinary('busybox', 'busybox-static');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  mkdirSync(join(dir, 'etc'), { recursive: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true, mode: 0o1777 });
  copyFileSync(busybox, join(dir, 'bin', 'busybox'));
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) if (a !== 'busybox') symlinkSync('busybox', join(dir, 'bin', a));
  execFileSync('sh', [
    '-c',
    `printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000:app:/home/app:/bin/sh\\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\\n' > "${dir}/etc/passwd"
     printf 'root:x:0:\\napp:x:1000:\\nstaff:x:50:app\\nnogroup:x:65534:\\n' > "${dir}/etc/group"`,
  ]);
  return dir;
}
