import { spawnWatcher, type WatcherChild } from './spawn-piped.js';

/**
 * kill -9 of tsbuild runs none of its handlers, and runc in the foreground does not stop its
 * container when its parent dies: the step would go on writing into a snapshot nobody owns until
 * the next tsbuild sweeps the bundle dir. So a tiny awk process holds the read end of a pipe from
 * this process. It is told each container as it starts (`+id`) and ends (`-id`); when the pipe
 * closes, which the kernel does however this process ends, it force-deletes the containers still
 * listed (`runc delete -f` kills the whole PID namespace). After a normal exit the list is empty.
 * Bundles, mounts and cgroups stay for the next run's sweep, which does that as before.
 *
 * The watcher is in its own process group, so a terminal's Ctrl-C (which tsbuild handles itself)
 * does not end it first; it is unref'd so that it never keeps this process alive.
 */
interface Watcher {
  child: WatcherChild;
  broken: boolean;
}

const watchers = new Map<string, Watcher>();

/** POSIX sh single quoting, for the command awk hands to system(). */
const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

function start(runtimePath: string, runtimeRoot: string | undefined): Watcher {
  const runc = [runtimePath, ...(runtimeRoot ? ['--root', runtimeRoot] : [])].map(quote).join(' ');
  const program =
    '/^\\+/ { live[substr($0, 2)] = 1 } /^-/ { delete live[substr($0, 2)] } ' +
    'END { for (id in live) system(runc " delete -f " id " >/dev/null 2>&1") }';
  const child = spawnWatcher('awk', ['-v', `runc=${runc}`, program]);
  const w: Watcher = { child, broken: false };
  // No awk, or it died: the sweep of the next run is still there; nothing to report.
  const broken = () => {
    w.broken = true;
  };
  child.on('error', broken);
  child.stdin.on('error', broken);
  return w;
}

/** Lists a starting container with the watcher of its runtime; the result takes it off again. */
export function deadManSwitch(id: string, runtimePath: string, runtimeRoot?: string): () => void {
  const key = `${runtimePath}\0${runtimeRoot ?? ''}`;
  let w = watchers.get(key);
  if (!w || w.broken) {
    w = start(runtimePath, runtimeRoot);
    watchers.set(key, w);
  }
  const watcher = w;
  // runc's own rule for ids; anything else runc refuses anyway, and it must not reach system().
  if (!/^[\w+.-]+$/.test(id)) return () => {};
  const send = (line: string) => {
    if (!watcher.broken) watcher.child.stdin.write(line);
  };
  send(`+${id}\n`);
  return () => send(`-${id}\n`);
}
