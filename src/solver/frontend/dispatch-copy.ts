import { DockerfileSyntaxError } from '../../errors.js';
import type { Instruction } from '../../parser/index.js';
import { type FileAction, makeVertex, type Vertex } from '../graph.js';
import { CONTEXT_VERTEX } from './convert.js';
import { cleanAbs, type DispatchContext, expand, fileVertex } from './dispatch.js';
import { isGitSource, parseGitRef } from './git-ref.js';
import { commitToHistory } from './image-config.js';
import type { StageState } from './stage-state.js';
import { findSource, requireDispatched, stageName } from './stage-states.js';

type CopyIns = Extract<Instruction, { kind: 'COPY' | 'ADD' }>;

/** BuildKit's pathRelativeToWorkingDir with keepSlash: a trailing `/` (or `/.`) survives. */
export function destPath(cwd: string, dest: string): string {
  let p = dest;
  if (p === '.' || p === '') p = './';
  const keep = p.endsWith('/') || p.endsWith('/.');
  const abs = cleanAbs(p.startsWith('/') ? p : `${cwd}/${p}`);
  return keep && abs !== '/' ? `${abs}/` : abs;
}

export function isHttpSource(src: string): boolean {
  return /^https?:\/\//.test(src) && !isGitSource(src);
}

/** `--chmod`: octal up to 07777, or a symbolic mode (`u+x,go=r`). */
export function validateChmod(v: string, ins: CopyIns): void {
  if (/^[0-7]+$/.test(v)) {
    if (Number.parseInt(v, 8) > 0o7777) throw badChmod(v, ins);
    return;
  }
  // BuildKit: a value that starts like a number is read as one, so `64a` gets the numeric message
  if (/^\d/.test(v)) throw badChmod(v, ins);
  if (!/^([ugoa]*([-+=]([rwxXst]*|[ugo]))+)(,[ugoa]*([-+=]([rwxXst]*|[ugo]))+)*$/.test(v)) {
    throw new DockerfileSyntaxError(`invalid chmod parameter: '${v}'`, ins.range);
  }
}

function badChmod(v: string, ins: CopyIns): DockerfileSyntaxError {
  return new DockerfileSyntaxError(
    `invalid chmod parameter: '${v}'. it should be octal string and between 0 and 07777`,
    ins.range,
  );
}

export function dispatchCopy(
  st: StageState,
  ctx: DispatchContext,
  ins: CopyIns,
  name: string,
  _onbuild: boolean,
): void {
  const f = copyFlags(st, ctx, ins);
  const link = linked(st, ins, f.chown);
  const inputs = new CopyInputs(st.vertex && !link ? 1 : 0);
  const from =
    ins.kind === 'COPY' && ins.from
      ? requireDispatched(
          findSource(ins.from, st, ctx.states, ctx.byName, ctx.extra, ctx.opts),
          `cannot copy from stage "${ins.from}", it needs to be defined before current stage "${stageName(st)}"`,
          ins.range,
        )
      : undefined;
  const actions: FileAction[] = [];
  for (const src of f.sources)
    actions.push(
      isHttpSource(src)
        ? urlAction(st, ins, f, src, name, inputs)
        : isGitSource(src)
          ? gitAction(st, ins, f, src, name, inputs)
          : pathAction(ins, f, src, from?.vertex, inputs),
    );
  for (const h of ins.heredocs) {
    const data = h.expand ? expand(st, ctx, h.content, { skipProcessQuotes: true }) : h.content;
    actions.push({ type: 'inline', name: h.name, data, dest: f.dest, ...owned(f) });
  }
  if (link && st.vertex) {
    // The copy on scratch (its own cache key and layer), then merged onto the stage: merge-op.ts.
    const meta = {
      stage: st.name,
      line: ins.range.start.line,
      ...(st.ignoreCache ? { ignoreCache: true } : {}),
    };
    const copy = makeVertex({ kind: 'file', actions, scratchBase: true }, inputs.vertices, { name, ...meta });
    st.vertex = makeVertex({ kind: 'merge' }, [st.vertex, copy], {
      name: `[internal] merge ${name}`,
      ...meta,
    });
  } else st.vertex = fileVertex(st, actions, inputs.vertices, name, ins.range.start.line);
  // BuildKit in dockerd 20.10 (our reference peer) writes no flags into COPY/ADD history entries.
  const words = [...f.sources, ...ins.heredocs.map((h) => `<<${h.name}`), f.destRaw];
  commitToHistory(st.image, `${ins.kind} ${words.join(' ')}`, true, true);
}

/** A COPY/ADD's words expanded and checked: sources (heredocs apart), destination, flags. */
interface CopyFlags {
  sources: string[];
  destRaw: string;
  dest: string;
  chown: string | undefined;
  chmod: string | undefined;
  checksum: string | undefined;
  /** `--exclude` patterns, expanded */
  excludes: string[];
}

function copyFlags(st: StageState, ctx: DispatchContext, ins: CopyIns): CopyFlags {
  const heredocNames = new Set(ins.heredocs.map((h) => h.name));
  const sources = ins.sources.filter((s) => !isHeredocWord(s, heredocNames)).map((s) => expand(st, ctx, s));
  const destRaw = expand(st, ctx, ins.dest);
  const chown = ins.chown !== undefined ? expand(st, ctx, ins.chown) : undefined;
  const chmod = ins.chmod !== undefined ? expand(st, ctx, ins.chmod) : undefined;
  if (chmod) validateChmod(chmod, ins);
  // Several sources and a destination without a trailing slash are not refused (that is the classic
  // builder's check): each source is copied to it in turn, as BuildKit does (dockerd 20.10: into
  // it where it is a directory, else each over the last).
  const checksum =
    ins.kind === 'ADD' && ins.checksum !== undefined ? expand(st, ctx, ins.checksum) : undefined;
  const src = sources[0] as string;
  if (checksum && (sources.length !== 1 || !(isHttpSource(src) || isGitSource(src)))) {
    throw new DockerfileSyntaxError(
      sources.length !== 1
        ? "checksum can't be specified for multiple sources"
        : 'checksum requires HTTP(S) or Git sources',
      ins.range,
    );
  }
  if (checksum && isHttpSource(src)) validateUrlChecksum(checksum, ins);
  const excludes = ins.exclude.map((e) => expand(st, ctx, e));
  return { sources, destRaw, dest: destPath(st.cwd, destRaw), chown, chmod, checksum, excludes };
}

const DIGEST_HEX: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/**
 * A URL's `--checksum` is parsed as BuildKit's frontend parses it (go-digest's Parse), so a
 * malformed one fails at its line before anything is downloaded.
 */
function validateUrlChecksum(checksum: string, ins: CopyIns): void {
  const i = checksum.indexOf(':');
  const [alg, hex] = [checksum.slice(0, i), checksum.slice(i + 1)];
  const fail = (why: string): never => {
    throw new DockerfileSyntaxError(`${why}: --checksum=${checksum}`, ins.range);
  };
  if (i <= 0 || !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*$/.test(alg) || hex === '')
    fail('invalid checksum digest format');
  const len = DIGEST_HEX[alg];
  if (len === undefined) fail('unsupported digest algorithm');
  if (hex.length !== len) fail('invalid checksum digest length');
  if (!/^[a-f0-9]+$/.test(hex)) fail('invalid checksum digest format');
}

/** The file op's inputs after the stage's own (when the copy lands on it): each vertex once. */
class CopyInputs {
  readonly vertices: Vertex[] = [];
  constructor(private readonly base: number) {}
  indexOf(v: Vertex): number {
    let i = this.vertices.findIndex((x) => x.digest === v.digest);
    if (i < 0) i = this.vertices.push(v) - 1;
    return this.base + i;
  }
}

const owned = (f: CopyFlags) => ({
  ...(f.chown ? { chown: f.chown } : {}),
  ...(f.chmod ? { chmod: f.chmod } : {}),
});

/** ADD of a URL: an http source vertex holding the one file; never unpacked unless asked. */
function urlAction(
  st: StageState,
  ins: CopyIns,
  f: CopyFlags,
  src: string,
  name: string,
  inputs: CopyInputs,
): FileAction {
  if (ins.kind !== 'ADD') throw new DockerfileSyntaxError("source can't be a URL for COPY", ins.range);
  const filename = urlFileName(src);
  const op = { kind: 'http' as const, url: src, filename, ...(f.checksum ? { checksum: f.checksum } : {}) };
  return sourceCopy({ st, ins, name, inputs }, op, `/${filename}`, f, ins.unpack === true);
}

/**
 * A source vertex (a download, a git tree) named after the ADD, and the copy out of it into the
 * destination.
 */
function sourceCopy(
  at: { st: StageState; ins: CopyIns; name: string; inputs: CopyInputs },
  op: Parameters<typeof makeVertex>[0],
  source: string,
  f: CopyFlags,
  unpack: boolean,
): FileAction {
  const v = makeVertex(op, [], { name: at.name, stage: at.st.name, line: at.ins.range.start.line });
  return {
    type: 'copy',
    input: at.inputs.indexOf(v),
    sources: [source],
    dest: f.dest,
    excludes: f.excludes,
    unpack,
    parents: false,
    fromContext: false,
    ...owned(f),
  };
}

/**
 * ADD of a git repository: a git source vertex holding the commit's tree, whose contents land in
 * the destination (BuildKit: CopyDirContentsOnly). `#ref:subdir` picks the ref and a directory.
 */
function gitAction(
  st: StageState,
  ins: CopyIns,
  f: CopyFlags,
  src: string,
  name: string,
  inputs: CopyInputs,
): FileAction {
  if (ins.kind !== 'ADD') throw new DockerfileSyntaxError("source can't be a git ref for COPY", ins.range);
  const { keepGitDir, checksum, ...ref } = parseGitRef(src);
  if (checksum && f.checksum && !checksum.startsWith(f.checksum) && !f.checksum.startsWith(checksum))
    throw new DockerfileSyntaxError(
      `--checksum ${f.checksum} and the URL's checksum ${checksum} differ`,
      ins.range,
    );
  const sum = f.checksum ?? checksum;
  const op = {
    kind: 'git' as const,
    ...ref,
    keepGitDir: ins.keepGitDir || keepGitDir === true,
    ...(sum ? { checksum: sum } : {}),
  };
  return sourceCopy({ st, ins, name, inputs }, op, '/', f, false);
}

/**
 * dockerfile2llb's name for a downloaded file: `path.Base(u.Path)` of Go's parsed URL, whose Path is
 * percent-decoded (`a%20b.txt` is `a b.txt`, `%2F` a separator), `__unnamed__` for none.
 */
export function urlFileName(src: string): string {
  let p: string;
  try {
    p = decodeURIComponent(new URL(src).pathname);
  } catch {
    return '__unnamed__';
  }
  const base = p.replace(/\/+$/, '').split('/').pop() ?? '';
  // (`..`, from an encoded `x%2F..`, would name the download's parent: never a file name here)
  return base === '' || base === '.' || base === '..' ? '__unnamed__' : base;
}

/** A path in the context, or in `--from`'s stage or image. */
function pathAction(
  ins: CopyIns,
  f: CopyFlags,
  src: string,
  fromVertex: Vertex | undefined,
  inputs: CopyInputs,
): FileAction {
  const fromContext = !(ins.kind === 'COPY' && ins.from);
  const srcVertex = fromContext ? CONTEXT_VERTEX : fromVertex;
  return {
    type: 'copy',
    input: srcVertex ? inputs.indexOf(srcVertex) : -1,
    sources: [src],
    dest: f.dest,
    excludes: f.excludes,
    unpack: ins.kind === 'ADD' ? (ins.unpack ?? true) : false,
    parents: ins.kind === 'COPY' && ins.parents,
    fromContext,
    ...owned(f),
  };
}

/**
 * `--link` makes the copy independent of the stage (BuildKit: a FileOp on scratch, then MergeOp), so
 * it needs nothing of the stage's filesystem: a `--chown` by name would have to read the stage's
 * /etc/passwd, so that copy is made onto the stage instead (the same files, without the rebasing).
 */
function linked(st: StageState, ins: CopyIns, chown: string | undefined): boolean {
  return ins.link && st.vertex !== undefined && (chown === undefined || /^\d+(:\d+)?$/.test(chown));
}

function isHeredocWord(s: string, names: Set<string>): boolean {
  const m = /^<<-?['"]?([^'"]+)['"]?$/.exec(s);
  return !!m && names.has(m[1] as string);
}
