import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { readDockerignore } from '../context/index.js';
import { createIgnore } from './ignore.js';
import { TreeWatcher } from './tree-watcher.js';

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

/**
 * Watches the build context with `.dockerignore` applied while walking (excluded directories are not
 * even descended into). The Dockerfile and the ignore files are always watched, wherever they are; a
 * change of an ignore file re-creates the watch with the new patterns, because directories it skipped
 * before may now be part of the context.
 */
export class ContextWatcher {
  private tree: TreeWatcher | undefined;
  private readonly context: string;
  private readonly ignoreFiles: string[];
  private readonly always: string[];
  private closed = false;
  private rewatching = false;
  private rewatchAgain = false;
  /** The ignore files' text the current watch was made from. */
  private ignoreText = '';
  /** Per path changed since its last build: whether it was there before its first change. */
  private readonly existedBefore = new Map<string, boolean>();

  constructor(private readonly o: ContextWatcherOptions) {
    this.context = resolve(o.context);
    const df = o.dockerfile ? resolve(o.dockerfile) : undefined;
    this.ignoreFiles = [join(this.context, '.dockerignore')];
    if (df) this.ignoreFiles.push(join(dirname(df), `${basename(df)}.dockerignore`));
    this.always = [...(df ? [df] : []), ...this.ignoreFiles];
  }

  /** Starts watching; resolves with the number of watched paths once the initial walk is done. */
  async start(): Promise<number> {
    const tree = await this.makeTree(undefined);
    return tree?.count ?? 0;
  }

  /**
   * Builds a watch with the ignore patterns read now. For a re-watch the previous tree keeps watching
   * (and reporting) until the new one has all its watches in place, and the new walk reports what
   * changed from `since` on and what of the old tree's paths is gone: no window where a change to the
   * context goes unseen, even in directories the old patterns skipped.
   */
  private async makeTree(previous: TreeWatcher | undefined): Promise<TreeWatcher | undefined> {
    const since = Date.now();
    this.ignoreText = this.readIgnoreText();
    const excludes = await readDockerignore(this.context, this.o.dockerfile).catch((e) => {
      // A broken .dockerignore is the build's error to report; watch everything meanwhile.
      this.o.onError(e);
      return [] as string[];
    });
    if (this.closed) return undefined;
    const ignore = this.ignoreRules(excludes);
    const tree = new TreeWatcher({
      ignored: (p, isDir) => ignore.ignoresEvent(p, isDir),
      onChange: (p, existed) => this.onChange(p, existed),
      onError: (e) => this.o.onError(e),
      ...(previous ? { rewatch: { previous: previous.paths, since } } : {}),
    });
    tree.addTree(this.context);
    for (const f of this.always) tree.addFiles(dirname(f), [basename(f)]);
    tree.reconcile();
    // Swap only now: until here the previous tree was still reporting.
    this.tree = tree;
    previous?.close();
    return tree;
  }

  /** The raw text of the ignore files: a re-watch is needed only when it differs from the one in use. */
  private readIgnoreText(): string {
    return this.ignoreFiles
      .map((f) => {
        try {
          return readFileSync(f, 'utf8');
        } catch {
          return '\0absent';
        }
      })
      .join('\0');
  }

  /**
   * One re-watch at a time (an editor's save is several events, each would start one, and two racing
   * `makeTree`s would leak a tree); events meanwhile ask for one more pass, which is skipped when the
   * ignore files read the same as the ones the current watch was made from.
   */
  private rewatch(): void {
    if (this.rewatching) {
      this.rewatchAgain = true;
      return;
    }
    if (this.closed || this.readIgnoreText() === this.ignoreText) return;
    this.rewatching = true;
    this.makeTree(this.tree)
      .catch((e) => this.o.onError(e))
      .finally(() => {
        this.rewatching = false;
        if (this.rewatchAgain) {
          this.rewatchAgain = false;
          this.rewatch();
        }
      });
  }

  /** A pattern the matcher refuses is the build's error to show; meanwhile nothing is excluded. */
  private ignoreRules(excludes: string[]) {
    const base = { context: this.context, always: this.always, outputs: this.o.outputs };
    try {
      return createIgnore({ ...base, excludes });
    } catch (e) {
      this.o.onError(e);
      return createIgnore({ ...base, excludes: [] });
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.tree?.close();
    this.tree = undefined;
  }

  /**
   * The paths of a batch that are real changes: drops those that were not there before the batch and
   * are gone again (the temp file of `sed -i`, an editor's lock file). A path that existed before and
   * is gone now is a deletion and stays.
   */
  settle(paths: string[]): string[] {
    const real = paths.filter(
      (p) => this.existedBefore.get(p) !== false || existsSync(resolve(this.context, p)),
    );
    // A directory whose contents are listed is said by them (a new dir of 500 files is 500 files).
    const parents = new Set<string>();
    for (const p of real)
      for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) parents.add(p.slice(0, i));
    return real.filter((p) => !parents.has(p));
  }

  /** The batch is built: its paths start afresh. */
  forget(paths: string[]): void {
    for (const p of paths) this.existedBefore.delete(p);
  }

  private onChange(abs: string, existed: boolean): void {
    if (this.closed) return;
    const rel = relative(this.context, abs) || '.';
    if (!this.existedBefore.has(rel)) this.existedBefore.set(rel, existed);
    this.o.onChange([rel]);
    // New patterns: directories skipped before may now be in the context, and the reverse.
    if (this.ignoreFiles.includes(abs)) this.rewatch();
  }
}
