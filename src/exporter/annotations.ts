import { TsbuildError } from '../errors.js';

/** `--annotation`s by where they go. */
export interface Annotations {
  manifest: Record<string, string>;
  index: Record<string, string>;
}

const TYPES = new Set(['manifest', 'index', 'manifest-descriptor', 'index-descriptor']);

/**
 * buildx's `--annotation [TYPE[,TYPE…]:]KEY=VALUE`: no type means the image manifest; `index` is the
 * multi-platform index's. Descriptor annotations and `[platform]` selectors are not supported.
 */
export function parseAnnotations(list: string[]): Annotations {
  const out: Annotations = { manifest: {}, index: {} };
  for (const a of list) {
    const bad = (why: string) =>
      new TsbuildError('INVALID_ANNOTATION', `invalid --annotation "${a}": ${why}`, {
        hint: 'use KEY=VALUE, manifest:KEY=VALUE or index:KEY=VALUE',
      });
    const eq = a.indexOf('=');
    if (eq <= 0) throw bad('expected KEY=VALUE');
    let key = a.slice(0, eq);
    let types = ['manifest'];
    const colon = key.indexOf(':');
    if (colon >= 0) {
      const head = key.slice(0, colon);
      if (/\[/.test(head)) throw bad('platform selectors are not supported');
      const named = head.split(',');
      if (named.every((t) => TYPES.has(t))) {
        types = named;
        key = key.slice(colon + 1);
      }
    }
    if (key === '') throw bad('the key is empty');
    for (const t of types) {
      if (t === 'manifest') out.manifest[key] = a.slice(eq + 1);
      else if (t === 'index') out.index[key] = a.slice(eq + 1);
      else throw bad(`${t} annotations are not supported`);
    }
  }
  return out;
}
