import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import type { ContainerMount } from '../runner/index.js';

/** Where the init's static busybox is bind-mounted in the app container (read-only). */
export const INIT_PATH = '/.tsbuild/busybox';

/**
 * `docker run --init` for `--run`: a process that is PID 1 gets no signal it has no handler for, so
 * an app like busybox httpd would ignore the StopSignal and every restart would wait out the stop
 * timeout. This shell (the host's static busybox, bind-mounted) is PID 1 instead: it starts the app,
 * forwards TERM/HUP/USR1/USR2 (INT and QUIT are ignored by background jobs, as POSIX says), reaps, and
 * exits with the app's status. The command is resolved on PATH by hand and run by absolute path, so
 * busybox's own applets never stand in for the image's programs.
 */
const SCRIPT = `cmd=$1; shift
case $cmd in */*) ;; *)
  IFS=:; for d in \${PATH:-/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}; do
    if [ -f "$d/$cmd" ] && [ -x "$d/$cmd" ]; then cmd=$d/$cmd; break; fi
  done; unset IFS;;
esac
"$cmd" "$@" & pid=$!
for s in TERM HUP USR1 USR2 INT QUIT; do trap "kill -$s \\$pid 2>/dev/null" $s; done
while :; do wait $pid; rc=$?; kill -0 $pid 2>/dev/null || exit $rc; done`;

let found: string | null | undefined;

/** The host's busybox when it is statically linked (it must run in any image, FROM scratch too). */
export function staticBusybox(): string | undefined {
  if (found !== undefined) return found ?? undefined;
  found = null;
  for (const p of ['/bin/busybox', '/usr/bin/busybox', '/usr/local/bin/busybox']) {
    if (!existsSync(p)) continue;
    const head = Buffer.alloc(8192);
    const fd = openSync(p, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    // A dynamic ELF names its interpreter (PT_INTERP) near the start.
    if (
      head.subarray(0, 4).toString('latin1') === '\x7fELF' &&
      !/ld-linux|ld-musl/.test(head.toString('latin1'))
    ) {
      found = p;
      break;
    }
  }
  return found ?? undefined;
}

/** The argv and mount that run `args` under the init; undefined when no static busybox is at hand. */
export function withInit(args: string[]): { args: string[]; mount: ContainerMount } | undefined {
  const busybox = staticBusybox();
  if (!busybox) return undefined;
  return {
    args: [INIT_PATH, 'sh', '-c', SCRIPT, 'tsbuild-init', ...args],
    mount: { type: 'bind', source: busybox, target: INIT_PATH, readonly: true },
  };
}
