import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../../src/build.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { CASES } from './cases.js';
import { makeCaseContext } from './context.js';
import { explain } from './explain.js';
import { type NormalizedImage, normalizeDockerArchive } from './normalize.js';

requireRoot();
requireBinary('runc');
requireBinary('busybox', 'busybox-static');

const root = mkdtempSync(join(tmpdir(), 'tsb-conf-root-'));
const golden = (name: string) => join(import.meta.dirname, 'golden', `${name}.json`);

describe('conformance with BuildKit (golden files recorded from dockerd 20.10 BuildKit)', () => {
  const cases = CASES.filter((k) => existsSync(golden(k.name)));
  it('has at least 200 recorded cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
  });
  for (const k of cases) {
    it(k.name, async () => {
      const ctx = makeCaseContext(k);
      const out = join(mkdtempSync(join(tmpdir(), 'tsb-conf-out-')), 'img.tar');
      await build({
        root,
        context: ctx,
        outputs: [`type=docker,dest=${out}`],
        ...(k.buildArgs ? { buildArgs: k.buildArgs } : {}),
        ...(k.target ? { target: k.target } : {}),
      });
      const ours = explain(normalizeDockerArchive(out), k.dockerfile);
      const theirs = explain(
        JSON.parse(readFileSync(golden(k.name), 'utf8')) as NormalizedImage,
        k.dockerfile,
      );
      expect(ours).toEqual(theirs);
    });
  }
});
