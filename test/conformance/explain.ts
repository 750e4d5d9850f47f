import type { FileEntry, NormalizedImage } from './normalize.js';

/**
 * Differences from BuildKit that are understood and explained in the README ("Conformance"); the
 * comparison drops exactly these, from both images alike, and nothing else.
 */
export function explain(img: NormalizedImage, dockerfile = ''): NormalizedImage {
  // 1. Runtime mount stubs: BuildKit 0.8 (dockerd 20.10) leaves the empty /dev, /proc, /sys, /etc
  //    (and empty /etc/hosts, /etc/resolv.conf) that runc created for a RUN in the layer; BuildKit
  //    >= 0.11 removes them, and so does tsbuild.
  const hasChildren = (p: string) => img.files.some((f) => f.path.startsWith(`${p}/`) && !isStub(f));
  const isStub = (f: FileEntry): boolean =>
    (['dev', 'proc', 'sys', 'etc'].includes(f.path) && f.type === 'dir' && !hasChildren(f.path)) ||
    (['etc/hosts', 'etc/resolv.conf', 'etc/hostname'].includes(f.path) && f.type === 'file' && f.size === 0);
  return dropMountTargetStubs({ ...img, files: img.files.filter((f) => !isStub(f)) }, dockerfile);
}

/**
 * 2. `RUN --mount` targets: BuildKit 0.8 leaves the empty directory it made for each mount point (and
 *    the parents it made for it) in the layer; BuildKit >= 0.11 removes them (moby/buildkit#3307,
 *    #3314), as tsbuild does. Dropped only while empty, deepest first.
 */
function dropMountTargetStubs(img: NormalizedImage, dockerfile: string): NormalizedImage {
  const candidates = new Set<string>();
  for (const m of dockerfile.matchAll(/--mount=(\S+)/g)) {
    for (const kv of m[1]!.split(',')) {
      const [k, v] = kv.split('=', 2);
      if (!v || !['target', 'dst', 'destination'].includes(k!)) continue;
      const parts = v.split('/').filter(Boolean);
      for (let i = 1; i <= parts.length; i++) candidates.add(parts.slice(0, i).join('/'));
    }
  }
  let files = img.files;
  for (const p of [...candidates].sort((a, b) => b.split('/').length - a.split('/').length)) {
    const e = files.find((f) => f.path === p);
    if (!e) continue;
    const empty =
      e.type === 'dir' ? !files.some((f) => f.path.startsWith(`${p}/`)) : e.type === 'file' && e.size === 0;
    if (empty && e.owner === '0:0') files = files.filter((f) => f !== e);
  }
  return { ...img, files };
}
