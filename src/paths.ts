import { homedir } from 'node:os';
import { join } from 'node:path';

/** The default state root: `$TSBUILD_ROOT`, else `$XDG_DATA_HOME/tsbuild`, else `/var/lib/tsbuild` for root. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TSBUILD_ROOT) return env.TSBUILD_ROOT;
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'tsbuild');
  if (process.getuid?.() === 0) return '/var/lib/tsbuild';
  return join(homedir(), '.local', 'share', 'tsbuild');
}
