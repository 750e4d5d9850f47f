import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunMountSpec, resolveRunMounts } from '../../src/runner/index.js';
import { type Fixture, listTree, makeFixture, mountsMentioning, sh } from './fixture.js';

let fx: Fixture;
fx = makeFixture();
afterAll(() => fx.cleanup());

const cache = (target: string, extra: Partial<RunMountSpec> = {}): RunMountSpec => ({
  type: 'cache',
  target,
  readOnly: false,
  ...extra,
});

/** resolve → run → release, as the solver does. */
async function withMounts(
  specs: RunMountSpec[],
  script: string,
  ctx: Record<string, unknown> = {},
  user?: string,
) {
  const m = await resolveRunMounts(specs, { root: fx.root, ...ctx });
  try {
    return await sh(fx, '', {
      mounts: m.mounts,
      process: { args: ['/bin/sh', '-c', script], env: m.env, user },
    });
  } finally {
    await m.release();
  }
}

describe('RUN --mount=type=cache', () => {
  it('persists per id across builds and never appears in the layer', async () => {
    const a = await withMounts([cache('/root/.cache')], 'echo one >> /root/.cache/log; cat /root/.cache/log');
    const b = await withMounts([cache('/root/.cache')], 'echo two >> /root/.cache/log; cat /root/.cache/log');
    expect(a.stdout).toBe('one\n');
    expect(b.stdout).toBe('one\ntwo\n');
    expect(listTree(a.upper)).toEqual([]);
    expect(listTree(b.upper)).toEqual([]);
    // another id is another dir; the same id at another target is the same dir
    const c = await withMounts([cache('/c', { id: 'other' })], 'ls /c | wc -l');
    expect(c.stdout.trim()).toBe('0');
    const d = await withMounts([cache('/x', { id: '/root/.cache' })], 'cat /x/log');
    expect(d.stdout).toBe('one\ntwo\n');
  });

  it('ids cannot escape cache-mounts/, and mode/uid/gid apply on creation', async () => {
    const r = await withMounts(
      [cache('/c', { id: '../../../../etc', mode: 0o700, uid: 1000, gid: 50 })],
      'stat -c "%a %u %g" /c; touch /c/ok',
      {},
      'app',
    );
    expect(r.stdout.trim()).toBe('700 1000 50');
    expect(r.exitCode).toBe(0);
    const dirs = readdirSync(join(fx.root, 'cache-mounts'));
    expect(dirs.every((d) => /^[0-9a-f]{64}/.test(d))).toBe(true);
  });

  it('from/source seed a new cache from a stage dir', async () => {
    const stage = join(fx.dir, 'stage');
    mkdirSync(join(stage, 'deps'), { recursive: true });
    writeFileSync(join(stage, 'deps/lock'), 'v1');
    const r = await withMounts(
      [cache('/deps', { id: 'seeded', from: 'build', source: '/deps' })],
      'cat /deps/lock',
      {
        resolveFrom: (f: string) => (f === 'build' ? stage : 'nope'),
      },
    );
    expect(r.stdout).toBe('v1');
  });

  it("uid/gid/mode make a cache of their own (BuildKit's id:ref key); with a source they are ignored", async () => {
    await withMounts([cache('/c', { id: 'keyed' })], 'touch /c/plain');
    const own = await withMounts([cache('/c', { id: 'keyed', mode: 0o700 })], 'stat -c "%a %u:%g" /c; ls /c');
    expect(own.stdout).toBe('700 0:0\n');
    const again = await withMounts([cache('/c', { id: 'keyed' })], 'stat -c "%a %u:%g" /c; ls /c');
    expect(again.stdout).toBe('755 0:0\nplain\n');
    const owner = await withMounts([cache('/c', { id: 'keyed', uid: 7, gid: 8 })], 'stat -c "%a %u:%g" /c');
    expect(owner.stdout).toBe('755 7:8\n');
    const withSource = await withMounts(
      [cache('/c', { id: 'keyed', source: '/sub', uid: 7 })],
      'stat -c "%u" /c',
    );
    expect(withSource.stdout).toBe('0\n');
  });

  it('a cache seeded from a stage keeps the source dir as it is and starts over when the stage changes', async () => {
    const stage = join(fx.dir, 'stage2');
    mkdirSync(join(stage, 'd'), { recursive: true, mode: 0o750 });
    chownSync(join(stage, 'd'), 5, 6);
    writeFileSync(join(stage, 'd/v'), 'v1');
    const spec = (identity: string) =>
      cache('/m', { id: 'fromstage', from: 's', fromIdentity: identity, source: '/d' });
    const ctx = { resolveFrom: () => stage };
    const a = await withMounts([spec('snap-1')], 'stat -c "%a %u:%g" /m; cat /m/v; touch /m/added', ctx);
    expect(a.stdout).toBe('750 5:6\nv1');
    writeFileSync(join(stage, 'd/v'), 'v2');
    const same = await withMounts([spec('snap-1')], 'ls /m', ctx);
    expect(same.stdout).toBe('added\nv\n');
    const changed = await withMounts([spec('snap-2')], 'cat /m/v; ls /m', ctx);
    expect(changed.stdout).toBe('v2v\n');
  });

  it('sharing=locked serializes users; sharing=private gives a concurrent user its own dir', async () => {
    const spec = cache('/l', { id: 'locked-one', sharing: 'locked' });
    const script = 'echo start $(date +%s%N) >> /l/log; sleep 0.4; echo end $(date +%s%N) >> /l/log';
    await Promise.all([withMounts([spec], script), withMounts([spec], script)]);
    const check = await withMounts([spec], 'cat /l/log');
    const ev = check.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(ev.map((e) => e[0])).toEqual(['start', 'end', 'start', 'end']);
    const p = cache('/p', { id: 'priv', sharing: 'private' });
    const [x, y] = await Promise.all([
      withMounts([p], 'echo $$ > /p/mine; sleep 0.4; ls /p | wc -l'),
      withMounts([p], 'sleep 0.1; echo $$ > /p/other; ls /p | wc -l'),
    ]);
    expect(x.stdout.trim()).toBe('1');
    expect(y.stdout.trim()).toBe('1');
  });
});

describe('RUN --mount=type=secret', () => {
  it('from a file: readable at /run/secrets/<id>, mode 0400, absent from the layer and from the host after', async () => {
    const src = join(fx.dir, 'token');
    writeFileSync(src, 's3cr3t-value');
    const m = await resolveRunMounts([{ type: 'secret', id: 'token', readOnly: true, required: true }], {
      root: fx.root,
      secrets: { token: { src } },
    });
    const hostCopy = m.mounts[0]!.source!;
    expect(hostCopy.startsWith('/dev/shm/')).toBe(true);
    const r = await sh(
      fx,
      'cat /run/secrets/token; echo; stat -c %a /run/secrets/token; echo x > /run/secrets/token || echo RO',
      {
        mounts: m.mounts,
      },
    );
    await m.release();
    expect(r.stdout).toContain('s3cr3t-value\n400\n');
    expect(r.stdout).toContain('RO');
    expect(listTree(r.upper)).toEqual([]);
    expect(existsSync(hostCopy)).toBe(false);
  });

  it('from an env var, exposed as env= and as a file at a custom target', async () => {
    const r = await withMounts(
      [{ type: 'secret', id: 'api', target: '/tmp/api', env: 'API_KEY', readOnly: true, required: true }],
      'echo "$API_KEY"; cat /tmp/api',
      { secrets: { api: { env: 'TSB_TEST_SECRET' } }, env: { TSB_TEST_SECRET: 'from-env' } },
    );
    expect(r.stdout).toBe('from-env\nfrom-env');
    expect(listTree(r.upper)).toEqual([]);
  });

  it('a secret source that is not a small regular file is refused', async () => {
    const big = join(fx.dir, 'big-secret');
    writeFileSync(big, Buffer.alloc(600 * 1024));
    for (const src of [big, fx.dir]) {
      await expect(
        resolveRunMounts([{ type: 'secret', id: 's', readOnly: true, required: true }], {
          root: fx.root,
          secrets: { s: { src } },
        }),
      ).rejects.toMatchObject({ code: 'RUNNER_SECRET_INVALID' });
    }
  });

  it('the secret dirs of builds killed with -9 are removed by the next one; live ones stay', async () => {
    const base = join(fx.dir, 'shm-sweep');
    mkdirSync(base);
    const dead = 2 ** 22 + 4321; // above pid_max: never alive
    const hex = 'a1b2c3d4e5f60718';
    const names = {
      dead: `tsbuild-secret-${dead}-${hex}`,
      deadSsh: `tsbuild-ssh-${dead}-${hex}`,
      live: `tsbuild-secret-${process.pid}-${hex}`,
      unownedFresh: `tsbuild-secret-${hex}`,
      unownedOld: `tsbuild-ssh-${hex.replace('a', 'b')}`,
      other: 'someone-else',
    };
    for (const n of Object.values(names)) mkdirSync(join(base, n));
    writeFileSync(join(base, names.dead, 'secret'), 'leaked');
    utimesSync(join(base, names.unownedOld), new Date(0), new Date(0));
    const src = join(fx.dir, 'sweep-token');
    writeFileSync(src, 'x');
    const m = await resolveRunMounts([{ type: 'secret', id: 't', readOnly: true, required: true }], {
      root: fx.root,
      secrets: { t: { src } },
      secretsDir: base,
    });
    const left = readdirSync(base);
    await m.release();
    expect(left.sort()).toEqual(
      [names.live, names.unownedFresh, names.other, m.mounts[0]!.source!.split('/').at(-2)!].sort(),
    );
    expect(m.mounts[0]!.source).toMatch(new RegExp(`/tsbuild-secret-${process.pid}-[0-9a-f]{16}/secret$`));
  });

  it('a missing required secret is an error; an optional one is skipped', async () => {
    await expect(
      resolveRunMounts([{ type: 'secret', id: 'nope', readOnly: true, required: true }], { root: fx.root }),
    ).rejects.toMatchObject({ code: 'RUNNER_SECRET_MISSING' });
    const m = await resolveRunMounts([{ type: 'secret', id: 'nope', readOnly: true, required: false }], {
      root: fx.root,
    });
    expect(m.mounts).toEqual([]);
  });
});

describe('RUN --mount=type=bind', () => {
  it('from the context, read-only by default; rw writes are thrown away; sources stay inside', async () => {
    const ctx = join(fx.dir, 'context');
    mkdirSync(join(ctx, 'src'), { recursive: true });
    writeFileSync(join(ctx, 'src/a.txt'), 'A');
    symlinkSync('../../../../../../etc', join(ctx, 'evil'));
    const ro = await withMounts(
      [{ type: 'bind', target: '/src', source: 'src', readOnly: true }],
      'cat /src/a.txt; touch /src/b || echo RO',
      {
        contextDir: ctx,
      },
    );
    expect(ro.stdout).toBe('AtouchRO\n'.replace('touch', ''));
    const rw = await withMounts(
      [{ type: 'bind', target: '/src', source: 'src', readOnly: false }],
      'echo B > /src/b; echo Z > /src/a.txt; cat /src/b',
      {
        contextDir: ctx,
      },
    );
    expect(rw.stdout).toBe('B\n');
    expect(readdirSync(join(ctx, 'src'))).toEqual(['a.txt']);
    expect(readFileSync(join(ctx, 'src/a.txt'), 'utf8')).toBe('A');
    expect(listTree(rw.upper)).toEqual([]);
    // ../ and symlinks resolve inside the context: `evil` → <ctx>/etc, which does not exist
    await expect(
      resolveRunMounts([{ type: 'bind', target: '/e', source: 'evil/passwd', readOnly: true }], {
        root: fx.root,
        contextDir: ctx,
      }),
    ).rejects.toMatchObject({ code: 'RUNNER_MOUNT_SOURCE' });
    await expect(
      resolveRunMounts([{ type: 'bind', target: '/e', source: '../../../../etc/passwd', readOnly: true }], {
        root: fx.root,
        contextDir: ctx,
      }),
    ).rejects.toMatchObject({ code: 'RUNNER_MOUNT_SOURCE' });
    expect(mountsMentioning(fx.dir)).toEqual([]);
  });
});

describe('RUN --mount=type=bind,from=<stage>', () => {
  it('binds a path of the stage’s root, read-only, resolved inside it', async () => {
    const stage = join(fx.dir, 'stage-root');
    mkdirSync(join(stage, 'out'), { recursive: true });
    writeFileSync(join(stage, 'out/app'), 'built');
    symlinkSync('/out', join(stage, 'link'));
    const r = await withMounts(
      [{ type: 'bind', from: 'builder', source: '/link/app', target: '/app', readOnly: true }],
      'cat /app; echo x >> /app 2>/dev/null || echo RO',
      { resolveFrom: (f: string) => (f === 'builder' ? stage : '/nonexistent') },
    );
    expect(r.stdout).toBe('builtRO\n');
    expect(listTree(r.upper)).toEqual([]);
  });
});

describe('RUN --mount=type=tmpfs and type=ssh', () => {
  it('tmpfs with a size limit, gone afterwards', async () => {
    const r = await withMounts(
      [{ type: 'tmpfs', target: '/scratch', size: 1024 * 1024, readOnly: false }],
      'df -k /scratch | tail -1 | awk "{print \\$2}"; head -c 2000000 /dev/zero > /scratch/big || echo FULL',
    );
    expect(r.stdout).toBe('1024\nFULL\n');
    expect(listTree(r.upper)).toEqual([]);
  });

  it('ssh forwards the agent socket and sets SSH_AUTH_SOCK', async () => {
    const sock = join(fx.dir, 'agent.sock');
    const server: Server = createServer((c) => c.end('agent-hello'));
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const r = await withMounts(
        [{ type: 'ssh', readOnly: false, required: true }],
        'echo $SSH_AUTH_SOCK; test -S $SSH_AUTH_SOCK && echo SOCK',
        {
          env: { SSH_AUTH_SOCK: sock },
        },
      );
      expect(r.stdout).toBe('/run/buildkit/ssh_agent.0\nSOCK\n');
      expect(listTree(r.upper)).toEqual([]);
    } finally {
      server.close();
    }
    await expect(
      resolveRunMounts([{ type: 'ssh', readOnly: false, required: true }], { root: fx.root, env: {} }),
    ).rejects.toMatchObject({
      code: 'RUNNER_SSH_MISSING',
    });
  });

  it('ssh serves a socket of its own with the mount’s uid, gid and mode, forwarding to the agent', async () => {
    const sock = join(fx.dir, 'agent2.sock');
    // A stand-in agent that answers any request with a 1-byte frame of its own (0xAA).
    const server: Server = createServer((c) => c.on('data', () => c.write(Buffer.from([0, 0, 0, 1, 0xaa]))));
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      const spec = { type: 'ssh' as const, readOnly: false, required: true };
      const r = await withMounts(
        [{ ...spec, uid: 1000, gid: 1001, mode: 0o660 }],
        'stat -c "%a %u:%g %F" $SSH_AUTH_SOCK',
        { env: { SSH_AUTH_SOCK: sock } },
      );
      expect(r.stdout).toBe('660 1000:1001 socket\n');
      const dflt = await withMounts([spec], 'stat -c "%a %u:%g" $SSH_AUTH_SOCK', {
        env: { SSH_AUTH_SOCK: sock },
      });
      expect(dflt.stdout).toBe('600 0:0\n');
      // A request the step's socket receives reaches the agent (REQUEST_IDENTITIES), one that would
      // change it does not (REMOVE_ALL_IDENTITIES: SSH_AGENT_FAILURE); release() removes the socket.
      const m = await resolveRunMounts([spec], { root: fx.root, env: { SSH_AUTH_SOCK: sock } });
      const path = m.mounts[0]!.source!;
      expect(path).not.toBe(sock);
      const ask = (type: number) =>
        new Promise<string>((resolve, reject) => {
          const c = createConnection(path, () => c.write(Buffer.from([0, 0, 0, 1, type])));
          c.on('data', (d) => {
            resolve(d.toString('hex'));
            c.end();
          });
          c.on('error', reject);
        });
      expect(await ask(11)).toBe('00000001aa');
      expect(await ask(19)).toBe('0000000105');
      await m.release();
      expect(existsSync(path)).toBe(false);
    } finally {
      server.close();
    }
  });
});
