import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireRoot } from '../helpers/require.js';

requireRoot();

// buildx's flags that CI scripts pass: --annotation (done), --load (the local store beside other
// outputs), --provenance/--sbom (accepted: false silently, anything else with a warning).

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

function context(dockerfile: string): string {
  const dir = tmp('tsb-buildx-ctx-');
  writeFileSync(join(dir, 'Dockerfile'), dockerfile);
  writeFileSync(join(dir, 'f'), 'f\n');
  return dir;
}

function tsb(root: string, ...args: string[]) {
  return spawnSync('node', [bin, ...args.slice(0, 1), '--root', root, ...args.slice(1)], {
    encoding: 'utf8',
  });
}

const blob = (root: string, digest: string) =>
  JSON.parse(readFileSync(join(root, 'blobs', 'sha256', digest.slice(7)), 'utf8'));

describe('buildx flags', () => {
  it('--annotation: on the manifest (plain or manifest:), on a multi-platform index (index:)', () => {
    const root = tmp('tsb-buildx-root-');
    const ctx = context('FROM scratch\nCOPY f /f\n');
    const meta = join(root, 'meta.json');
    const one = tsb(
      root,
      'build',
      '-q',
      '-t',
      'ann:1',
      '--annotation',
      'org.example.a=1',
      '--annotation',
      'manifest:b=two',
      '--metadata-file',
      meta,
      ctx,
    );
    expect(one.status, one.stderr).toBe(0);
    const manifest = blob(root, JSON.parse(readFileSync(meta, 'utf8'))['containerimage.digest']);
    expect(manifest.annotations).toEqual({ 'org.example.a': '1', b: 'two' });
    const noIndex = tsb(root, 'build', '-q', '--annotation', 'index:c=3', ctx);
    expect(noIndex.status).toBe(1);
    expect(noIndex.stderr).toContain(
      'an index annotation needs several --platform values [INVALID_ANNOTATION]',
    );
    const multi = tsb(
      root,
      'build',
      '-q',
      '--platform',
      'linux/amd64,linux/arm64',
      '--annotation',
      'index,manifest:c=3',
      ctx,
    );
    expect(multi.status, multi.stderr).toBe(0);
    const index = blob(root, multi.stdout.trim());
    expect(index.annotations).toEqual({ c: '3' });
    expect(blob(root, index.manifests[1].digest).annotations).toEqual({ c: '3' });
    const bad = tsb(root, 'build', '-q', '--annotation', 'manifest-descriptor:d=4', ctx);
    expect(bad.stderr).toContain('manifest-descriptor annotations are not supported');
  });

  it('--load keeps the image in the store beside -o; --provenance/--sbom are accepted, false silently', () => {
    const root = tmp('tsb-buildx-root-');
    const ctx = context('FROM scratch\nCOPY f /f\n');
    const out = tmp('tsb-buildx-out-');
    const r = tsb(
      root,
      'build',
      '--progress',
      'plain',
      '--load',
      '-t',
      'loaded:1',
      '-o',
      `type=local,dest=${out}`,
      '--provenance=false',
      '--sbom',
      'true',
      ctx,
    );
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(join(out, 'f'))).toBe(true);
    expect(tsb(root, 'images', 'loaded').stdout).toMatch(/^loaded +1 /m);
    expect(r.stderr).toContain(
      '--sbom true: not supported, ignored; no attestation is attached to the image',
    );
    expect(r.stderr).not.toContain('--provenance');
    const max = tsb(root, 'build', '--progress', 'plain', '--provenance', 'mode=max', ctx);
    expect(max.stderr).toContain('--provenance mode=max: not supported, ignored');
  });
});
