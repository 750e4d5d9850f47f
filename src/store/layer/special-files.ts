import { spawn } from 'node:child_process';
import { nameBytes } from '../../fs-names.js';
import { nativeCalls } from '../../native.js';
import { StoreError } from '../errors.js';

/**
 * What Node cannot do itself: mknod (whiteouts are char 0/0 device nodes) and extended attributes.
 * Through the native addon where `npm ci` built it (system calls, the tree walked off the main
 * thread); else one child process per layer (batched), never one per file.
 */
export interface NodeSpec {
  path: string;
  type: 'c' | 'b' | 'p';
  major: number;
  minor: number;
}

// bash: `read -d ''` splits stdin on NUL, so any byte in a path is safe.
const MKNOD_SCRIPT = `while IFS= read -r -d '' p && IFS= read -r -d '' t && IFS= read -r -d '' ma && IFS= read -r -d '' mi; do
  if [ "$t" = p ]; then mkfifo -- "$p" || exit 1; else mknod -- "$p" "$t" "$ma" "$mi" || exit 1; fi
done`;

export async function makeNodes(nodes: NodeSpec[]): Promise<void> {
  if (nodes.length === 0) return;
  const native = nativeCalls();
  if (native) {
    // Throws `mknod <path>: <reason>`, as mknod(1) in the child-process path says it.
    for (const n of nodes) native.mknod(Buffer.from(n.path, 'latin1'), n.type, n.major, n.minor);
    return;
  }
  // Paths are byte strings (latin1), as the extractor names entries.
  const input = Buffer.concat(
    nodes.map((n) => Buffer.from(`${n.path}\0${n.type}\0${n.major}\0${n.minor}\0`, 'latin1')),
  );
  await runWithInput('bash', ['-c', MKNOD_SCRIPT], input);
}

export function makeWhiteouts(paths: string[]): Promise<void> {
  return makeNodes(paths.map((path) => ({ path, type: 'c', major: 0, minor: 0 })));
}

export type XattrMap = Map<string, [name: string, value: Buffer][]>;

/**
 * All extended attributes under `dir` (every namespace, symlinks not followed), keyed by path
 * relative to `dir` ('' for dir itself) as a latin1 byte string, as the tar writer names entries.
 * One `getfattr -R` for the whole tree; with `paths` (relative to `dir`), those entries only.
 * `match`: a getfattr name pattern (regex), default all.
 */
export async function readXattrs(
  dir: string,
  opts: { match?: string; paths?: string[] } = {},
): Promise<XattrMap> {
  const native = nativeCalls();
  if (native)
    return parseRecords(await native.readXattrs(nameBytes(dir), opts.paths?.map(nameBytes)), opts.match);
  const which = opts.paths ? ['--', ...opts.paths.map((p) => `./${p}`)] : ['-R', '.'];
  const out = await runWithInput(
    'getfattr',
    ['-P', '-h', '-d', '-m', opts.match ?? '-', '-e', 'hex', ...which],
    undefined,
    dir,
    true,
  );
  const map: XattrMap = new Map();
  let cur: [string, Buffer][] | undefined;
  for (const line of out.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      const raw = unescapeName(line.slice(8));
      const rel = raw === '.' ? '' : raw.replace(/^\.\//, '');
      cur = [];
      map.set(rel, cur);
    } else if (cur && line.includes('=')) {
      const eq = line.indexOf('=');
      const name = line.slice(0, eq);
      const v = line.slice(eq + 1);
      cur.push([name, v.startsWith('0x') ? Buffer.from(v.slice(2), 'hex') : Buffer.alloc(0)]);
    }
  }
  for (const [k, v] of map) if (v.length === 0) map.delete(k);
  return map;
}

/** The addon's records as readXattrs' map; `match` is getfattr's -m (a regex; '-' for all). */
function parseRecords(records: Buffer, match = '-'): XattrMap {
  const wanted = match === '-' ? undefined : new RegExp(match);
  const map: XattrMap = new Map();
  let at = 0;
  const field = () => {
    const len = records.readUInt32LE(at);
    at += 4 + len;
    return records.subarray(at - len, at);
  };
  while (at < records.length) {
    const rel = field().toString('latin1');
    const name = field().toString('utf8');
    const value = Buffer.from(field());
    if (wanted && !wanted.test(name)) continue;
    const list = map.get(rel) ?? [];
    list.push([name, value]);
    map.set(rel, list);
  }
  return map;
}

/**
 * Sets xattrs (paths relative to `dir` as byte strings, never following symlinks): every one it
 * can (as `setfattr --restore` goes on past a failure), then the first failure.
 */
export async function writeXattrs(
  dir: string,
  entries: { rel: string; name: string; value: Buffer }[],
): Promise<void> {
  if (entries.length === 0) return;
  const native = nativeCalls();
  if (native) return setEach(native, nameBytes(dir), entries);
  const byPath = new Map<string, { name: string; value: Buffer }[]>();
  for (const e of entries) {
    const list = byPath.get(e.rel) ?? [];
    list.push(e);
    byPath.set(e.rel, list);
  }
  const parts: Buffer[] = [];
  for (const [rel, list] of byPath) {
    parts.push(Buffer.from(`# file: ${escapeName(rel === '' ? '.' : `./${rel}`, 'latin1')}\n`, 'latin1'));
    for (const { name, value } of list)
      parts.push(Buffer.from(`${escapeName(name)}=0x${value.toString('hex')}\n`, 'latin1'));
    parts.push(Buffer.from('\n'));
  }
  await runWithInput('setfattr', ['-h', '--restore=-'], Buffer.concat(parts), dir);
}

function setEach(
  native: NonNullable<ReturnType<typeof nativeCalls>>,
  dir: Buffer,
  entries: { rel: string; name: string; value: Buffer }[],
): void {
  let first: Error | undefined;
  for (const { rel, name, value } of entries) {
    const path = rel === '' ? dir : Buffer.concat([dir, Buffer.from(`/${rel}`, 'latin1')]);
    try {
      native.setXattr(path, name, value);
    } catch (e) {
      first ??= new Error(`setfattr failed: ${(e as Error).message}`);
    }
  }
  if (first) throw first;
}

/** getfattr's escaping: bytes outside printable ASCII, and backslash, as \ooo. Works on UTF-8 bytes. */
function escapeName(s: string, encoding: BufferEncoding = 'utf8'): string {
  let out = '';
  for (const b of Buffer.from(s, encoding)) {
    out +=
      b < 0x21 || b > 0x7e || b === 0x5c || b === 0x3d
        ? `\\${b.toString(8).padStart(3, '0')}`
        : String.fromCharCode(b);
  }
  return out;
}

function unescapeName(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && /^[0-7]{3}$/.test(s.slice(i + 1, i + 4))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else bytes.push(s.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes).toString('latin1');
}

/** Runs `cmd` with `input` on its stdin; its stdout. Paths go through stdin, NUL-separated, as bytes. */
export function runWithInput(
  cmd: string,
  args: string[],
  input?: Buffer,
  cwd?: string,
  tolerant = false,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') return reject(e);
      const pkg = cmd === 'bash' ? 'bash' : cmd === 'xargs' ? 'findutils' : 'attr';
      reject(
        new StoreError(
          'MISSING_TOOL',
          `\`${cmd}\` is not installed (needed for layer xattrs and device nodes)`,
          {
            hint: `apt-get install -y ${pkg}`,
            cause: e,
          },
        ),
      );
    });
    child.on('close', (code) => {
      // getfattr exits 1 when some file has no xattrs support: its stdout is still complete.
      if (code === 0 || (tolerant && out.length >= 0 && !err.includes('No such file or directory'))) {
        resolve(Buffer.concat(out));
      } else reject(new Error(`${cmd} failed (exit ${code}): ${err.trim().slice(0, 500)}`));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
