import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from '../../src/build.js';
import type { ProgressEvent } from '../../src/progress/index.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('runc');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-cli-root-'));

/** `tsbuild build` as a user runs it (the CLI from dist/), without blocking the event loop. */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const p = spawn('node', [bin, 'build', '--root', root, '--progress', 'plain', ...args]);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b) => (stdout += b));
    p.stderr.on('data', (b) => (stderr += b));
    p.on('error', rej);
    p.on('close', (status) => res({ status, stdout, stderr }));
  });
}

/** FROM scratch with busybox as /bin/sh: no /etc/passwd in the rootfs. */
function scratchContext(dockerfile: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-e2e-cli-ctx-'));
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM scratch\nCOPY busybox /bin/sh\nCOPY busybox /bin/busybox\n${dockerfile}`,
  );
  return dir;
}

describe('tsbuild build: failures and limits through the CLI', () => {
  it('a failed RUN names the Dockerfile line with the lines around it, the command, exit code, output', async () => {
    const ctx = scratchContext('RUN echo ok\nRUN echo first-out; echo last-out; exit 7\nRUN echo after\n');
    const r = await cli(ctx);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('exit code: 7');
    expect(r.stderr).toContain('/bin/sh -c echo first-out; echo last-out; exit 7');
    expect(r.stderr).toMatch(/> last-out/);
    expect(r.stderr).toContain('Dockerfile:5\n');
    expect(r.stderr).toMatch(
      / {3}4 \| {5}RUN echo ok\n {3}5 \| >>> RUN echo first-out.*\n {3}6 \| {5}RUN echo after/,
    );
    expect(r.stderr).toContain('[RUN_FAILED]');
  });

  it('a COPY that fails (a source missing, a file onto a directory) names its step and Dockerfile line', async () => {
    const ctx = scratchContext('RUN busybox mkdir -p /t/x\nCOPY gone /t/\n');
    writeFileSync(join(ctx, 'x'), 'x');
    const missing = await cli(ctx);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/#\d+ \[4\/4\] COPY gone \/t\/\n#\d+ ERROR: failed to compute cache key/);
    expect(missing.stderr).toContain(
      'error: [4/4] COPY gone /t/: failed to compute cache key: "/gone": not found',
    );
    expect(missing.stderr).toMatch(/Dockerfile:5\n-+\n(.*\n)* {3}5 \| >>> COPY gone \/t\//);
    writeFileSync(
      join(ctx, 'Dockerfile'),
      readFileSync(join(ctx, 'Dockerfile'), 'utf8').replace('gone', 'x'),
    );
    const onto = await cli(ctx);
    expect(onto.status).toBe(1);
    expect(onto.stderr).toContain('error: [4/4] COPY x /t/: cannot replace to directory');
    expect(onto.stderr).toMatch(/ {3}5 \| >>> COPY x \/t\//);
  });

  it('RUN without USER on FROM scratch (no /etc/passwd) runs as uid 0 / gid 0', async () => {
    const ctx = scratchContext('RUN [ "$(busybox id -u):$(busybox id -g)" = 0:0 ] && echo ids-ok\n');
    const r = await cli(ctx);
    expect(r.stderr).toContain('ids-ok');
    expect(r.status).toBe(0);
  });

  it('--memory OOM-kills a step and says so; --pids-limit and --cpus reach the step', async () => {
    const hog = scratchContext(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
      'RUN x=$(busybox head -c 300000000 /dev/zero | busybox tr "\\0" a); echo ${#x}\n',
    );
    const oom = await cli('--memory', '64m', hog);
    expect(oom.status).toBe(1);
    expect(oom.stderr).toContain('out of memory');
    expect(oom.stderr).toContain('[RUN_OOM_KILLED]');
    expect(oom.stderr).toContain('Dockerfile:4');
    // Without the limit the same step succeeds: it is the flag that killed it.
    const free = await cli(hog);
    expect(free.stderr).toContain('300000000');
    expect(free.status).toBe(0);

    // 40 background sleeps cannot start under 20 pids.
    const forks = scratchContext(
      'RUN i=0; while [ $i -lt 40 ]; do busybox sleep 5 & i=$((i+1)); done; echo forked-all\n',
    );
    const pids = await cli('--pids-limit', '20', '--cpus', '0.5', forks);
    expect(pids.status).toBe(1);
    expect(pids.stderr).toContain("can't fork");
    const bad = await cli('--memory', 'lots', forks);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--memory lots/);
  });
});

describe('docker build flags for every RUN: --add-host, --ulimit, --shm-size', () => {
  const show =
    'RUN busybox cat /etc/hosts; echo "nofile $(ulimit -Sn):$(ulimit -Hn) core $(ulimit -c)"; ' +
    'busybox df -k /dev/shm | busybox tail -1; echo stamp $RANDOM$RANDOM\n';

  it('reach the step; they are part of its cache key; --rm / --force-rm are accepted and ignored', async () => {
    const ctx = scratchContext(show);
    const flags = ['--add-host', 'db:10.1.2.3', '--add-host', 'v6=[fd00::1]', '--ulimit', 'nofile=1000:2000'];
    const a = await cli(...flags, '--ulimit', 'core=-1', '--shm-size', '128m', '--rm', '--force-rm', ctx);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/10\.1\.2\.3\tdb\n/);
    expect(a.stderr).toMatch(/fd00::1\tv6\n/);
    expect(a.stderr).toContain('nofile 1000:2000 core unlimited');
    expect(a.stderr).toMatch(/shm +131072 /);
    const stamp = /stamp (\d+)/.exec(a.stderr)?.[1];
    expect(stamp).toBeDefined();
    // The same flags: cached. A host's new address: cached too (BuildKit's execOp.CacheMap keys
    // the host names only). Another host name: the step runs again.
    const same = await cli(...flags, '--ulimit', 'core=-1', '--shm-size', '128m', ctx);
    expect(same.stderr).toMatch(/RUN busybox cat .*\n#\d+ CACHED/);
    const moved = flags.map((f) => (f === 'db:10.1.2.3' ? 'db:10.9.9.9' : f));
    const movedRun = await cli(...moved, '--ulimit', 'core=-1', '--shm-size', '128m', ctx);
    expect(movedRun.stderr).toMatch(/RUN busybox cat .*\n#\d+ CACHED/);
    const other = await cli('--add-host', 'db2:10.9.9.9', ctx);
    expect(other.status).toBe(0);
    expect(other.stderr).toMatch(/10\.9\.9\.9\tdb2\n/);
    expect(other.stderr).toMatch(/shm +65536 /);
    expect(/stamp (\d+)/.exec(other.stderr)?.[1]).not.toBe(stamp);
  });

  it('--cache-from / --cache-to of a backend tsbuild has not are taken with a warning each (test/e2e/cache-io: the others)', async () => {
    const ctx = scratchContext('RUN echo cached-or-not\n');
    const r = await cli('--cache-from', 'type=gha,scope=x', '--cache-to', 'type=s3,region=x', ctx);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'WARNING: --cache-from type=gha,scope=x: this cache backend is not supported, ignored',
    );
    expect(r.stderr).toContain(
      'WARNING: --cache-to type=s3,region=x: this cache backend is not supported, ignored',
    );
    // An inline cache is one tsbuild has (test/e2e/inline-cache); there is no inline source.
    const inline = await cli('--cache-from', 'type=inline', '--cache-to', 'type=inline', ctx);
    expect(inline.status, inline.stderr).toBe(0);
    expect(inline.stderr).toContain('WARNING: --cache-from type=inline: this cache backend is not supported');
    expect(inline.stderr).not.toContain('WARNING: --cache-to type=inline');
  });

  it('proxy build args reach the step but not its cache key, as in BuildKit', async () => {
    const ctx = scratchContext('RUN echo "proxy $HTTP_PROXY $https_proxy"; echo stamp $RANDOM$RANDOM\n');
    const a = await cli('--build-arg', 'HTTP_PROXY=http://a:1', '--build-arg', 'https_proxy=http://s:2', ctx);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stderr).toContain('proxy http://a:1 http://s:2');
    const b = await cli('--build-arg', 'HTTP_PROXY=http://b:3', ctx);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/RUN echo .*\n#\d+ CACHED/);
    // An ordinary undeclared build arg does not bust it either; a declared one would.
    const c = await cli('--no-cache', '--build-arg', 'HTTP_PROXY=http://c:4', ctx);
    expect(c.stderr).toContain('proxy http://c:4 ');
    expect(/stamp (\d+)/.exec(c.stderr)?.[1]).not.toBe(/stamp (\d+)/.exec(a.stderr)?.[1]);
  });

  it('refuse malformed values with the flag named', async () => {
    const ctx = scratchContext('RUN true\n');
    for (const [flag, value, msg] of [
      ['--add-host', 'nocolon', /invalid --add-host "nocolon"/],
      ['--add-host', 'h:999.1.1.1', /invalid --add-host/],
      ['--add-host', 'h:host-gateway', /host-gateway/],
      ['--ulimit', 'nofile=2000:1000', /soft limit 2000 is greater than hard limit 1000/],
      ['--ulimit', 'bogus=1', /unknown limit bogus/],
      ['--shm-size', 'big', /--shm-size big/],
    ] as const) {
      const r = await cli(flag, value, ctx);
      expect(r.status, `${flag} ${value}`).not.toBe(0);
      expect(r.stderr).toMatch(msg);
    }
  });
});

describe('the build context path', () => {
  it('a symlink to the context dir is followed, as docker/cli resolves it (EvalSymlinks)', async () => {
    const ctx = scratchContext('COPY . /c/\nRUN busybox ls /c > /ls\n');
    writeFileSync(join(ctx, 'data.txt'), 'd');
    const link = join(mkdtempSync(join(tmpdir(), 'tsb-e2e-ctx-link-')), 'ctx');
    symlinkSync(ctx, link);
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-ctx-link-out-'));
    const r = await cli('-o', `type=local,dest=${out}`, link);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(out, 'c', 'data.txt'), 'utf8')).toBe('d');
    expect(readFileSync(join(out, 'ls'), 'utf8')).toContain('data.txt');
  });
});

describe('tsbuild watch takes the same limits', () => {
  it('watch --pids-limit applies to the build; the failure shows the Dockerfile line', async () => {
    const ctx = scratchContext('RUN i=0; while [ $i -lt 40 ]; do busybox sleep 5 & i=$((i+1)); done\n');
    const p = spawn('node', [bin, 'watch', '--root', root, '--progress', 'plain', '--pids-limit', '20', ctx]);
    let stderr = '';
    const failed = new Promise<void>((res) => {
      p.stderr.on('data', (b) => {
        stderr += b;
        if (/still watching/.test(stderr) && /-{20}\n[\s\S]*-{20}/.test(stderr)) res();
      });
    });
    const closed = new Promise((res) => p.on('close', res));
    await Promise.race([failed, closed, new Promise((r) => setTimeout(r, 30_000))]);
    p.kill('SIGTERM');
    await closed;
    expect(stderr).toContain("can't fork");
    expect(stderr).toContain('Dockerfile:4');
    expect(stderr).toContain('[RUN_FAILED]');
  });
});

describe('the copy snapshotter fallback', () => {
  it('a build on the copy snapshotter says so in its progress (event and plain line)', async () => {
    const ctx = scratchContext('RUN echo copy-ok > /f\n');
    const events: ProgressEvent[] = [];
    const copyRoot = mkdtempSync(join(tmpdir(), 'tsb-e2e-copy-root-'));
    const r = await build({
      root: copyRoot,
      context: ctx,
      snapshotter: 'copy',
      progress: { emit: (e) => events.push(e) },
    });
    expect(r.stepsRun).toBe(3);
    const warnings = events
      .filter((e) => e.type === 'warning')
      .map((e) => (e as { message: string }).message);
    expect(warnings.some((m) => /copy snapshotter/.test(m))).toBe(true);
    // overlay (this host has it): no such warning
    const overlay: ProgressEvent[] = [];
    await build({ root, context: ctx, progress: { emit: (e) => overlay.push(e) } });
    expect(overlay.some((e) => e.type === 'warning' && /copy snapshotter/.test(e.message))).toBe(false);
  });
});

describe('tsbuild build --insecure-registry', () => {
  let reg: TestRegistry;
  afterAll(async () => {
    await reg?.stop();
  });

  it('reaches a plain-HTTP registry on a non-loopback address only when named', async () => {
    const ip = (await import('node:os')).networkInterfaces();
    const addr = Object.values(ip)
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    expect(addr, 'a non-loopback IPv4 address').toBeTruthy();
    reg = await startRegistry({ listen: addr as string });
    const base = pushBusyboxImage(reg, 'library/busybox:latest').ref;
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-cli-ctx-'));
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base}\nRUN echo from-insecure\n`);
    const refused = await cli('--pull', ctx);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('--insecure-registry');
    const ok = await cli('--pull', '--insecure-registry', reg.host, '-t', `${reg.host}/app:1`, '--push', ctx);
    expect(ok.stderr).toContain('from-insecure');
    expect(ok.status).toBe(0);
    // --push next to an archive output pushes as well (buildx adds an image output), never silently not
    const oci = join(mkdtempSync(join(tmpdir(), 'tsb-e2e-cli-out-')), 'img.tar');
    const both = await cli(
      '--insecure-registry',
      reg.host,
      '-t',
      `${reg.host}/app:2`,
      '--push',
      '-o',
      `type=oci,dest=${oci}`,
      ctx,
    );
    expect(both.stderr).not.toContain('ERROR');
    expect(both.status).toBe(0);
    const pushed = JSON.parse(
      execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/app:2`], {
        encoding: 'utf8',
      }),
    );
    const archived = JSON.parse(
      execFileSync('skopeo', ['inspect', `oci-archive:${oci}`], { encoding: 'utf8' }),
    );
    expect(pushed.Digest).toBe(archived.Digest);
  });
});
