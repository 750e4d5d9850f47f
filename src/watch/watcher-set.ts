import type { ContextWatcher } from './context-watcher.js';

/**
 * The build context's watcher and one per named local context (`--build-context NAME=DIR`), as one:
 * a named context's paths carry `NAME:` in front, so the rebuild loop's settle/forget reach the
 * watcher that reported them.
 */
export class WatcherSet {
  private readonly parts: { prefix: string; w: ContextWatcher }[] = [];

  add(prefix: string, w: ContextWatcher): void {
    // Longest prefix first: the context's own ('') is the fallback.
    this.parts.push({ prefix, w });
    this.parts.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  async start(): Promise<number> {
    const counts = await Promise.all(this.parts.map((p) => p.w.start()));
    return counts.reduce((a, b) => a + b, 0);
  }

  settle(paths: string[]): string[] {
    return this.routed(paths).flatMap(({ prefix, w, mine }) => w.settle(mine).map((p) => prefix + p));
  }

  forget(paths: string[]): void {
    for (const { w, mine } of this.routed(paths)) w.forget(mine);
  }

  async close(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.w.close()));
  }

  private routed(paths: string[]) {
    const out = this.parts.map((p) => ({ ...p, mine: [] as string[] }));
    for (const path of paths) {
      const part = out.find((p) => path.startsWith(p.prefix));
      part?.mine.push(path.slice(part.prefix.length));
    }
    return out.filter((p) => p.mine.length > 0);
  }
}
