import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { LocalContentStore } from '../../src/store/content/local-content-store.js';
import type { ContentStore } from '../../src/store/index.js';
import { openStore } from '../../src/store/index.js';
import { requireRoot } from '../helpers/require.js';
import { tempDir } from './helpers.js';

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

/** The shared suite: every ContentStore implementation must pass it. */
function contentStoreSuite(name: string, make: () => Promise<ContentStore>): void {
  describe(`ContentStore: ${name}`, () => {
    it('ingests, reports info, reads whole and ranges', async () => {
      const cs = await make();
      const data = randomBytes(3 * 1024 * 1024 + 17);
      const ref = await cs.ingest(Readable.from([data.subarray(0, 1000), data.subarray(1000)]));
      expect(ref).toEqual({ digest: sha(data), size: data.length });
      expect(await cs.has(ref.digest)).toBe(true);
      expect((await cs.info(ref.digest)).size).toBe(data.length);
      const chunks: Buffer[] = [];
      for await (const c of await cs.read(ref.digest)) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
      const part: Buffer[] = [];
      for await (const c of await cs.read(ref.digest, { start: 10, end: 19 })) part.push(c as Buffer);
      expect(Buffer.concat(part).equals(data.subarray(10, 20))).toBe(true);
      expect((await cs.readAt(ref.digest, data.length - 5, 100)).equals(data.subarray(data.length - 5))).toBe(
        true,
      );
    });

    it('verifies expected digest and size; a mismatch leaves nothing visible', async () => {
      const cs = await make();
      const data = Buffer.from('hello world');
      const wrong = sha('other');
      await expect(cs.ingest(data, { digest: wrong })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
      expect(await cs.has(wrong)).toBe(false);
      expect(await cs.has(sha(data))).toBe(false);
      await expect(cs.ingest(data, { size: 5 })).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
      await expect(cs.ingest(data, { size: 50 })).rejects.toMatchObject({ code: 'SIZE_MISMATCH' });
      expect(await cs.has(sha(data))).toBe(false);
      expect((await cs.status()).length).toBe(0);
      const ok = await cs.ingest(data, { digest: sha(data), size: data.length });
      expect(ok.digest).toBe(sha(data));
    });

    it('an existing blob is success', async () => {
      const cs = await make();
      const data = Buffer.from('same bytes twice');
      const a = await cs.ingest(data);
      const b = await cs.ingest(data);
      const c = await cs.ingest(Readable.from([data]), { digest: a.digest });
      expect(b).toEqual(a);
      expect(c).toEqual(a);
    });

    it('writer: hashes while writing, commit verifies, same ref is locked and fails fast with its age', async () => {
      const cs = await make();
      const data = randomBytes(100_000);
      const w = await cs.writer({ ref: 'pull-xyz', expected: { digest: sha(data), size: data.length } });
      await expect(cs.writer({ ref: 'pull-xyz' })).rejects.toMatchObject({
        code: 'INGEST_LOCKED',
        message: expect.stringMatching(/locked \(for \d+s\)/),
      });
      w.write(data.subarray(0, 50_000));
      expect(await cs.has(sha(data))).toBe(false);
      const st = await cs.status();
      expect(st.map((s) => s.ref)).toContain('pull-xyz');
      w.write(data.subarray(50_000));
      expect(await w.commit()).toEqual({ digest: sha(data), size: data.length });
      expect(await cs.has(sha(data))).toBe(true);
      // The lock is released with the commit.
      const w2 = await cs.writer({ ref: 'pull-xyz' });
      await w2.abort();
    });

    it('writer with hashedBy: takes the digest the caller computed, still checks the expected one', async () => {
      const cs = await make();
      const data = randomBytes(70_000);
      const h = createHash('sha256');
      const w = await cs.writer({ ref: 'layer-a', hashedBy: () => `sha256:${h.digest('hex')}` as Digest });
      h.update(data);
      w.write(data);
      expect(await w.commit()).toEqual({ digest: sha(data), size: data.length });
      const back: Buffer[] = [];
      for await (const c of await cs.read(sha(data))) back.push(c as Buffer);
      expect(Buffer.concat(back).equals(data)).toBe(true);
      const w2 = await cs.writer({ ref: 'layer-b', hashedBy: () => sha('x') });
      w2.write(Buffer.from('y'));
      await expect(w2.commit({ digest: sha('y') })).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
      expect(await cs.has(sha('y'))).toBe(false);
    });

    it('concurrent writers of the same blob all succeed with one blob', async () => {
      const cs = await make();
      const data = randomBytes(2 * 1024 * 1024);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          cs.ingest(Readable.from([data.subarray(0, i * 1000), data.subarray(i * 1000)]), {
            digest: sha(data),
          }),
        ),
      );
      for (const r of results) expect(r).toEqual({ digest: sha(data), size: data.length });
      const seen: string[] = [];
      await cs.walk((b) => void seen.push(b.digest));
      expect(seen.filter((d) => d === sha(data))).toHaveLength(1);
      expect((await cs.status()).length).toBe(0);
    });

    it('walk lists blobs, delete removes them, reading a missing blob is BLOB_NOT_FOUND', async () => {
      const cs = await make();
      const a = await cs.ingest('a');
      const b = await cs.ingest('b');
      const seen: string[] = [];
      await cs.walk((info) => void seen.push(info.digest));
      expect(seen).toEqual(expect.arrayContaining([a.digest, b.digest]));
      expect(await cs.delete(a.digest)).toBe(true);
      expect(await cs.delete(a.digest)).toBe(false);
      await expect(cs.read(a.digest)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
      await expect(cs.info(a.digest)).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    });

    it('a verified read fails with STORE_CORRUPT when the blob was damaged after its commit', async () => {
      const cs = await make();
      const data = randomBytes(2 * 1024 * 1024 + 5);
      const { digest } = await cs.ingest(data);
      const drain = async (r: Readable) => {
        let n = 0;
        for await (const c of r) n += (c as Buffer).length;
        return n;
      };
      expect(await drain(await cs.read(digest, { verify: true }))).toBe(data.length);
      const fd = openSync(cs.blobPath(digest), 'r+');
      writeSync(fd, Buffer.from([data[1_500_000]! ^ 1]), 0, 1, 1_500_000);
      closeSync(fd);
      await expect(drain(await cs.read(digest, { verify: true }))).rejects.toMatchObject({
        code: 'STORE_CORRUPT',
        message: expect.stringContaining(`blob ${digest} is damaged`),
      });
      // Without verify (ranges, registry uploads the registry checks), the bytes are as they are;
      // an ingest of a failing verified read commits nothing.
      expect(await drain(await cs.read(digest))).toBe(data.length);
      await expect(cs.ingest(await cs.read(digest, { verify: true }))).rejects.toMatchObject({
        code: 'STORE_CORRUPT',
      });
      expect((await cs.status()).length).toBe(0);
    });

    it('aborting a writer leaves no blob and no ingest', async () => {
      const cs = await make();
      const w = await cs.writer({ ref: 'abort-me' });
      w.write(Buffer.from('partial'));
      await w.abort();
      expect(await cs.has(sha('partial'))).toBe(false);
      expect((await cs.status()).length).toBe(0);
    });

    it('rejects malformed digests', async () => {
      const cs = await make();
      await expect(cs.has('sha256:../../etc/passwd' as Digest)).rejects.toMatchObject({
        code: 'INVALID_DIGEST',
      });
      expect(() => cs.blobPath('sha256:../../etc/passwd' as Digest)).toThrow(/invalid digest/);
      await expect(cs.read('md5:abc' as Digest)).rejects.toMatchObject({ code: 'INVALID_DIGEST' });
    });
  });
}

contentStoreSuite('LocalContentStore', async () => {
  const cs = new LocalContentStore(tempDir());
  await cs.init();
  return cs;
});

contentStoreSuite(
  'openStore().content',
  async () => (await openStore(tempDir(), { snapshotter: 'copy' })).content,
);

describe('store layout', () => {
  it('creates the DESIGN.md layout', async () => {
    const root = tempDir();
    await openStore(root);
    for (const d of ['blobs/sha256', 'ingest', 'snapshots', 'meta', 'tmp'])
      expect(existsSync(join(root, d))).toBe(true);
    expect(readdirSync(join(root, 'blobs/sha256'))).toEqual([]);
  });
});

describe('opening the store after a kill -9', () => {
  it("removes a dead writer's layer ingests; keeps live ones and pull ingests (prune's, through their locks)", async () => {
    const root = tempDir();
    const first = await openStore(root);
    const dead = spawnSync('true').pid as number;
    const ingest = (ref: string, pid: number) => {
      const dir = first.content.ingestDir(ref);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'lock'), JSON.stringify({ pid, ref, startedAt: Date.now() }));
      writeFileSync(join(dir, 'ref'), ref);
      writeFileSync(join(dir, 'data'), 'partial layer');
      return dir;
    };
    const killedLayer = ingest(`layer-k-abc-uncompressed-${dead}-1796000000000`, dead);
    const liveLayer = ingest(`layer-k-def-gzip-${process.pid}-1796000000001`, process.pid);
    const killedPull = ingest('http://127.0.0.1:5000/v2/x/blobs/sha256:0123', dead);
    await first.close();
    const again = await openStore(root, { sweep: 'background' });
    await again.close();
    expect(existsSync(killedLayer)).toBe(false);
    expect(existsSync(liveLayer)).toBe(true);
    expect(existsSync(killedPull)).toBe(true);
  });

  it("removes a dead process's tmp/ dirs (a snapshot tree, an unpack); keeps live ones and mounted ones", async () => {
    requireRoot(); // mount(8)
    const root = tempDir();
    const dead = spawnSync('true').pid as number;
    const made = (name: string) => {
      const dir = join(root, 'tmp', name);
      mkdirSync(join(dir, 'fs', 'd'), { recursive: true });
      writeFileSync(join(dir, 'fs', 'd', 'f'), 'half a COPY');
      return dir;
    };
    await (await openStore(root)).close();
    const killedTree = made(`${dead}-snap-abc`);
    const killedUnpack = made(`${dead}-unpack-def`);
    const live = made(`${process.pid}-snap-ghi`);
    const notOurs = made('someone-elses');
    const mounted = join(root, 'tmp', `m-${dead}-jkl`);
    mkdirSync(mounted);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mounted]);
    try {
      writeFileSync(join(mounted, 'keep'), 'x');
      const again = await openStore(root, { sweep: 'background' });
      await again.close();
      expect(existsSync(killedTree)).toBe(false);
      expect(existsSync(killedUnpack)).toBe(false);
      expect(existsSync(live)).toBe(true);
      expect(existsSync(notOurs)).toBe(true);
      expect(existsSync(join(mounted, 'keep'))).toBe(true);
    } finally {
      execFileSync('umount', [mounted]);
    }
  });
});
