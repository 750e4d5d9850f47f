import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeCalls } from '../../src/native.js';
import { type PipedChild, spawnPiped, spawnWatcher } from '../../src/runner/spawn-piped.js';
import { NATIVE_IMPLEMENTATIONS, useNativeSetting } from '../helpers/native-impls.js';

interface Outcome {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

function finish(child: PipedChild): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ stdout, stderr, code, signal }));
  });
}

const sh = (script: string) => spawnPiped('/bin/sh', ['-c', script]);

describe.each(NATIVE_IMPLEMENTATIONS)('spawnPiped through $name', ({ off }) => {
  useNativeSetting(off);

  it('pipes both streams apart and gives the exit code', async () => {
    const r = await finish(sh('echo out; echo err >&2; exit 7'));
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 7, signal: null });
  });

  it('streams a large output whole', async () => {
    const r = await finish(sh('seq 1 200000'));
    expect(r.stdout.split('\n')).toHaveLength(200001);
    expect(r.code).toBe(0);
  });

  it('reads stdin from /dev/null, in this process group, with this environment', async () => {
    process.env.TSB_SPAWN_PROBE = 'seen';
    try {
      const r = await finish(sh('cat; echo "[$TSB_SPAWN_PROBE]"; cut -d" " -f5 /proc/$$/stat'));
      const [line, pgid] = r.stdout.split('\n');
      expect(line).toBe('[seen]');
      // /proc/<pid>/stat: pid (comm) state ppid pgrp …
      const ours = /\) \S+ \d+ (\d+)/.exec(readFileSync('/proc/self/stat', 'utf8'))?.[1];
      expect(pgid).toBe(ours);
    } finally {
      delete process.env.TSB_SPAWN_PROBE;
    }
  });

  it('starts the child with every signal at its default and none blocked', async () => {
    const r = await finish(sh('grep -E "^Sig(Ign|Blk)" /proc/self/status'));
    expect(r.stdout).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
  });

  it('kill() ends it with that signal', async () => {
    const child = sh('exec sleep 30');
    const done = finish(child);
    setTimeout(() => child.kill('SIGTERM'), 50);
    expect(await done).toMatchObject({ code: null, signal: 'SIGTERM' });
    child.kill('SIGKILL'); // after the exit: a no-op, not a throw
  });

  it('a missing file is an error event, not a throw', async () => {
    const child = spawnPiped('/nonexistent/runc', ['run']);
    await expect(finish(child)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

it('the native addon is what spawns by default', () => {
  expect(nativeCalls()?.spawnPiped).toBeTypeOf('function');
});

describe.each(NATIVE_IMPLEMENTATIONS)('spawnWatcher through $name', ({ off }) => {
  useNativeSetting(off);

  it('reads what is written to its stdin, in a session of its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsb-watcher-'));
    const out = join(dir, 'out');
    // /proc/<pid>/stat: pid (comm) state ppid pgrp session …
    const w = spawnWatcher('sh', ['-c', `cut -d' ' -f6 /proc/$$/stat > ${out}; cat >> ${out}`]);
    w.stdin.write('+one\n');
    w.stdin.end('-one\n');
    const read = () => (existsSync(out) ? readFileSync(out, 'utf8') : '');
    for (let i = 0; i < 100 && !read().endsWith('-one\n'); i++) await new Promise((r) => setTimeout(r, 50));
    const [session, ...lines] = read().split('\n');
    const ours = /\) \S+ \d+ \d+ (\d+)/.exec(readFileSync('/proc/self/stat', 'utf8'))?.[1];
    expect(session).not.toBe(ours);
    expect(lines).toEqual(['+one', '-one', '']);
  });

  it('keeps no process alive: one that starts a watcher exits at once', () => {
    const mod = join(import.meta.dirname, '..', '..', 'src', 'runner', 'spawn-piped.ts');
    const script = `import(${JSON.stringify(mod)}).then((m) => { m.spawnWatcher('sleep', ['30']); console.log('started'); })`;
    const t0 = Date.now();
    const r = execFileSync('npx', ['tsx', '-e', script], { encoding: 'utf8', env: process.env });
    expect(r.trim()).toBe('started');
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('a missing program is an error event', async () => {
    const w = spawnWatcher('no-such-program-tsb', []);
    await new Promise<void>((r) => w.on('error', r));
  });
});
