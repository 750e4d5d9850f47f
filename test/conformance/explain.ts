import type { NormalizedImage } from './normalize.js';

/**
 * Differences from BuildKit that are understood and explained in the README ("Conformance"); the
 * comparison drops exactly these and nothing else.
 */
export function explain(img: NormalizedImage): NormalizedImage {
  // 1. Runtime mount stubs: BuildKit 0.8 (dockerd 20.10) leaves the empty /dev, /proc, /sys, /etc
  //    (and empty /etc/hosts, /etc/resolv.conf) that runc created for a RUN in the layer; BuildKit
  //    >= 0.11 removes them, and so does tsbuild.
  const paths = new Set(img.files.map((f) => f.path));
  const hasChildren = (p: string) => img.files.some((f) => f.path.startsWith(`${p}/`) && !isStub(f));
  const isStub = (f: NormalizedImage['files'][number]): boolean =>
    (['dev', 'proc', 'sys', 'etc'].includes(f.path) && f.type === 'dir' && !hasChildren(f.path)) ||
    (['etc/hosts', 'etc/resolv.conf', 'etc/hostname'].includes(f.path) && f.type === 'file' && f.size === 0);
  void paths;
  return { ...img, files: img.files.filter((f) => !isStub(f)) };
}
