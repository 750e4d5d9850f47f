import { DockerfileSyntaxError } from '../../errors.js';
import type { Instruction } from '../../parser/index.js';
import { type FileAction, makeVertex, type Vertex } from '../graph.js';
import { CONTEXT_VERTEX, findSource } from './convert.js';
import { cleanAbs, type DispatchContext, expand, fileVertex } from './dispatch.js';
import { commitToHistory } from './image-config.js';
import type { StageState } from './stage-state.js';

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
  return /^https?:\/\//.test(src) && !/\.git(#|$)/.test(src);
}

/** `--chmod`: octal up to 07777, or a symbolic mode (`u+x,go=r`). */
export function validateChmod(v: string, ins: CopyIns): void {
  if (/^[0-7]+$/.test(v)) {
    if (Number.parseInt(v, 8) > 0o7777) throw badChmod(v, ins);
    return;
  }
  if (/^\d+$/.test(v)) throw badChmod(v, ins);
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
  const isAdd = ins.kind === 'ADD';
  const heredocNames = new Set(ins.heredocs.map((h) => h.name));
  const rawSources = ins.sources.filter((s) => !isHeredocWord(s, heredocNames));
  const sources = rawSources.map((s) => expand(st, ctx, s));
  const destRaw = expand(st, ctx, ins.dest);
  const dest = destPath(st.cwd, destRaw);
  const chown = ins.chown !== undefined ? expand(st, ctx, ins.chown) : undefined;
  const chmod = ins.chmod !== undefined ? expand(st, ctx, ins.chmod) : undefined;
  if (chmod) validateChmod(chmod, ins);
  const total = sources.length + ins.heredocs.length;
  if (total > 1 && !destRaw.endsWith('/')) {
    throw new DockerfileSyntaxError(
      `When using ${ins.kind} with more than one source file, the destination must be a directory and end with a /`,
      ins.range,
    );
  }
  let checksum: string | undefined;
  if (isAdd) {
    checksum = ins.checksum !== undefined ? expand(st, ctx, ins.checksum) : undefined;
    if (checksum && (sources.length !== 1 || !isHttpSource(sources[0] as string))) {
      throw new DockerfileSyntaxError(
        sources.length !== 1
          ? "checksum can't be specified for multiple sources"
          : 'checksum requires HTTP(S) or Git sources',
        ins.range,
      );
    }
  }

  let msg = isAdd ? 'ADD' : 'COPY';
  // BuildKit in dockerd 20.10 (our reference peer) writes no flags into COPY/ADD history entries.

  const actions: FileAction[] = [];
  const srcVertices: Vertex[] = [];
  const link = linked(st, ins, chown);
  const base = st.vertex && !link ? 1 : 0;
  const inputIndex = (v: Vertex) => {
    let i = srcVertices.findIndex((x) => x.digest === v.digest);
    if (i < 0) {
      srcVertices.push(v);
      i = srcVertices.length - 1;
    }
    return base + i;
  };
  const from =
    !isAdd && ins.from ? findSource(ins.from, st, ctx.states, ctx.byName, ctx.extra, ctx.opts) : undefined;
  for (const src of sources) {
    msg += ` ${src}`;
    if (isHttpSource(src)) {
      if (!isAdd) throw new DockerfileSyntaxError("source can't be a URL for COPY", ins.range);
      const u = new URL(src);
      const baseName = u.pathname.split('/').filter(Boolean).pop();
      const filename = baseName ?? '__unnamed__';
      const hv = makeVertex({ kind: 'http', url: src, filename, ...(checksum ? { checksum } : {}) }, [], {
        name: `${name}`,
        stage: st.name,
        line: ins.range.start.line,
      });
      actions.push({
        type: 'copy',
        input: inputIndex(hv),
        sources: [`/${filename}`],
        dest,
        excludes: ins.exclude,
        unpack: ins.kind === 'ADD' && ins.unpack === true,
        parents: false,
        fromContext: false,
        ...(chown ? { chown } : {}),
        ...(chmod ? { chmod } : {}),
      });
      continue;
    }
    if (/^(git@|git:\/\/|https?:\/\/.*\.git(#|$))/.test(src)) {
      throw new DockerfileSyntaxError(
        `${ins.kind} of a git repository (${src}) is not supported by tsbuild`,
        ins.range,
      );
    }
    const srcVertex = from ? from.vertex : CONTEXT_VERTEX;
    const unpack = isAdd ? (ins.kind === 'ADD' && ins.unpack !== undefined ? ins.unpack : true) : false;
    actions.push({
      type: 'copy',
      input: srcVertex ? inputIndex(srcVertex) : -1,
      sources: [src],
      dest,
      excludes: ins.exclude.map((e) => expand(st, ctx, e)),
      unpack,
      parents: !isAdd && ins.parents,
      fromContext: !from,
      ...(chown ? { chown } : {}),
      ...(chmod ? { chmod } : {}),
    });
  }
  for (const h of ins.heredocs) {
    msg += ` <<${h.name}`;
    const data = h.expand ? expand(st, ctx, h.content, { skipProcessQuotes: true }) : h.content;
    actions.push({
      type: 'inline',
      name: h.name,
      data,
      dest,
      ...(chown ? { chown } : {}),
      ...(chmod ? { chmod } : {}),
    });
  }
  msg += ` ${destRaw}`;
  if (link && st.vertex) {
    // The copy on scratch (its own cache key and layer), then merged onto the stage: merge-op.ts.
    const meta = {
      stage: st.name,
      line: ins.range.start.line,
      ...(st.ignoreCache ? { ignoreCache: true } : {}),
    };
    const copy = makeVertex({ kind: 'file', actions, scratchBase: true }, srcVertices, { name, ...meta });
    st.vertex = makeVertex({ kind: 'merge' }, [st.vertex, copy], {
      name: `[internal] merge ${name}`,
      ...meta,
    });
  } else st.vertex = fileVertex(st, actions, srcVertices, name, ins.range.start.line);
  commitToHistory(st.image, msg, true, true);
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
