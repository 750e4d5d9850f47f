import { hasEscapes } from '../../fs-names.js';
import { toByteString as bytes, readXattrs, writeXattrs } from '../../store/index.js';

// File capabilities across a COPY --from. BuildKit's copy (fsutil) gives the new file the source's
// xattrs after its owner and mode, and its differ writes `security.capability` into the layer (no
// other xattr); a copy made here with a new inode would have lost them. A hard-linked file keeps
// them with its inode. Only that one attribute: it is all a layer carries.

const CAP = 'security.capability';
const MATCH = '^security\\.capability$';
/** getfattr arguments per call: well under ARG_MAX for any path length Linux allows. */
const CHUNK = 500;

/** Copies the capabilities of every file under `src` to the same path under `dest` (cp(1)'s copy). */
export async function copyTreeCapabilities(src: string, dest: string): Promise<void> {
  const prefix = bytes(`${dest.slice(1)}/`);
  await writeCaps(await readXattrs(src, { match: MATCH }), (rel) => (rel === '' ? undefined : prefix + rel));
}

/**
 * Copies the capabilities of each copied file (absolute `[source, destination]` pairs). Many files
 * under one source directory `under`: one recursive getfattr of it instead of one call per 500.
 */
export async function copyFileCapabilities(
  pairs: [src: string, dest: string][],
  under?: string,
): Promise<void> {
  if (pairs.length === 0) return;
  if (under !== undefined && pairs.length > CHUNK) {
    const destOf = new Map(pairs.map(([s, d]) => [bytes(s), bytes(d.slice(1))]));
    const found = await readXattrs(under, { match: MATCH });
    await writeCaps(found, (rel) => destOf.get(bytes(`${under}/`) + rel));
    return;
  }
  for (let i = 0; i < pairs.length; i += CHUNK) {
    // A name that is not UTF-8 cannot be getfattr's argument: such a file's capability is not copied.
    const chunk = pairs.slice(i, i + CHUNK).filter(([s]) => !hasEscapes(s));
    if (chunk.length === 0) continue;
    const destOf = new Map(chunk.map(([s, d]) => [bytes(s.slice(1)), bytes(d.slice(1))]));
    const found = await readXattrs('/', { match: MATCH, paths: chunk.map(([s]) => s.slice(1)) });
    await writeCaps(found, (rel) => destOf.get(rel));
  }
}

/** Sets each found capability on the destination `destOf` gives (a path under `/`), if any. */
async function writeCaps(
  found: Awaited<ReturnType<typeof readXattrs>>,
  destOf: (rel: string) => string | undefined,
): Promise<void> {
  const entries = [...found].flatMap(([rel, list]) => {
    const dest = destOf(rel);
    return dest === undefined
      ? []
      : list.filter(([n]) => n === CAP).map(([name, value]) => ({ rel: dest, name, value }));
  });
  await writeXattrs('/', entries);
}
