import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Header } from 'tar/header';
import { describe, expect, it } from 'vitest';
import {
  applyLayer,
  createLayer,
  extractLayer,
  openStore,
  type Store,
  withMount,
} from '../../src/store/index.js';
import { layerTarStream } from '../../src/store/layer/tar-writer.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { sh, tempDir, treeListing, xattrListing } from './helpers.js';

requireRoot();
requireBinary('getfattr', 'attr');

/** Runs `script` (bash) inside the mounted snapshot `key`, like a RUN step. */
async function runIn(store: Store, key: string, script: string): Promise<void> {
  const target = join(await store.tempDir('mnt'), 'm');
  mkdirSync(target);
  await withMount(await store.snapshots.mounts(key), target, async (d) => void sh(script, d));
}

async function step(store: Store, name: string, parent: string | undefined, script: string): Promise<string> {
  await store.snapshots.prepare(`${name}-active`, parent);
  await runIn(store, `${name}-active`, script);
  await store.snapshots.commit(name, `${name}-active`);
  return name;
}

async function mergedListing(
  store: Store,
  top: string,
): Promise<{ tree: string; xattrs: string; content: string }> {
  await store.snapshots.view(`${top}-view-${Date.now()}`, top);
  const views: string[] = [];
  await store.snapshots.walk((i) => void (i.kind === 'view' && i.parent === top && views.push(i.name)));
  const target = join(await store.tempDir('mnt'), 'm');
  mkdirSync(target);
  return withMount(await store.snapshots.mounts(views[0]!), target, async (d) => ({
    tree: treeListing(d),
    xattrs: xattrListing(d),
    content: sh(`find . -type f -exec sha256sum {} + | LC_ALL=C sort`, d),
  }));
}

function tarList(path: string): string {
  return sh(
    `tar --numeric-owner -tvf "${path}" | awk '{print $1, $2, $NF == "" ? "" : $0}' | sed 's/  */ /g'`,
  );
}

describe('layers: diff → tar → snapshot round trip', () => {
  it('whiteouts, opaque dirs, type changes, recreate, hardlinks, xattrs, modes survive', async () => {
    const src = await openStore(tempDir(), { snapshotter: 'overlay' });
    const l1 = await step(
      src,
      'l1',
      undefined,
      `mkdir -p a d/sub t2 && echo one > a/file && echo x > d/x && echo y > d/sub/y && echo t > t && echo keep > keep
       echo hl > hl1 && ln hl1 hl2 && ln -s ../keep a/link && mkfifo fifo && chmod 4755 keep && chmod 1777 t2
       chown 1000:50 a/file && setfattr -n user.note -v hello keep && setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= hl1
       mknod dev c 1 3 && python3 -c 'import socket,os; s=socket.socket(socket.AF_UNIX); s.bind("sock")' 2>/dev/null || true`,
    );
    const l2 = await step(
      src,
      'l2',
      l1,
      'rm a/file && rm -rf d && mkdir d && echo new > d/new && rm t && mkdir t && echo in > t/in && rm -rf t2 && echo f > t2',
    );
    const l3 = await step(src, 'l3', l2, 'echo two > a/file && rm t2 && mkdir t2');
    const blobs = [];
    for (const name of [l1, l2, l3])
      blobs.push(await createLayer(src, name, { compression: 'uncompressed' }));
    const list2 = tarList(src.content.blobPath(blobs[1]!.digest));
    expect(list2).toContain('a/.wh.file');
    expect(list2).toContain('d/.wh..wh..opq');
    expect(list2).not.toContain('d/x');
    expect(tarList(src.content.blobPath(blobs[0]!.digest))).not.toContain('sock');
    // Apply the layers into another store and compare the merged trees.
    const dst = await openStore(tempDir(), { snapshotter: 'overlay' });
    let parent: string | undefined;
    for (const b of blobs) {
      const applied = await applyLayer(dst, createReadStream(src.content.blobPath(b.digest)), parent, {
        expectedDigest: b.digest,
        expectedDiffId: b.diffId,
      });
      expect(applied.diffId).toBe(b.diffId);
      parent = applied.snapshot;
    }
    const merged = await mergedListing(src, l3);
    // Sockets are not layer content (skipped, as Docker does); everything else must match.
    expect(merged.tree).toMatch(/\.\/sock s /);
    const want = { ...merged, tree: merged.tree.replace(/^\.\/sock s .*\n/m, '') };
    const got = await mergedListing(dst, parent!);
    expect(got.tree).toBe(want.tree);
    expect(got.content).toBe(want.content);
    // Layers carry security.capability only, as BuildKit's do: user.note stays behind.
    expect(want.xattrs).toContain('user.note');
    const capsOnly = (listing: string) =>
      listing
        .split('# file: ')
        .map((b) => b.split('\n').filter((l) => !l.startsWith('user.')))
        .filter((b) => b.length > 1 && b.some((l) => l.includes('=')))
        .map((b) => b.join('\n'))
        .join('# file: ');
    expect(got.xattrs).not.toContain('user.note');
    expect(capsOnly(got.xattrs)).toBe(capsOnly(want.xattrs));
    expect(got.tree).toMatch(/\.\/keep f 4755 0:0/);
    expect(got.tree).toMatch(/\.\/a\/file f 644 0:0 4/);
    expect(got.xattrs).toContain('security.capability');
    // The copy snapshotter (overlay unavailable) applies the same layers to the same tree.
    const cp = await openStore(tempDir(), { snapshotter: 'copy' });
    let cparent: string | undefined;
    for (const b of blobs)
      cparent = (await applyLayer(cp, createReadStream(src.content.blobPath(b.digest)), cparent)).snapshot;
    expect(treeListing(cp.snapshots.diffDir(cparent!).replace(/\/diff$/, '/fs'))).toBe(want.tree);
    // …and its computed diff re-tars to a layer with the same whiteouts.
    const l2copy = (await cp.snapshots.stat(cparent!)).parent!;
    const again2 = tarList(
      cp.content.blobPath((await createLayer(cp, l2copy, { compression: 'uncompressed' })).digest),
    );
    expect(again2).toContain('a/.wh.file');
    expect(again2).toContain('d/.wh.x');
    // Flat extraction of the same three layers gives the same tree (type=local output).
    const flat = tempDir();
    for (const b of blobs)
      await extractLayer(createReadStream(src.content.blobPath(b.digest)), flat, {
        mode: 'flat',
        devices: 'create',
      });
    expect(treeListing(flat)).toBe(want.tree);
    expect(sh('stat -c %h hl1 hl2', flat).trim().split('\n')).toEqual(['2', '2']);
    expect(sh('stat -c %i hl1', flat)).toBe(sh('stat -c %i hl2', flat));
    // Re-tarring the applied snapshots gives the same diffIDs: the codec is a fixed point.
    let i = 0;
    let cur: string | undefined = parent;
    const chain: string[] = [];
    while (cur) {
      chain.unshift(cur);
      cur = (await dst.snapshots.stat(cur)).parent;
    }
    for (const name of chain) {
      const again = await createLayer(dst, name, { compression: 'uncompressed' });
      expect(again.diffId).toBe(blobs[i++]!.diffId);
    }
  });

  it('is deterministic: same content, other mtimes → same digest under SOURCE_DATE_EPOCH; compression remembered', async () => {
    const digests: string[] = [];
    for (const when of ['2020-01-01', '2024-06-01']) {
      const store = await openStore(tempDir(), { snapshotter: 'overlay' });
      await step(
        store,
        's',
        undefined,
        `mkdir -p b a && echo 1 > b/z && echo 2 > a/y && touch -d ${when} a/y b/z a b .`,
      );
      const l = await createLayer(store, 's', { compression: 'gzip', sourceDateEpoch: 1_000_000 });
      digests.push(l.digest);
      const z = await createLayer(store, 's', { compression: 'zstd', sourceDateEpoch: 1_000_000 });
      expect(z.diffId).toBe(l.diffId);
      expect(z.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+zstd');
      digests.push(z.digest);
      // Second ask: remembered (the blob is not rewritten; delete the diff to prove no re-tar happens).
      rmSync(join(store.snapshots.diffDir('s'), 'a'), { recursive: true });
      const again = await createLayer(store, 's', { compression: 'gzip', sourceDateEpoch: 1_000_000 });
      expect(again.digest).toBe(l.digest);
      expect(again.diffId).toBe(l.diffId);
      const d = await createLayer(store, 's', {
        compression: 'gzip',
        sourceDateEpoch: 1_000_000,
        docker: true,
      });
      expect(d.mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
      expect(sh(`gzip -dc "${store.content.blobPath(l.digest)}" | sha256sum`).split(' ')[0]).toBe(
        l.diffId.slice(7),
      );
      expect(sh(`zstd -dc "${store.content.blobPath(z.digest)}" | sha256sum`).split(' ')[0]).toBe(
        l.diffId.slice(7),
      );
    }
    // gzip and zstd digests are the same on both runs (deterministic codecs).
    expect(digests[0]).toBe(digests[2]);
    expect(digests[1]).toBe(digests[3]);
  });

  it('leaves out runtime mount stubs that did not exist below, keeps them when they did', async () => {
    const store = await openStore(tempDir(), { snapshotter: 'overlay' });
    await step(store, 'base', undefined, 'mkdir -p etc && echo "127.0.0.1 x" > etc/hosts && echo a > a');
    await step(
      store,
      'run',
      'base',
      'mkdir -p proc sys dev && : > etc/resolv.conf && : > etc/hostname && : > etc/hosts && echo b > b',
    );
    const l = await createLayer(store, 'run', { compression: 'uncompressed' });
    const names = sh(`tar -tf "${store.content.blobPath(l.digest)}"`)
      .split('\n')
      .filter(Boolean)
      .sort();
    // etc/hosts existed below (the RUN emptied it: a real change); the others are stubs.
    expect(names).toEqual(['b', 'etc/', 'etc/hosts']);
    const scratch = await openStore(tempDir(), { snapshotter: 'overlay' });
    await step(
      scratch,
      'run',
      undefined,
      'mkdir -p proc sys dev etc && : > etc/resolv.conf && : > etc/hostname && : > etc/hosts && echo b > b',
    );
    const l2 = await createLayer(scratch, 'run', { compression: 'uncompressed' });
    expect(sh(`tar -tf "${scratch.content.blobPath(l2.digest)}"`).trim()).toBe('b');
    void readFileSync;
    void writeFileSync;
  });
});

describe('applyLayer', () => {
  it('concurrent applies of one layer end in one snapshot; a wrong digest commits nothing', async () => {
    const src = await openStore(tempDir(), { snapshotter: 'overlay' });
    await step(src, 'x', undefined, 'mkdir -p a && echo hi > a/f');
    const l = await createLayer(src, 'x', { compression: 'gzip' });
    const dst = await openStore(tempDir(), { snapshotter: 'overlay' });
    const blob = (await dst.content.ingest(createReadStream(src.content.blobPath(l.digest)))).digest;
    const results = await Promise.all([1, 2, 3].map(() => applyLayer(dst, blob)));
    expect(new Set(results.map((r) => r.snapshot))).toEqual(new Set([l.diffId]));
    const all: string[] = [];
    await dst.snapshots.walk((i) => void all.push(`${i.name}:${i.kind}`));
    expect(all).toEqual([`${l.diffId}:committed`]);
    await expect(
      applyLayer(dst, createReadStream(src.content.blobPath(l.digest)), l.diffId, {
        expectedDigest: l.diffId,
      }),
    ).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    await expect(
      applyLayer(dst, createReadStream(src.content.blobPath(l.digest)), undefined, {
        expectedDiffId: l.digest,
      }),
    ).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    const after: string[] = [];
    await dst.snapshots.walk((i) => void after.push(i.name));
    expect(after).toEqual([l.diffId]);
  });
});

describe('hard links of non-files', () => {
  it('a symlink or FIFO with more links is written once, then as Link entries (as moby archive does), and extracts back', async () => {
    const dir = tempDir();
    sh('ln -s target sl && ln sl sl2 && mkfifo ff && ln ff ff2', dir);
    const { stream } = layerTarStream(dir, { source: 'plain' });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const tarFile = join(tempDir(), 'l.tar');
    writeFileSync(tarFile, Buffer.concat(chunks));
    const listing = sh(`tar -tvf ${tarFile}`);
    expect(listing).toMatch(/^p.* ff$/m);
    expect(listing).toMatch(/^h.* ff2 link to ff$/m);
    expect(listing).toMatch(/^l.* sl -> target$/m);
    expect(listing).toMatch(/^h.* sl2 link to sl$/m);
    const out = tempDir();
    await extractLayer(createReadStream(tarFile), out, { mode: 'flat', devices: 'create' });
    expect(sh('stat -c "%n %h %F" sl sl2 ff ff2', out)).toBe(
      'sl 2 symbolic link\nsl2 2 symbolic link\nff 2 fifo\nff2 2 fifo\n',
    );
  });

  it("a Link entry's mode, owner and mtime go to the inode it shares, a symlink's mode excepted (as dockerd's BuildKit unpacks)", async () => {
    const tarFile = join(tempDir(), 'hl.tar');
    const py = [
      'import tarfile, io, sys',
      "t = tarfile.open(sys.argv[1], 'w')",
      'def add(n, k, mode, uid, link=""):',
      '    i = tarfile.TarInfo(n); i.type, i.mode, i.uid, i.gid, i.linkname = k, mode, uid, uid, link',
      '    i.mtime = 1500000000 if k == tarfile.LNKTYPE else 1600000000',
      '    i.size = 1 if k == tarfile.REGTYPE else 0',
      "    t.addfile(i, io.BytesIO(b'a') if i.size else None)",
      "add('a', tarfile.REGTYPE, 0o644, 7)",
      "add('b', tarfile.LNKTYPE, 0o4755, 9, 'a')",
      "add('s', tarfile.SYMTYPE, 0o777, 0, 'a')",
      "add('t', tarfile.LNKTYPE, 0o600, 3, 's')",
      't.close()',
    ].join('\n');
    execFileSync('python3', ['-c', py, tarFile]);
    const out = tempDir();
    await extractLayer(createReadStream(tarFile), out, { mode: 'flat', devices: 'create' });
    expect(sh('stat -c "%n %a %u:%g %Y %h" a b', out)).toBe(
      'a 4755 9:9 1500000000 2\nb 4755 9:9 1500000000 2\n',
    );
    expect(sh('stat -c "%n %F %u" s t', out)).toBe('s symbolic link 3\nt symbolic link 3\n');
  });
});

describe('capabilities and hard links', () => {
  it("a Link entry's chown drops the capability an earlier entry gave its inode; its own is set after (moby's order)", async () => {
    const tarFile = join(tempDir(), 'caps.tar');
    const py = [
      'import tarfile, io, sys',
      "cap = bytes.fromhex('0100000200200000000000000000000000000000').decode('latin1')",
      "t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT)",
      'def add(n, link=None, caps=False):',
      '    i = tarfile.TarInfo(n)',
      "    if caps: i.pax_headers = {'SCHILY.xattr.security.capability': cap}",
      '    if link: i.type, i.linkname = tarfile.LNKTYPE, link',
      '    else: i.size = 1',
      "    t.addfile(i, None if link else io.BytesIO(b'p'))",
      "add('a', caps=True); add('a2', 'a'); add('b', caps=True); add('b2', 'b', caps=True); add('c', caps=True)",
      't.close()',
    ].join('\n');
    execFileSync('python3', ['-c', py, tarFile]);
    const out = tempDir();
    await extractLayer(createReadStream(tarFile), out, { mode: 'overlay' });
    const caps = sh('getfattr -d -m security.capability a b c 2>/dev/null | grep "^# file"', out);
    expect(caps).toBe('# file: b\n# file: c\n');
  });
});

describe('big files', () => {
  it('streams a file into the layer tar chunk by chunk: a 512 MB file is never held in memory', async () => {
    const dir = tempDir();
    sh('truncate -s 512M big && echo tail >> big', dir);
    const { stream, result } = layerTarStream(dir, { source: 'plain' });
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let bytes = 0;
    let first: Buffer | undefined;
    let last: Buffer | undefined;
    for await (const chunk of stream) {
      first ??= Buffer.from((chunk as Buffer).subarray(0, 512));
      last = chunk as Buffer;
      bytes += (chunk as Buffer).length;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }
    // the writer cuts 1 MiB chunks and the stream buffers a few: far below the file's size
    expect(peak).toBeLessThan(64 << 20);
    const size = (512 << 20) + 5;
    const header = new Header(first as Buffer);
    expect([header.path, header.size, header.type]).toEqual(['big', size, 'File']);
    // header, content padded to 512, two zero blocks: exactly the file, not a byte lost or added
    expect(bytes).toBe(512 + Math.ceil(size / 512) * 512 + 1024);
    const end = (last as Buffer).subarray(-(1024 + 512), -1024);
    expect(end.subarray(0, 5).toString()).toBe('tail\n');
    expect(result().entries).toBe(1);
  });
});

describe('names', () => {
  it('puts xattrs on the right entries of a tree walked ahead while getfattr runs', async () => {
    const src = await openStore(tempDir(), { snapshotter: 'overlay' });
    const big = await step(
      src,
      'big',
      undefined,
      'mkdir a z && echo a > a/first && setfattr -n security.capability -v 0sAQAAAgEAAAAAAAAAAAAAAAAAAAA= a/first && ' +
        'for i in $(seq 1 1500); do echo $i > a/f$i; done && echo z > z/last && ' +
        'setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= z/last && ' +
        'setfattr -n security.capability -v 0sAQAAAgAEAAAAAAAAAAAAAAAAAAA= a/f999',
    );
    const l = await createLayer(src, big, { compression: 'uncompressed' });
    const out = tempDir();
    sh(`tar --xattrs --xattrs-include='*' -xpf "${src.content.blobPath(l.digest)}" -C "${out}"`);
    expect(xattrListing(out)).toBe(xattrListing(src.snapshots.diffDir(big)));
    expect(xattrListing(out).match(/security\.capability/g)).toHaveLength(3);
    expect(sh('ls a | wc -l', out).trim()).toBe('1501');
  });

  it('keeps any bytes in names (UTF-8 or not), long names and long link targets, as GNU tar reads them', async () => {
    const store = await openStore(tempDir(), { snapshotter: 'overlay' });
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`;
    await step(
      store,
      'n',
      undefined,
      `touch $'\\xff\\xfe-latin' 'café-ü' && setfattr -n security.capability -v 0sAQAAAgAgAAAAAAAAAAAAAAAAAAA= $'\\xff\\xfe-latin' && mkdir -p ${long.split('/')[0]} && echo x > ${long} && ln -s ${'t'.repeat(200)} longlink`,
    );
    const l = await createLayer(store, 'n', { compression: 'uncompressed' });
    const out = tempDir();
    sh(`tar --xattrs --xattrs-include='*' -xpf "${store.content.blobPath(l.digest)}" -C "${out}"`);
    const listing = (d: string) => sh(`find . -mindepth 1 | LC_ALL=C sort | od -An -tx1 | tr -d ' \\n'`, d);
    expect(listing(out)).toBe(listing(store.snapshots.diffDir('n')));
    expect(sh(`getfattr -n security.capability -e base64 $'\\xff\\xfe-latin' | grep =`, out)).toBe(
      'security.capability=0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=\n',
    );
    expect(readFileSync(join(out, long), 'utf8')).toBe('x\n');
    // …and tsbuild's own extractor writes the same bytes back, so re-tarring gives the same diffID.
    const dst = await openStore(tempDir(), { snapshotter: 'overlay' });
    const applied = await applyLayer(dst, createReadStream(store.content.blobPath(l.digest)));
    expect(listing(dst.snapshots.diffDir(applied.snapshot))).toBe(listing(out));
    expect(
      sh(
        `getfattr -n security.capability -e base64 $'\\xff\\xfe-latin' | grep =`,
        dst.snapshots.diffDir(applied.snapshot),
      ),
    ).toBe('security.capability=0sAQAAAgAgAAAAAAAAAAAAAAAAAAA=\n');
    expect((await createLayer(dst, applied.snapshot, { compression: 'uncompressed' })).diffId).toBe(l.diffId);
  });
});
