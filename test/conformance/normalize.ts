import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Header } from 'tar';
import { parsePax } from '../../src/solver/ops/unpack.js';

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
}

export interface NormalizedImage {
  architecture: string;
  os: string;
  author?: string;
  config: Record<string, unknown>;
  history: { created_by: string; empty_layer: boolean; comment?: string }[];
  layers: number;
  files: FileEntry[];
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

/** The busybox install every case starts from: its binary and applet links differ across Debian versions. */
function isBaseNoise(e: FileEntry): boolean {
  if (e.path === 'bin/busybox') return true;
  return (
    e.path.startsWith('bin/') && e.type === 'symlink' && (e.link === 'busybox' || e.link === '/bin/busybox')
  );
}

/** Normalizes a docker-archive tar (`docker save`, `--output type=docker`). */
export function normalizeDockerArchive(tarPath: string): NormalizedImage {
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
      layers: manifest.Layers.length,
      files: [...files.values()]
        .filter((e) => !isBaseNoise(e))
        .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Applies one layer tar onto the path map: whiteouts delete, opaque markers clear lower children. */
function applyLayerTar(raw: Buffer, files: Map<string, FileEntry>): void {
  const buf = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  let off = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  const added = new Set<string>();
  while (off + 512 <= buf.length) {
    const h = new Header(buf.subarray(off, off + 512));
    off += 512;
    if (h.nullBlock) continue;
    const size = Number(pax.size ?? h.size ?? 0);
    const data = buf.subarray(off, off + size);
    off += Math.ceil(size / 512) * 512;
    if (h.type === 'ExtendedHeader') {
      pax = parsePax(data);
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
    const uid = Number(pax.uid ?? h.uid ?? 0);
    const gid = Number(pax.gid ?? h.gid ?? 0);
    pax = {};
    longName = undefined;
    longLink = undefined;
    if (path === '' || path === '.') continue;
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
    const mode = ((h.mode ?? 0) & 0o7777).toString(8).padStart(4, '0');
    const owner = `${uid}:${gid}`;
    let e: FileEntry;
    if (h.type === 'Directory') e = { path, type: 'dir', mode, owner };
    else if (h.type === 'SymbolicLink') e = { path, type: 'symlink', mode: '0777', owner, link };
    else if (h.type === 'Link') {
      const target = link.replace(/^\.?\/+/, '');
      const t = files.get(target);
      e = { ...(t ?? { type: 'file' as const, size: 0 }), path, mode, owner, hardlink: target };
    } else if (h.type === 'File' || h.type === 'OldFile' || h.type === 'ContiguousFile') {
      e = { path, type: 'file', mode, owner, size, sha256: createHash('sha256').update(data).digest('hex') };
    } else e = { path, type: 'other', mode, owner, link: h.type ?? '' };
    if (e.type !== 'dir') for (const k of [...files.keys()]) if (k.startsWith(`${path}/`)) files.delete(k);
    files.set(path, e);
    added.add(path);
  }
}
