import { basename, dirname, join, relative, resolve } from 'node:path';
import { watch as chokidarWatch, type FSWatcher } from 'chokidar';
import { readDockerignore } from '../context/index.js';
import { createIgnore, type WatchIgnore } from './ignore.js';

export interface ContextWatcherOptions {
  context: string;
  /** The Dockerfile's path; undefined when it comes from stdin or from text. */
  dockerfile?: string;
  /** Paths the build writes: never a change. */
  outputs: string[];
  /** Changed paths, relative to the context (`../x` for a Dockerfile outside it). */
  onChange(paths: string[]): void;
  onError(error: unknown): void;
}

const DIR_EVENTS = new Set(['addDir', 'unlinkDir']);

/**
 * chokidar on the build context, with `.dockerignore` applied while walking (excluded directories are
 * not even descended into). The Dockerfile and the ignore files are always watched, wherever they
 * are; a change of an ignore file re-creates the watcher with the new patterns, because directories
 * it skipped before may now be part of the context.
 */
export class ContextWatcher {
  private watcher: FSWatcher | undefined;
  private readonly context: string;
  private readonly ignoreFiles: string[];
  private readonly always: string[];
  private closed = false;
  private restarting: Promise<void> | undefined;

  constructor(private readonly o: ContextWatcherOptions) {
    this.context = resolve(o.context);
    const df = o.dockerfile ? resolve(o.dockerfile) : undefined;
    this.ignoreFiles = [join(this.context, '.dockerignore')];
    if (df) this.ignoreFiles.push(join(dirname(df), `${basename(df)}.dockerignore`));
    this.always = [...(df ? [df] : []), ...this.ignoreFiles];
  }

  /** Starts watching; resolves with the number of watched paths once chokidar's initial scan is done. */
  async start(): Promise<number> {
    const excludes = await readDockerignore(this.context, this.o.dockerfile).catch((e) => {
      // A broken .dockerignore is the build's error to report; watch everything meanwhile.
      this.o.onError(e);
      return [] as string[];
    });
    const ignore = createIgnore({
      context: this.context,
      excludes,
      always: this.always,
      outputs: this.o.outputs,
    });
    const w = chokidarWatch([this.context, ...this.always.filter((p) => !p.startsWith(`${this.context}/`))], {
      ignoreInitial: true,
      ignored: (p, stats) => ignore.ignored(p, stats),
      followSymlinks: false,
      persistent: true,
    });
    this.watcher = w;
    w.on('all', (event, path) => this.onEvent(ignore, event, path));
    w.on('error', (e) => this.o.onError(e));
    await new Promise<void>((r) => w.once('ready', () => r()));
    let n = 0;
    for (const names of Object.values(w.getWatched())) n += names.length;
    return n;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.restarting;
    await this.watcher?.close();
    this.watcher = undefined;
  }

  private onEvent(ignore: WatchIgnore, event: string, path: string): void {
    if (this.closed) return;
    const abs = resolve(path);
    if (ignore.ignoresEvent(abs, DIR_EVENTS.has(event))) return;
    this.o.onChange([relative(this.context, abs) || '.']);
    if (this.ignoreFiles.includes(abs)) this.restart();
  }

  private restart(): void {
    if (this.restarting) return;
    const old = this.watcher;
    this.restarting = (async () => {
      await old?.close();
      if (!this.closed) await this.start();
    })()
      .catch((e) => this.o.onError(e))
      .finally(() => {
        this.restarting = undefined;
      });
  }
}
