import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileKeyedStore } from '../../src/store/meta.js';
import type { TagRecord } from '../../src/store/types.js';
import { tempDir } from './helpers.js';

const rec = (name: string, digest: `sha256:${string}` = `sha256:${'a'.repeat(64)}`): TagRecord => ({
  name,
  target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 100 },
  createdAt: 1,
  updatedAt: 1,
});

describe('FileKeyedStore: records kept apart', () => {
  const open = (dir: string) =>
    new FileKeyedStore<TagRecord>(
      dir,
      (t) => t.name,
      (k) => k.startsWith('sha256:'),
    );
  const untagged = `sha256:${'b'.repeat(64)}`;

  it('writes them as <hash>.u.json; a listing without them does not read them', async () => {
    const dir = tempDir();
    const s = open(dir);
    await s.put('docker.io/library/app:latest', rec('docker.io/library/app:latest'));
    await s.put(untagged, rec(untagged));
    expect(basename(s.pathOf(untagged))).toMatch(/^[0-9a-f]{40}\.u\.json$/);
    expect(readdirSync(dir).sort()).toEqual(
      [basename(s.pathOf('docker.io/library/app:latest')), basename(s.pathOf(untagged))].sort(),
    );
    // An unreadable kept-apart file proves it is not even opened.
    writeFileSync(s.pathOf(untagged), '{not json');
    expect((await s.list({ apart: false })).map((t) => t.name)).toEqual(['docker.io/library/app:latest']);
    expect((await s.list()).map((t) => t.name)).toEqual(['docker.io/library/app:latest']);
    await s.put(untagged, rec(untagged));
    expect((await s.list()).map((t) => t.name).sort()).toEqual(
      ['docker.io/library/app:latest', untagged].sort(),
    );
  });

  it('finds one written under the plain name before, and moves or deletes it', async () => {
    const dir = tempDir();
    const s = open(dir);
    const plain = new FileKeyedStore<TagRecord>(dir, (t) => t.name);
    await plain.put(untagged, rec(untagged));
    const old = plain.pathOf(untagged);
    expect((await s.get(untagged))?.name).toBe(untagged);
    await s.put(untagged, rec(untagged, `sha256:${'c'.repeat(64)}`));
    expect(existsSync(old)).toBe(false);
    expect((await s.get(untagged))?.target.digest).toBe(`sha256:${'c'.repeat(64)}`);
    await plain.put(untagged, rec(untagged));
    expect(await s.delete(untagged)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect(await s.delete(untagged)).toBe(false);
  });
});
