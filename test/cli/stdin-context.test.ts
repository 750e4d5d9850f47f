import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `tsbuild build -` as `docker build -`: stdin is a (compressed) tar of the context, or the Dockerfile.
const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const root = mkdtempSync(join(tmpdir(), 'tsb-stdin-root-'));

function build(input: Buffer | string, ...args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'tsb-stdin-out-'));
  const r = spawnSync(
    'node',
    [bin, 'build', '--root', root, '--progress', 'plain', ...args, '-o', `type=local,dest=${out}`, '-'],
    {
      input,
      encoding: 'utf8',
    },
  );
  return { ...r, out };
}

function contextTar(compress: string[]): Buffer {
  const ctx = mkdtempSync(join(tmpdir(), 'tsb-stdin-ctx-'));
  mkdirSync(join(ctx, 'sub'));
  writeFileSync(join(ctx, 'a.txt'), 'from the archive\n');
  writeFileSync(join(ctx, 'secret'), 'ignored\n');
  writeFileSync(join(ctx, '.dockerignore'), 'secret\n');
  writeFileSync(join(ctx, 'sub', 'Build.df'), 'FROM scratch\nCOPY . /c/\n');
  return execFileSync('tar', ['-C', ctx, '-c', ...compress, '-f', '-', '.'], { maxBuffer: 1 << 24 });
}

describe('tsbuild build - (context or Dockerfile on stdin)', () => {
  for (const [kind, flags] of [
    ['plain tar', []],
    ['gzip', ['-z']],
    ['xz', ['-J']],
  ] as const) {
    it(`builds a ${kind} context from stdin, -f naming a file inside it, .dockerignore applied`, () => {
      const r = build(contextTar([...flags]), '-f', 'sub/Build.df');
      expect(r.stderr).not.toMatch(/error/i);
      expect(r.status).toBe(0);
      expect(readdirSync(join(r.out, 'c')).sort()).toEqual(['.dockerignore', 'a.txt', 'sub']);
      expect(readFileSync(join(r.out, 'c', 'a.txt'), 'utf8')).toBe('from the archive\n');
    });
  }

  it('takes a plain Dockerfile on stdin, with an empty context', () => {
    const ok = build('FROM scratch\nLABEL from=stdin\nWORKDIR /w\n');
    expect(ok.status).toBe(0);
    expect(readdirSync(ok.out)).toEqual(['w']);
    const copy = build('FROM scratch\nCOPY a.txt /\n');
    expect(copy.status).toBe(1);
    expect(copy.stderr).toMatch(/"\/a\.txt": not found/);
  });

  it('refuses stdin for both the context and the Dockerfile', () => {
    const r = build('FROM scratch\n', '-f', '-');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("can't use stdin for both build context and dockerfile");
  });

  it('a hostile archive context stays inside its dir', () => {
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-stdin-evil-'));
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY . /c/\n');
    execFileSync('ln', ['-s', '/', join(ctx, 'up')]);
    const archive = join(mkdtempSync(join(tmpdir(), 'tsb-stdin-tar-')), 'evil.tar');
    execFileSync('tar', ['-C', ctx, '-cf', archive, 'Dockerfile', 'up']);
    // then a file through the symlink, appended to the same archive (a second tar concatenated after
    // the first one's end blocks would not be read, as Go's archive/tar does not): with the context
    // as `/`, it lands in the context, not in /tmp
    const name = `tsb-stdin-escape-${process.pid}`;
    const payload = mkdtempSync(join(tmpdir(), 'tsb-stdin-payload-'));
    mkdirSync(join(payload, 'up', 'tmp'), { recursive: true });
    writeFileSync(join(payload, 'up', 'tmp', name), 'x');
    execFileSync('tar', ['-C', payload, '-rf', archive, `up/tmp/${name}`]);
    const r = build(readFileSync(archive));
    expect(r.status).toBe(0);
    expect(() => readFileSync(join('/tmp', name))).toThrow();
    expect(readFileSync(join(r.out, 'c', 'tmp', name), 'utf8')).toBe('x');
  });
});
