import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseOutputs } from '../../src/exporter/index.js';
import { eagerLayers } from '../../src/solver/eager-layers.js';
import { makeVertex, type Vertex } from '../../src/solver/graph.js';
import { createLayer, openStore, type Store } from '../../src/store/index.js';
import { layerCacheKey } from '../../src/store/types.js';
import { requireRoot } from '../helpers/require.js';
import { tempDir } from '../store/helpers.js';

requireRoot();

async function committed(store: Store, name: string, parent?: string): Promise<string> {
  await store.snapshots.prepare(`${name}-a`, parent);
  writeFileSync(join(store.snapshots.diffDir(`${name}-a`), `${name}.txt`), name);
  await store.snapshots.commit(name, `${name}-a`);
  return name;
}

const file = (name: string, inputs: Vertex[], scratchBase = false) =>
  makeVertex(
    { kind: 'file', actions: [{ type: 'mkdir', path: `/${name}`, mode: 0o755 }], scratchBase },
    inputs,
    {
      name,
    },
  );

async function layerMade(store: Store, snapshot: string): Promise<string[]> {
  const rec = await store.meta.layers.get(layerCacheKey(snapshot));
  return (rec?.layers ?? []).map((l) => l.compression);
}

describe('eager layers (the final image made while the build goes on)', () => {
  it("makes the target chain's layers as their steps finish, in the image output's codec, nothing else", async () => {
    const store = await openStore(tempDir());
    const [a, b, other] = [
      await committed(store, 'a'),
      await committed(store, 'b', 'a'),
      await committed(store, 'other'),
    ];
    const va = file('a', [], true);
    const vb = file('b', [va]);
    const vOther = file('other', [], true); // another stage: not a layer of the target
    const target = file('c', [vb]);
    const eager = eagerLayers(store, target, parseOutputs(['type=image,compression=uncompressed']));
    eager.onRun(va, { snapshot: a, layers: [{ snapshot: a }] } as never);
    eager.onRun(vb, { snapshot: b, layers: [{ snapshot: a }, { snapshot: b }] } as never);
    eager.onRun(vOther, { snapshot: other, layers: [{ snapshot: other }] } as never);
    await eager.settle();
    expect(await layerMade(store, a)).toEqual(['uncompressed']);
    expect(await layerMade(store, b)).toEqual(['uncompressed']);
    expect(await layerMade(store, other)).toEqual([]);
    await store.close();
  });

  it('does nothing for outputs whose layers are not known yet (several, or not an image)', async () => {
    const store = await openStore(tempDir());
    const a = await committed(store, 'a');
    const va = file('a', [], true);
    for (const outs of [['type=tar,dest=/dev/null'], ['type=image', 'type=local,dest=/tmp/x']]) {
      const eager = eagerLayers(store, va, parseOutputs(outs));
      eager.onRun(va, { snapshot: a, layers: [{ snapshot: a }] } as never);
      await eager.settle();
    }
    expect(await layerMade(store, a)).toEqual([]);
    await store.close();
  });

  it('createLayer is single-flight: a second caller waits for the same tar', async () => {
    const store = await openStore(tempDir());
    const a = await committed(store, 'a');
    const writer = vi.spyOn(store.content, 'writer');
    const [x, y] = await Promise.all([
      createLayer(store, a, { compression: 'gzip' }),
      createLayer(store, a, { compression: 'gzip', docker: true }),
    ]);
    expect(writer).toHaveBeenCalledTimes(1);
    expect(y.digest).toBe(x.digest);
    expect(x.mediaType).toMatch(/^application\/vnd\.oci\.image\.layer/);
    expect(y.mediaType).toMatch(/^application\/vnd\.docker\.image\.rootfs/);
    await store.close();
  });
});
