import { readXattrs, writeXattrs } from '../../store/index.js';

// File capabilities across a COPY --from. BuildKit's copy (fsutil) gives the new file the source's
// xattrs after its owner and mode, and its differ writes `security.capability` into the layer (no
// other xattr); a copy made here with a new inode would have lost them. A hard-linked file keeps
// them with its inode. Only that one attribute: it is all a layer carries.

const CAP = 'security.capability';
const MATCH = '^security\\.capability$';
/** getfattr arguments per call: well under ARG_MAX for any path length Linux allows. */
const CHUNK = 500;

/** The layer code names paths as latin1 byte strings. */
const bytes = (p: string): string => Buffer.from(p).toString('latin1');

/** Copies the capabilities of every file under `src` to the same path under `dest` (cp(1)'s copy). */
export async function copyTreeCapabilities(src: string, dest: string): Promise<void> {
  const found = await readXattrs(src, { match: MATCH });
  await writeXattrs(
    dest,
    [...found].flatMap(([rel, list]) =>
      list.filter(([n]) => n === CAP).map(([name, value]) => ({ rel, name, value })),
    ),
  );
}

/** Copies the capabilities of each copied file (absolute `[source, destination]` pairs). */
export async function copyFileCapabilities(pairs: [src: string, dest: string][]): Promise<void> {
  for (let i = 0; i < pairs.length; i += CHUNK) {
    const chunk = pairs.slice(i, i + CHUNK);
    const destOf = new Map(chunk.map(([s, d]) => [bytes(s.slice(1)), bytes(d.slice(1))]));
    const found = await readXattrs('/', { match: MATCH, paths: chunk.map(([s]) => s.slice(1)) });
    const entries = [...found].flatMap(([rel, list]) => {
      const dest = destOf.get(rel);
      return dest === undefined
        ? []
        : list.filter(([n]) => n === CAP).map(([name, value]) => ({ rel: dest, name, value }));
    });
    await writeXattrs('/', entries);
  }
}
