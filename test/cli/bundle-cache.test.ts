import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// bin/run.js loads the build's fast path from dist/fast-build.bundle.cjs with a V8 code cache.
// Each test works on its own copy of bin/ and dist/ (node_modules linked), so the shared dist/ of
// concurrently running suites is never touched.
const repo = join(import.meta.dirname, '..', '..');
let dir: string;
let install: string;

const bundle = () => join(install, 'dist', 'fast-build.bundle.cjs');
const cache = () => join(install, 'dist', 'fast-build.bundle.cache');
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest();

/** A FROM-scratch build: no registry, no runc; it exercises the bundle's whole build path. */
function build(extra: Record<string, string> = {}) {
  return spawnSync(
    'node',
    [
      join(install, 'bin', 'run.js'),
      '-t',
      'cache-test',
      '--root',
      join(dir, 'root'),
      '--progress',
      'plain',
      join(dir, 'ctx'),
    ],
    // The no-op fast path would skip the bundle on rebuilds: these builds must load it.
    { encoding: 'utf8', env: { ...process.env, TSBUILD_NO_FAST_NOOP: '1', ...extra } },
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsb-bundle-'));
  install = join(dir, 'install');
  for (const d of ['bin', 'dist'])
    cpSync(join(repo, d), join(install, d), { recursive: true, preserveTimestamps: true });
  cpSync(join(repo, 'package.json'), join(install, 'package.json'));
  symlinkSync(join(repo, 'node_modules'), join(install, 'node_modules'));
  rmSync(cache(), { force: true });
  const ctx = join(dir, 'ctx');
  cpSync(join(repo, 'package.json'), join(ctx, 'hello.json'));
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY hello.json /\nCMD ["/x"]\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the fast path bundle', () => {
  it('is CommonJS with no dynamic import (vm.Script has no loader for it on Node 20)', () => {
    const text = readFileSync(join(repo, 'dist', 'fast-build.bundle.cjs'), 'utf8');
    expect(text).toMatch(/^var __tsbBundleUrl = require\(['"]node:url['"]\)/);
    expect(text).not.toMatch(/\bimport\(/);
    expect(text).not.toMatch(/\bimport\.meta\b/);
  });

  it('writes a code cache keyed by the bundle text after a build, and uses it after', () => {
    const first = build();
    expect(first.status, first.stderr).toBe(0);
    const c = readFileSync(cache());
    expect(c.subarray(0, 32).equals(sha(readFileSync(bundle())))).toBe(true);
    expect(c.length).toBeGreaterThan(100_000);
    const ino = statSync(cache()).ino;
    const again = build();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/CACHED/);
    // an accepted cache is not rewritten (a rewrite is a rename: a new inode)
    expect(statSync(cache()).ino).toBe(ino);
  });

  it('ignores and replaces a cache made for other text or corrupted', () => {
    const text = readFileSync(bundle());
    // V8 alone would accept this: same source length, another text
    writeFileSync(
      cache(),
      Buffer.concat([sha(Buffer.from('something else')), readFileSync(cache()).subarray(32)]),
    );
    let r = build();
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(cache()).subarray(0, 32).equals(sha(text))).toBe(true);
    // right key, garbage data: V8 rejects it, the build runs and the cache is rewritten
    writeFileSync(cache(), Buffer.concat([sha(text), Buffer.alloc(5000, 7)]));
    r = build();
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(cache()).length).toBeGreaterThan(100_000);
  });

  it('is not used when older than the tsc output (a bare tsc never runs stale code)', () => {
    const old = new Date(Date.now() - 3600_000);
    utimesSync(bundle(), old, old);
    rmSync(cache(), { force: true });
    const r = build();
    expect(r.status, r.stderr).toBe(0);
    expect(existsSync(cache())).toBe(false);
  });

  it('builds where the cache cannot be written, and leaves no temp file', () => {
    const now = new Date();
    utimesSync(bundle(), now, now);
    rmSync(cache(), { force: true });
    // a non-empty directory in its place: reading it and renaming onto it both fail
    mkdirSync(join(cache(), 'x'), { recursive: true });
    const b = build();
    expect(b.status, b.stderr).toBe(0);
    expect(readdirSync(join(install, 'dist')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    rmSync(cache(), { recursive: true });
  });
});
