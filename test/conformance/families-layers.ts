// Generator of randomized base-image builds (differential.ts `layers`): an image of 1-3 hand-made
// layers (whiteouts, opaque dirs, type changes, hard links, implied parents, odd modes) pushed to
// the peers' registry, then copied whole by `COPY --from`, so the layer unpacking of both builders
// is compared through what the copy sees. Needs skopeo and the registry on localhost:5000.
import { PY_ADD, type TarEntry } from './families-archive.js';
import type { ConformanceCase } from './kit.js';
import type { R } from './rng.js';

type Entry = TarEntry;

const NAMES = [
  'a',
  'b',
  'd',
  'd/f',
  'd/e',
  'd/sub/g',
  'l',
  'h',
  'd/.wh.f',
  '.wh.a',
  'd/.wh..wh..opq',
  '.wh.d',
];

function entry(r: R): Entry {
  const name = r.pick(NAMES);
  // A whiteout is an empty file, whatever else the generator would have made of the name.
  if (name.split('/').pop()?.startsWith('.wh.')) return [name, 'f', '', 0o644, 0];
  const type = r.pick(['f', 'f', 'd', 's', 'h'] as const);
  const target =
    type === 's' ? r.pick(['d', 'a', '/d/f', 'nowhere']) : type === 'h' ? r.pick(['a', 'd/f', 'b']) : '';
  const mode = r.pick([0o644, 0o755, 0o600, 0o4755, 0o1777]);
  return [name, type, target, mode, r.pick([0, 0, 1000, 7]), type === 'f' && r.next() < 0.3];
}

/**
 * Leaves out what dockerd 20.10 cannot unpack, so the cases compare: a name the layer already has
 * (its layer store refuses duplicate paths), a whiteout beside entries under its own name (its
 * overlay mknod fails), whiteouts in the first layer (its COPY then fails on the kernel's listing of
 * them; tsbuild's handling of those is tested in test/e2e/hostile-images.test.ts), and hard links
 * to names the same layer did not write as files before them (invalid for both).
 */
function validLayer(entries: Entry[], first: boolean): Entry[] {
  const seen = new Set<string>();
  const victim = (n: string) => n.replace(/(^|\/)\.wh\.(\.wh\.\.opq)?/, '$1').replace(/\/$/, '');
  const isWhiteout = (n: string) => /(^|\/)\.wh\./.test(n);
  return entries.filter((e, i) => {
    const key = victim(e[0]);
    if (seen.has(key) || seen.has(e[0]) || (first && isWhiteout(e[0]))) return false;
    if (isWhiteout(e[0]) && entries.some((o) => o !== e && !isWhiteout(o[0]) && o[0].startsWith(`${key}/`)))
      return false;
    seen.add(key);
    seen.add(e[0]);
    return e[1] !== 'h' || entries.slice(0, i).some((p) => p[1] === 'f' && p[0] === e[2]);
  });
}

function imageScript(layers: Entry[][], ref: string): string {
  return `python3 - <<'EOF'
import tarfile, io, json, hashlib, gzip, os
${PY_ADD}os.makedirs('oci/blobs/sha256', exist_ok=True)
def blob(b):
    d = hashlib.sha256(b).hexdigest()
    open('oci/blobs/sha256/' + d, 'wb').write(b)
    return 'sha256:' + d
diffs, descs = [], []
for layer in json.loads('${JSON.stringify(layers)}'):
    buf = io.BytesIO()
    t = tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT)
    for e in layer:
        add(t, *e)
    t.close()
    raw = buf.getvalue()
    gz = gzip.compress(raw, mtime=0)
    diffs.append('sha256:' + hashlib.sha256(raw).hexdigest())
    descs.append({'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': blob(gz), 'size': len(gz)})
cfg = json.dumps({'architecture': 'amd64', 'os': 'linux', 'config': {}, 'rootfs': {'type': 'layers', 'diff_ids': diffs}}).encode()
man = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
  'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': blob(cfg), 'size': len(cfg)},
  'layers': descs}).encode()
md = blob(man)
json.dump({'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'digest': md, 'size': len(man)}]}, open('oci/index.json', 'w'))
open('oci/oci-layout', 'w').write('{"imageLayoutVersion":"1.0.0"}')
EOF
skopeo copy -q --dest-tls-verify=false oci:oci docker://${ref} && rm -rf oci`;
}

const LONG = `long/${'n'.repeat(120)}`;
const NAMES_X = [...NAMES, './d/x', LONG, 'd/sub/.wh..wh..opq', 'p', 'd/sub/.wh.g'];

/** `layersx`: more entry types (FIFOs), names (PAX long names, `./`) and symlink targets that climb. */
function entryX(r: R): Entry {
  const name = r.pick(NAMES_X);
  if (name.split('/').pop()?.startsWith('.wh.')) return [name, 'f', '', 0o644, 0];
  const type = r.pick(['f', 'f', 'd', 's', 'h', 'p'] as const);
  const target =
    type === 's'
      ? r.pick(['d', 'a', '/d/f', 'nowhere', '../../a', '/', '.', 'd/sub', '/long'])
      : type === 'h'
        ? r.pick(['a', 'd/f', 'b', LONG])
        : '';
  const mode = r.pick([0o644, 0o755, 0o600, 0o4755, 0o1777, 0o2750]);
  return [name, type, target, mode, r.pick([0, 0, 1000, 7]), type === 'f' && r.next() < 0.3];
}

export function layersCase(r: R): Partial<ConformanceCase> {
  return imageCase(r, entry, 'g');
}

export function layersXCase(r: R): Partial<ConformanceCase> {
  return imageCase(r, entryX, 'x');
}

function imageCase(r: R, make: (r: R) => Entry, family: string): Partial<ConformanceCase> {
  const layers = Array.from({ length: r.int(1, 3) }, (_, i) =>
    validLayer(
      Array.from({ length: r.int(2, 6) }, () => make(r)),
      i === 0,
    ),
  );
  // One tag per content: a case run twice pushes the same image. The family is part of it: both
  // families draw from the same seeds, and a tag pushed again with other content would be taken
  // from tsbuild's store (a base already pulled is not asked for again, as with `docker build`).
  const tag = `${family}${Math.floor(r.next() * 2 ** 32).toString(16)}`;
  const ref = `localhost:5000/tsbprobe/layers:${tag}`;
  return {
    dockerfile: `FROM localhost:5000/busybox:latest AS bb\nFROM ${ref} AS img\nFROM bb\nCOPY --from=img / /x/\n`,
    files: { keep: 'k' },
    prepare: imageScript(layers, ref),
  };
}
