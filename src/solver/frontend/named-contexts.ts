import { familiarReference, parseReference } from '../../oci/index.js';
import type { GitOp, HttpOp } from '../graph.js';
import type { StageState } from './stage-state.js';

/**
 * `--build-context name=…`: an image standing in for `name`, a local directory, or a remote source
 * (a git repository's tree, or one downloaded file named `context`).
 */
export type NamedContext = { image: string } | { dir: string } | { url: string; source: GitOp | HttpOp };

/**
 * The named context a FROM or --from word stands for (dockerui's NamedContext): the word as given,
 * else, for an image reference, its familiar form without `:latest` (`docker.io/library/alpine:latest`
 * is `alpine`). A named context wins over a stage of the same name, as buildx documents.
 */
export function namedContext(
  word: string,
  all: Record<string, NamedContext> | undefined,
): { name: string; ctx: NamedContext } | undefined {
  if (!all) return undefined;
  if (Object.hasOwn(all, word)) return { name: word, ctx: all[word]! };
  let short: string;
  try {
    short = familiarReference(parseReference(word)).replace(/:latest$/, '');
  } catch {
    return undefined;
  }
  return Object.hasOwn(all, short) ? { name: short, ctx: all[short]! } : undefined;
}

/** The state starts from the named context: the image's reference, or the directory's or source's tree. */
export function applyNamed(st: StageState, n: { name: string; ctx: NamedContext }): void {
  if ('image' in n.ctx) {
    st.baseRef = n.ctx.image;
    return;
  }
  st.baseRef = n.name;
  st.named =
    'dir' in n.ctx
      ? {
          op: { kind: 'localctx', name: n.name, dir: n.ctx.dir },
          label: `[context ${n.name}] load from client`,
        }
      : { op: n.ctx.source, label: `[context ${n.name}] ${n.ctx.url}` };
}
