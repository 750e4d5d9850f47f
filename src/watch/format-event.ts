import { formatSummary } from './format-summary.js';
import type { WatchEvent } from './types.js';

export interface EventLine {
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * How the CLI prints a watch event (undefined: nothing). Summaries and the app's output go to
 * stdout, the rest to stderr. `build-failed` is the CLI's: it renders errors with the Dockerfile.
 */
export function formatEvent(e: WatchEvent, appName = 'app'): EventLine | undefined {
  switch (e.type) {
    case 'ready':
      return { stream: 'stderr', text: `watching ${e.context} (${e.paths} paths); Ctrl-C to stop` };
    case 'build-done':
      return { stream: 'stdout', text: formatSummary(e.summary) };
    case 'build-cancelled':
      return { stream: 'stderr', text: `#${e.n} cancelled: the context changed, rebuilding` };
    case 'exec-done':
      return e.exitCode === 0
        ? undefined
        : { stream: 'stderr', text: `--exec exited with ${e.signal ?? `code ${e.exitCode}`}: ${e.command}` };
    case 'app-start':
      return { stream: 'stderr', text: `${appName} | started ${e.containerId} from ${e.digest}` };
    case 'app-output':
      return { stream: 'stdout', text: `${appName} | ${e.line}` };
    case 'app-exit': {
      const how = e.signal ? `killed by ${e.signal}` : `exited with code ${e.exitCode}`;
      return { stream: 'stderr', text: `${appName} | ${e.stopped ? 'stopped' : how} (${e.containerId})` };
    }
    case 'watcher-error':
    case 'app-error':
    case 'build-failed':
    case 'change':
    case 'build-start':
      return undefined;
  }
}

/** A watch event as one JSON line (`--progress json`): errors as `{ code, message, line }`. */
export function eventJson(e: WatchEvent): string {
  const err = (x: unknown) => {
    const o = x as { code?: string; message?: string; range?: { start: { line: number } } };
    return {
      ...(o?.code ? { code: o.code } : {}),
      message: o?.message ?? String(x),
      ...(o?.range ? { line: o.range.start.line } : {}),
    };
  };
  const at = new Date(e.at).toISOString();
  switch (e.type) {
    case 'build-done':
      return JSON.stringify({ type: e.type, at, ...e.summary });
    case 'build-failed':
      return JSON.stringify({ type: e.type, at, n: e.n, changed: e.changed, error: err(e.error) });
    case 'app-error':
    case 'watcher-error':
      return JSON.stringify({ type: e.type, at, error: err(e.error) });
    default:
      return JSON.stringify({ ...e, at });
  }
}
