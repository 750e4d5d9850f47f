import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { BuildInputs, BuildOptions } from '../build.js';
import { type ContextSnapshot, readDockerignore, scanContext } from '../context/index.js';
import { errnoText, TsbuildError } from '../errors.js';
import { DOCKERFILE_NAMES } from '../parser/dockerfile-names.js';
import type { nullSink } from '../progress/events.js';
import type { Store } from '../store/index.js';
import { CONTEXT_VERTEX } from './frontend/convert.js';
import type { Vertex } from './graph.js';

// What a build reads besides the store: the Dockerfile, the context, and what it tells `observe`.

/** The Dockerfile: given as text, from stdin (`-f -`), `-f PATH`, else the first of DOCKERFILE_NAMES in CONTEXT. */
export async function readDockerfile(
  o: BuildOptions,
  contextDir: string,
): Promise<{ text: string; path?: string }> {
  if (o.dockerfileText !== undefined) return { text: o.dockerfileText };
  if (o.file === '-') {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return { text: Buffer.concat(chunks).toString('utf8') };
  }
  const candidates = o.file ? [resolve(o.file)] : DOCKERFILE_NAMES.map((n) => join(contextDir, n));
  for (const p of candidates) {
    try {
      return { text: await readFile(p, 'utf8'), path: p };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      // BuildKit's words: `failed to read dockerfile: read …/Dockerfile: is a directory`.
      throw new TsbuildError(
        'DOCKERFILE_UNREADABLE',
        `failed to read dockerfile: read ${p}: ${errnoText(e)}`,
        {
          hint: 'the Dockerfile must be a readable file; give another one with -f',
        },
      );
    }
  }
  throw new TsbuildError(
    'DOCKERFILE_NOT_FOUND',
    `failed to read dockerfile: open ${candidates[0]}: no such file or directory`,
    {
      hint: 'give the Dockerfile with -f, or run in a directory that has one',
    },
  );
}

export async function scanWithProgress(
  store: Store,
  dir: string,
  dockerfile: string | undefined,
  progress: typeof nullSink,
  signal: AbortSignal,
  include: string[],
): Promise<ContextSnapshot> {
  // The scan runs when the first COPY computes its cache key, so it reports the context vertex itself.
  const id = CONTEXT_VERTEX.digest;
  const name = '[internal] load build context';
  progress.emit({ type: 'vertex', id, name, status: 'started', at: Date.now() });
  const excludes = await readDockerignore(dir, dockerfile);
  const snap = await scanContext({ dir, excludes, root: store.root, signal, include });
  progress.emit({ type: 'vertex', id, name, status: 'done', at: Date.now() });
  return snap;
}

/** For `BuildOptions.observe`: the context scan's stats (if any step read the context). */
export function buildInputs(context: ContextSnapshot | undefined, target: Vertex | undefined): BuildInputs {
  return {
    ...(context
      ? { context: { dir: context.dir, observed: context.observed, since: context.observedSince } }
      : {}),
    remote: target ? readsRemote(target) : false,
  };
}

/**
 * Whether any vertex reads what the no-op check does not stat: a URL (ADD https://…), a git
 * repository, a named local context (`--build-context`).
 */
function readsRemote(root: Vertex): boolean {
  const seen = new Set<Vertex>();
  const visit = (v: Vertex): boolean => {
    if (seen.has(v)) return false;
    seen.add(v);
    return v.op.kind === 'http' || v.op.kind === 'git' || v.op.kind === 'localctx' || v.inputs.some(visit);
  };
  return visit(root);
}
