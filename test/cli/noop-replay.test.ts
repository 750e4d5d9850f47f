import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotFirst, isRacy } from '../../src/cli/noop-replay.js';
import type { ObservedStat } from '../../src/context/index.js';

// The no-op fast path (src/cli/noop-replay.ts) with real builds through bin/run.js: FROM scratch and
// COPY only, so neither a registry nor runc is needed. TSBUILD_DEBUG_NOOP=1 makes the CLI say whether
// it replayed the last result and, if not, what changed.
const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
let dir: string;
let ctx: string;
let root: string;

function build(args: string[] = [], env: Record<string, string> = {}) {
  const r = spawnSync(
    'node',
    [bin, 'build', '--root', root, '-t', 'noop-test', '--progress', 'plain', ...args, ctx],
    {
      encoding: 'utf8',
      env: { ...process.env, TSBUILD_DEBUG_NOOP: '1', ...env },
    },
  );
  expect(r.status, r.stderr).toBe(0);
  const m = /writing image (sha256:[0-9a-f]{64})/.exec(r.stderr);
  const note = /tsbuild: no-op fast path: (.*)/.exec(r.stderr)?.[1];
  return {
    stderr: r.stderr,
    stdout: r.stdout,
    digest: m?.[1],
    replayed: note === 'nothing changed since the last build',
    note,
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsb-noop-'));
  ctx = join(dir, 'ctx');
  root = join(dir, 'root');
  mkdirSync(join(ctx, 'src'), { recursive: true });
  writeFileSync(join(ctx, 'src', 'a.txt'), 'aaaa\n');
  writeFileSync(join(ctx, 'src', 'b.txt'), 'bbbb\n');
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY src /src\nCOPY src/a.txt /a\nCMD ["/x"]\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("racily clean stats (git's rule)", () => {
  it('a ctime within a clock tick of its stat, or of a whole-second filesystem, is not trusted', () => {
    const now = 1_700_000_000_123.456;
    expect(isRacy(now - 10, now)).toBe(true);
    expect(isRacy(now + 5, now)).toBe(true);
    expect(isRacy(now - 100, now)).toBe(false);
    expect(isRacy(1_700_000_000_000, now)).toBe(true); // whole seconds: the same second
    expect(isRacy(1_699_999_997_000, now)).toBe(false);
  });
});

describe('the no-op fast path', () => {
  it('replays the last result when nothing changed: same image, every step CACHED', () => {
    // recorded without the debug switch, replayed with it: it is not part of the request
    const cold = build([], { TSBUILD_DEBUG_NOOP: '0' });
    expect(cold.note).toBeUndefined();
    expect(build().replayed).toBe(true);
    const full = build([], { TSBUILD_NO_FAST_NOOP: '1' });
    expect(full.note).toBeUndefined();
    const fast = build();
    expect(fast.replayed).toBe(true);
    expect(fast.digest).toBe(cold.digest);
    expect(fast.digest).toBe(full.digest);
    // the same steps as the full no-op prints, each CACHED or (internal) DONE
    const steps = (s: string) => [...s.matchAll(/^#\d+ (\[.*)$/gm)].map((m) => m[1]).sort();
    expect(steps(fast.stderr)).toEqual(steps(full.stderr));
    expect(fast.stderr).toMatch(/#\d+ \[1\/2\] COPY src \/src\n#\d+ CACHED/);
    expect(fast.stderr).toMatch(/naming to docker.io\/library\/noop-test:latest done/);
    const q = spawnSync('node', [bin, 'build', '--root', root, '-t', 'noop-test', '-q', ctx], {
      encoding: 'utf8',
      env: { ...process.env, TSBUILD_DEBUG_NOOP: '1' },
    });
    expect(q.stderr).toMatch(/nothing changed/);
    const fullQ = spawnSync('node', [bin, 'build', '--root', root, '-t', 'noop-test', '-q', ctx], {
      encoding: 'utf8',
      env: { ...process.env, TSBUILD_NO_FAST_NOOP: '1' },
    });
    expect(q.stdout).toBe(fullQ.stdout);
    expect(q.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
  });

  it('sees a content change that keeps size and mtime', () => {
    const before = build();
    const f = join(ctx, 'src', 'a.txt');
    const st = statSync(f);
    writeFileSync(f, 'AAAA\n');
    utimesSync(f, st.atime, st.mtime);
    const after = build();
    expect(after.replayed).toBe(false);
    expect(after.note).toContain('a.txt');
    expect(after.digest).not.toBe(before.digest);
    expect(build().replayed).toBe(true);
  });

  it('runs the build after a touch, which then finds its cache, and replays again after it', () => {
    const before = build();
    const f = join(ctx, 'src', 'b.txt');
    const later = new Date(Date.now() + 5000);
    utimesSync(f, later, later);
    const touched = build();
    expect(touched.replayed).toBe(false);
    expect(touched.digest).toBe(before.digest);
    expect(touched.stderr).toMatch(/CACHED/);
    expect(build().replayed).toBe(true);
  });

  it('sees a new file, a changed Dockerfile and a new .dockerignore', () => {
    build();
    writeFileSync(join(ctx, 'src', 'c.txt'), 'c\n');
    let r = build();
    expect(r.replayed).toBe(false);
    expect(r.note).toMatch(/src$/);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM scratch\nCOPY src /src\nCOPY src/a.txt /a\nCMD ["/y"]\n');
    r = build();
    expect(r.note).toMatch(/Dockerfile$/);
    expect(build().replayed).toBe(true);
    writeFileSync(join(ctx, '.dockerignore'), 'src/c.txt\n');
    r = build();
    expect(r.replayed).toBe(false);
    expect(build().replayed).toBe(true);
  });

  it('is not taken for other flags, --no-cache, or with TSBUILD_NO_FAST_NOOP', () => {
    build();
    expect(build(['--build-arg', 'X=1']).note).toBe('no record of this build');
    expect(build(['--no-cache']).note).toBeUndefined();
    expect(build([], { TSBUILD_NO_FAST_NOOP: '1' }).note).toBeUndefined();
  });

  it('reports through the json display too, with the events a cached build emits', () => {
    build();
    const run = (env: Record<string, string>) =>
      spawnSync('node', [bin, 'build', '--root', root, '-t', 'noop-test', '--progress', 'json', ctx], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
    const events = (stderr: string) =>
      stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map(
          (l) =>
            JSON.parse(l) as { type: string; status?: string; name?: string; id?: string; digest?: string },
        );
    const fast = run({ TSBUILD_DEBUG_NOOP: '1' });
    expect(fast.status, fast.stderr).toBe(0);
    expect(fast.stderr).toMatch(/nothing changed since the last build/);
    const full = run({ TSBUILD_NO_FAST_NOOP: '1' });
    const key = (e: { type: string; status?: string; name?: string; id?: string }) =>
      `${e.type} ${e.status ?? ''} ${e.id ?? ''} ${e.name ?? ''}`;
    const vertices = (l: ReturnType<typeof events>) =>
      l
        .filter((e) => e.type === 'vertex')
        .map(key)
        .sort();
    expect(vertices(events(fast.stderr))).toEqual(vertices(events(full.stderr)));
    const summary = (l: ReturnType<typeof events>) => l.find((e) => e.type === 'summary')?.digest;
    expect(summary(events(fast.stderr))).toBe(summary(events(full.stderr)));
  });

  it('sees the store change under it: another tag, a pruned cache', () => {
    build();
    // another build into the same store retags: the tags dir changed
    const other = join(dir, 'other');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'Dockerfile'), 'FROM scratch\nCMD ["/z"]\n');
    spawnSync('node', [bin, 'build', '--root', root, '-t', 'other', '-q', other], { encoding: 'utf8' });
    expect(build().note).toBe('changed: the store (meta/tags)');
    expect(build().replayed).toBe(true);
    // a cache record gone (as another process's gc would leave it): the cache dir changed
    const records = readdirSync(join(root, 'meta', 'cache'));
    rmSync(join(root, 'meta', 'cache', records[0] as string));
    expect(build().note).toBe('changed: the store (meta/cache)');
    expect(build().replayed).toBe(true);
    // prune drops the records themselves; the steps then run again
    const prune = spawnSync('node', [bin, 'prune', '--root', root, '--all'], { encoding: 'utf8' });
    expect(prune.status, prune.stderr).toBe(0);
    expect(existsSync(join(root, 'meta', 'noop'))).toBe(false);
    const after = build();
    expect(after.note).toBe('no record of this build');
    expect(after.stderr).not.toMatch(/CACHED/);
  });

  it('checks the files changed last first: a rebuild loop meets its edit before the rest', () => {
    const names = Array.from({ length: 40 }, (_, i) =>
      join(ctx, 'src', `z${String(i).padStart(2, '0')}.txt`),
    );
    try {
      for (const [i, f] of names.entries()) writeFileSync(f, `${i}\n`);
      build();
      const hot = names[39] as string;
      writeFileSync(hot, 'edited\n');
      expect(build().note).toBe(`changed: ${hot}`);
      // z39 is now the newest file the record knows: changed again beside a file that comes before it
      // in scan order, it is the one found (scan order alone would name src/a.txt).
      writeFileSync(join(ctx, 'src', 'a.txt'), 'aaaa, edited\n');
      writeFileSync(hot, 'edited again\n');
      expect(build().note).toBe(`changed: ${hot}`);
      expect(build().replayed).toBe(true);
    } finally {
      for (const f of names) rmSync(f, { force: true });
    }
  });

  it('hotFirst: the n newest by ctime first (newest first), the others in their order', () => {
    const o = (p: string, ctime: number) => [p, 1, 1, 1, ctime, 0o100644] as ObservedStat;
    const list = [o('a', 5), o('b', 9), o('c', 1), o('d', 7), o('e', 9.5), o('f', 2)];
    expect(hotFirst(list, 2).map((x) => x[0])).toEqual(['e', 'b', 'a', 'c', 'd', 'f']);
    expect(hotFirst(list, 3).map((x) => x[0])).toEqual(['e', 'b', 'd', 'a', 'c', 'f']);
    expect(hotFirst(list, 6)).toBe(list);
    expect(hotFirst(list, 5).map((x) => x[0])).toEqual(['e', 'b', 'd', 'a', 'f', 'c']);
  });

  it('never records a build that fetches a URL', async () => {
    // The server runs in this process: the builds must not block its event loop (no spawnSync).
    const buildAsync = () =>
      new Promise<{ status: number | null; stderr: string }>((res) => {
        const c = spawn(
          'node',
          [bin, 'build', '--root', root, '-t', 'noop-test', '--progress', 'plain', ctx],
          {
            env: { ...process.env, TSBUILD_DEBUG_NOOP: '1' },
          },
        );
        let stderr = '';
        c.stderr.on('data', (d) => (stderr += d));
        c.on('close', (status) => res({ status, stderr }));
      });
    const server: Server = createServer((_q, s) => s.end('remote\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const saved = readFileSync(join(ctx, 'Dockerfile'), 'utf8');
    try {
      writeFileSync(join(ctx, 'Dockerfile'), `FROM scratch\nADD http://127.0.0.1:${port}/f /f\n`);
      rmSync(join(root, 'meta', 'noop'), { recursive: true, force: true });
      const first = await buildAsync();
      expect(first.status, first.stderr).toBe(0);
      const second = await buildAsync();
      expect(second.status, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/no-op fast path: no record of this build/);
      expect(second.stderr).toMatch(/#\d+ \[1\/1\] ADD http/);
    } finally {
      writeFileSync(join(ctx, 'Dockerfile'), saved);
      server.close();
    }
  });

  // --progress auto decides without process.stderr (progress/select.ts): a terminal by its device.
  it('auto progress is the live view on a terminal and plain lines on a file, replayed or built', () => {
    if (spawnSync('script', ['--version']).status !== 0) throw new Error('script(1) (util-linux) is needed');
    for (const env of [{}, { TSBUILD_NO_FAST_NOOP: '1' }]) {
      const cmd = `node ${bin} build --root ${root} -t noop-test ${ctx}`;
      // script(1) (bsdutils, in .ci/run's list) runs the command on a pseudo-terminal; its stdout carries what the terminal showed.
      const tty = spawnSync('script', ['-qec', cmd, '/dev/null'], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
      expect(tty.status, tty.stdout).toBe(0);
      expect(tty.stdout).toContain('\x1b[');
      expect(tty.stdout).toMatch(/FINISHED/);
      const file = join(dir, 'progress.txt');
      const plain = spawnSync('sh', ['-c', `${cmd} 2>${file}`], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
      expect(plain.status).toBe(0);
      const text = readFileSync(file, 'utf8');
      expect(text).toMatch(/^#1 \[internal\] load /m);
      expect(text).not.toContain('\x1b[');
    }
  });
});
