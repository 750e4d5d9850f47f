import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { contextPath, hasWildcard } from '../context/index.js';
import type { Vertex } from './graph.js';

/**
 * The context subtrees a graph's COPY/ADD and RUN bind mounts can select (BuildKit's FollowPaths): the leading
 * wildcard-free part of each source. '' (everything) when a source starts with a wildcard or names
 * the root, or when a prefix passes through a symlink (its target may be anywhere in the context).
 */
export function contextIncludes(targets: Vertex | undefined | (Vertex | undefined)[], dir: string): string[] {
  const out = new Set<string>();
  const seen = new Set<string>();
  const visit = (v: Vertex) => {
    if (seen.has(v.digest)) return;
    seen.add(v.digest);
    if (v.op.kind === 'file') {
      for (const a of v.op.actions) {
        if (a.type !== 'copy' || !a.fromContext) continue;
        for (const src of a.sources) out.add(prefixOf(contextPath(src.replace('/./', '/'))));
      }
    }
    if (v.op.kind === 'exec') {
      for (const m of v.op.mounts) {
        const i = m.type === 'bind' && m.input !== undefined ? v.inputs[m.input] : undefined;
        if (i?.op.kind === 'context') out.add(prefixOf(contextPath(m.source ?? '/')));
      }
    }
    for (const i of v.inputs) visit(i);
  };
  for (const t of Array.isArray(targets) ? targets : [targets]) if (t) visit(t);
  if (out.has('')) return [''];
  for (const p of out) if (throughSymlink(dir, p)) return [''];
  return [...out].sort();
}

function prefixOf(p: string): string {
  const kept: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || hasWildcard(part)) break;
    kept.push(part);
  }
  return kept.join('/');
}

function throughSymlink(dir: string, p: string): boolean {
  let cur = dir;
  for (const part of p.split('/')) {
    cur = join(cur, part);
    try {
      if (lstatSync(cur).isSymbolicLink()) return true;
    } catch {
      return false;
    }
  }
  return false;
}
