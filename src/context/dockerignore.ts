import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { decodeName } from '../fs-names.js';
import { cleanPath } from './pattern-matcher.js';

/**
 * moby/patternmatcher/ignorefile ReadAll: a UTF-8 BOM is dropped, lines starting with `#` are
 * comments (only at column 0), whitespace is trimmed, patterns are cleaned and a leading `/` is
 * removed (the context root is `/`), keeping a `!` prefix.
 */
export function parseDockerignore(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const line of lines) {
    if (line.startsWith('#')) continue;
    let p = line.trim();
    if (p === '') continue;
    const invert = p[0] === '!';
    if (invert) p = p.slice(1).trim();
    if (p.length > 0) {
      p = cleanPath(p);
      if (p.length > 1 && p[0] === '/') p = p.slice(1);
    }
    out.push(invert ? `!${p}` : p);
  }
  return out;
}

/**
 * The ignore patterns for a build: `<Dockerfile>.dockerignore` next to the Dockerfile wins over the
 * context's `.dockerignore` (BuildKit's dockerui). No file: no patterns.
 */
export async function readDockerignore(contextDir: string, dockerfilePath?: string): Promise<string[]> {
  const candidates: string[] = [];
  if (dockerfilePath && dockerfilePath !== '-') {
    candidates.push(join(dirname(dockerfilePath), `${basename(dockerfilePath)}.dockerignore`));
  }
  candidates.push(join(contextDir, '.dockerignore'));
  for (const c of candidates) {
    try {
      // Bytes that are not UTF-8 stay themselves, to match such names (fs-names.ts), as Go's do.
      return parseDockerignore(decodeName(await readFile(c)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
  return [];
}
