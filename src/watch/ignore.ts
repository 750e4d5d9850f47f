import type { Stats } from 'node:fs';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { PatternMatcher } from '../context/index.js';

export interface IgnoreOptions {
  /** The build context (absolute or relative to cwd). */
  context: string;
  /** `.dockerignore` patterns as `readDockerignore` returns them. */
  excludes: string[];
  /** Files that are always watched even when `.dockerignore` excludes them: the Dockerfile, ignore files. */
  always?: string[];
  /** Paths the build writes (outputs, iidfile, metadata file, the state root): never trigger a rebuild. */
  outputs?: string[];
}

export interface WatchIgnore {
  /** chokidar's `ignored`: true = do not watch (for a directory: do not descend). */
  ignored(path: string, stats?: Pick<Stats, 'isDirectory'>): boolean;
  /** For an event chokidar reported: true = not a change of the build's input. */
  ignoresEvent(path: string, isDir: boolean): boolean;
  /** The context-relative path (`/`-separated) of an absolute path, or undefined outside the context. */
  rel(path: string): string | undefined;
}

/**
 * Editor droppings that never are a real edit: vim swap and backup files, vim's `4913` write probe,
 * emacs lock and autosave files, JetBrains safe-write temps. Matched on the base name.
 */
const EDITOR_TEMP = [/\.sw[a-px]$/, /~$/, /^\.#/, /^#.*#$/, /^4913$/, /___jb_(tmp|old)___$/];

export function isEditorTemp(name: string): boolean {
  return EDITOR_TEMP.some((r) => r.test(name));
}

/**
 * What watch ignores: `.git` anywhere, editor temp files, what the build itself writes, and what
 * `.dockerignore` excludes (moby semantics: a directory is skipped whole only when no `!` pattern
 * could re-include something below it, as the context scan does). The Dockerfile and the ignore
 * files are never ignored.
 */
export function createIgnore(o: IgnoreOptions): WatchIgnore {
  const root = resolve(o.context);
  const always = new Set((o.always ?? []).map((p) => resolve(p)));
  const outputs = (o.outputs ?? []).map((p) => resolve(p));
  const pm = new PatternMatcher(o.excludes);
  const rel = (path: string): string | undefined => {
    const r = relative(root, resolve(path));
    if (r === '') return '';
    if (r.startsWith(`..${sep}`) || r === '..' || isAbsolute(r)) return undefined;
    return sep === '/' ? r : r.split(sep).join('/');
  };
  const isOutput = (abs: string) =>
    outputs.some((o) => abs === o || abs.startsWith(`${o}/`) || abs.startsWith(`${o}.tmp-`));
  const ignored = (path: string, stats?: Pick<Stats, 'isDirectory'>): boolean => {
    const abs = resolve(path);
    if (always.has(abs)) return false;
    if (isOutput(abs)) return true;
    const r = rel(abs);
    if (r === undefined) return !always.has(abs);
    if (r === '') return false;
    const parts = r.split('/');
    if (parts.includes('.git')) return true;
    if (isEditorTemp(basename(r))) return true;
    if (pm.patterns.length === 0) return false;
    if (!pm.matchesOrParentMatches(r)) return false;
    // With `!` patterns a matched directory may hold re-included files: keep descending, and let
    // the per-file check decide. Without stats chokidar does not tell files from directories yet.
    if (pm.exclusions) return stats !== undefined && !stats.isDirectory();
    return true;
  };
  return {
    rel,
    ignored,
    ignoresEvent: (path, isDir) => ignored(path, { isDirectory: () => isDir }),
  };
}
