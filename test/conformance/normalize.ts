import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Header } from 'tar';
import { parsePax } from '../../src/solver/ops/tar-blocks.js';

/** One path of a flattened image, as compared between builders (never mtime). */
export interface FileEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: string;
  owner: string;
  size?: number;
  sha256?: string;
  link?: string;
  /** A hard link (tar `Link` entry): the path it links to, so a copy that lost the link differs. */
  hardlink?: string;
  /** `SCHILY.xattr.*` records (BuildKit writes security.capability only), `name=hex` sorted. */
  xattrs?: string;
}

export interface NormalizedImage {
  architecture: string;
  os: string;
  author?: string;
  config: Record<string, unknown>;
  history: { created_by: string; empty_layer: boolean; comment?: string }[];
  layers: number;
  files: FileEntry[];
  /** With `everything`: config keys beyond CONFIG_FIELDS and top-level keys beyond the above. */
  extra?: Record<string, unknown>;
}

/** Config fields a Dockerfile controls (Docker adds nothing else for BuildKit images). */
const CONFIG_FIELDS = [
  'User',
  'ExposedPorts',
  'Env',
  'Entrypoint',
  'Cmd',
  'Volumes',
  'WorkingDir',
  'Labels',
  'StopSignal',
  'ArgsEscaped',
  'Healthcheck',
  'OnBuild',
  'Shell',
];

/** What a golden leaves out (the differential compares it live): other config and top-level keys. */
function extraKeys(
  cfg: Record<string, unknown> & { config?: Record<string, unknown> },
): Record<string, unknown> {
  const seen = ['architecture', 'os', 'author', 'config', 'history', 'rootfs', 'created'];
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(cfg.config ?? {}))
    if (!CONFIG_FIELDS.includes(k) && v !== null) out[`config.${k}`] = v;
  for (const [k, v] of Object.entries(cfg)) if (!seen.includes(k)) out[k] = v;
  return out;
}

/** The busybox install every case starts from: its binary and applet links differ across Debian versions. */
function isBaseNoise(e: FileEntry): boolean {
  if (e.path === 'bin/busybox') return true;
  return (
    e.path.startsWith('bin/') && e.type === 'symlink' && (e.link === 'busybox' || e.link === '/bin/busybox')
  );
}

/** Normalizes a docker-archive tar (`docker save`, `--output type=docker`). */
export function normalizeDockerArchive(tarPath: string, everything = false): NormalizedImage {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-conf-norm-'));
  try {
    execFileSync('tar', ['-xf', tarPath, '-C', dir]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))[0] as {
      Config: string;
      Layers: string[];
    };
    const cfg = JSON.parse(readFileSync(join(dir, manifest.Config), 'utf8'));
    const files = new Map<string, FileEntry>();
    for (const l of manifest.Layers) applyLayerTar(readFileSync(join(dir, l)), files);
    const config: Record<string, unknown> = {};
    for (const k of CONFIG_FIELDS) {
      const v = cfg.config?.[k];
      if (v !== undefined && v !== null) config[k] = v;
    }
    return {
      architecture: cfg.architecture,
      os: cfg.os,
      ...(cfg.author ? { author: cfg.author } : {}),
      config,
      history: (cfg.history ?? []).map(
        (h: { created_by?: string; empty_layer?: boolean; comment?: string }) => ({
          created_by: h.created_by ?? '',
          empty_layer: !!h.empty_layer,
          ...(h.comment ? { comment: h.comment } : {}),
        }),
      ),
      ...(everything ? { extra: extraKeys(cfg) } : {}),
      layers: manifest.Layers.length,
      files: [...files.values()]
        .filter((e) => !isBaseNoise(e))
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One raw entry of a layer tar, long names and PAX records applied. */
interface RawEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  data: Buffer;
  link: string;
  xattrs: string;
}

/** Walks a (gzipped or plain) layer tar's entries in order. */
function* tarEntries(raw: Buffer): Generator<RawEntry> {
  const buf = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  let off = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  while (off + 512 <= buf.length) {
    const h = new Header(buf.subarray(off, off + 512));
    off += 512;
    if (h.nullBlock) continue;
    const size = Number(pax.size ?? h.size ?? 0);
    const data = buf.subarray(off, off + size);
    off += Math.ceil(size / 512) * 512;
    if (h.type === 'ExtendedHeader') {
      pax = parsePax(data, 'layer');
      continue;
    }
    if (h.type === 'GlobalExtendedHeader') continue;
    if (h.type === 'NextFileHasLongPath') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    if (h.type === 'NextFileHasLongLinkpath') {
      longLink = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const path = (pax.path ?? longName ?? h.path ?? '').replace(/^\.?\/+/, '').replace(/\/+$/, '');
    const link = pax.linkpath ?? longLink ?? h.linkpath ?? '';
    const e = {
      path,
      type: h.type ?? '',
      mode: (h.mode ?? 0) & 0o7777,
      uid: Number(pax.uid ?? h.uid ?? 0),
      gid: Number(pax.gid ?? h.gid ?? 0),
      size,
      data,
      link,
      xattrs: Object.entries(pax)
        .filter(([k]) => k.startsWith('SCHILY.xattr.'))
        .map(([k, v]) => `${k.slice(13)}=${Buffer.from(v, 'latin1').toString('hex')}`)
        .sort()
        .join(','),
    };
    pax = {};
    longName = undefined;
    longLink = undefined;
    if (path !== '' && path !== '.') yield e;
  }
}

/**
 * Each layer of a docker archive as sorted lines (path, type, mode, owner, size, content hash, link;
 * whiteouts as they are), for comparing layer contents, not only the flattened rootfs.
 */
export function listDockerArchiveLayers(tarPath: string): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-conf-layers-'));
  try {
    execFileSync('tar', ['-xf', tarPath, '-C', dir]);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))[0] as { Layers: string[] };
    return manifest.Layers.map((l) =>
      [...tarEntries(readFileSync(join(dir, l)))]
        .map((e) => {
          // Whiteouts differ only in metadata nothing reads: dockerd writes overlay's 0600 char
          // devices (hard-linked to each other), containerd and tsbuild mode 0 files.
          if (e.path.split('/').pop()!.startsWith('.wh.')) return `${e.path} whiteout`;
          const sum = e.type === 'File' ? createHash('sha256').update(e.data).digest('hex').slice(0, 12) : '';
          const x = e.xattrs ? ` ${e.xattrs}` : '';
          return `${e.path} ${e.type} ${e.mode.toString(8)} ${e.uid}:${e.gid} ${e.size} ${sum} ${e.link}${x}`;
        })
        .sort(),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Applies one layer tar onto the path map: whiteouts delete, opaque markers clear lower children. */
function applyLayerTar(raw: Buffer, files: Map<string, FileEntry>): void {
  const added = new Set<string>();
  for (const { path, type, mode: m, uid, gid, size, data, link, xattrs } of tarEntries(raw)) {
    const base = path.split('/').pop() as string;
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (base === '.wh..wh..opq') {
      const prefix = parent ? `${parent}/` : '';
      for (const k of [...files.keys()]) if (k.startsWith(prefix) && !added.has(k)) files.delete(k);
      continue;
    }
    if (base.startsWith('.wh.')) {
      const victim = (parent ? `${parent}/` : '') + base.slice(4);
      for (const k of [...files.keys()]) if (k === victim || k.startsWith(`${victim}/`)) files.delete(k);
      continue;
    }
    const mode = m.toString(8).padStart(4, '0');
    const owner = `${uid}:${gid}`;
    let e: FileEntry;
    if (type === 'Directory') e = { path, type: 'dir', mode, owner };
    else if (type === 'SymbolicLink') e = { path, type: 'symlink', mode: '0777', owner, link };
    else if (type === 'Link') {
      const target = link.replace(/^\.?\/+/, '');
      const t = files.get(target);
      e = { ...(t ?? { type: 'file' as const, size: 0 }), path, mode, owner, hardlink: target };
    } else if (type === 'File' || type === 'OldFile' || type === 'ContiguousFile') {
      e = { path, type: 'file', mode, owner, size, sha256: createHash('sha256').update(data).digest('hex') };
    } else e = { path, type: 'other', mode, owner, link: type };
    if (xattrs) e.xattrs = xattrs;
    else delete e.xattrs;
    if (e.type !== 'dir') for (const k of [...files.keys()]) if (k.startsWith(`${path}/`)) files.delete(k);
    files.set(path, e);
    added.add(path);
  }
}
