import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { BUSYBOX_BASE, leftovers, makeContext, WatchProcess } from './watch-process.js';

let root: string;
const running: WatchProcess[] = [];
beforeAll(() => {
  requireRoot();
  requireBinary('runc');
  root = mkdtempSync(join(tmpdir(), 'tsb-watch-run-root-'));
});
afterEach(async () => {
  for (const w of running.splice(0)) await w.interrupt();
});

async function get(url: string): Promise<string | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}

async function waitBody(url: string, body: string, w: WatchProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | undefined;
  while (Date.now() < deadline) {
    last = await get(url);
    if (last === body) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `${url} never served ${JSON.stringify(body)} (last ${JSON.stringify(last)})\n${w.output()}`,
  );
}

const httpd = (port: number) =>
  `${BUSYBOX_BASE}COPY www /www\nCMD ["httpd", "-f", "-v", "-p", "127.0.0.1:${port}", "-h", "/www"]\n`;

describe('tsbuild watch --run', () => {
  it('serves the app, restarts it with the new content on each good build, keeps it on a bad one', async () => {
    const port = await freePort();
    const ctx = makeContext(httpd(port), { 'www/index.html': 'v1\n' });
    // Default stop timeout (10 s): httpd as PID 1 would ignore SIGTERM; the init forwards it.
    const w = new WatchProcess(['--root', root, '-t', 'web', '--run', ctx]);
    running.push(w);
    const url = `http://127.0.0.1:${port}/`;
    await waitBody(url, 'v1\n', w);
    const t0 = Date.now();
    writeFileSync(join(ctx, 'www', 'index.html'), 'v2\n');
    await waitBody(url, 'v2\n', w);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(w.stderr).toMatch(/web \| stopped/);
    expect(w.stdout).toMatch(/web \| .*response:200/);
    // A broken Dockerfile: the error shows, the last good app keeps serving.
    writeFileSync(join(ctx, 'Dockerfile'), `${httpd(port)}NOPE\n`);
    await w.waitFor((x) => /build failed/.test(x.stderr), 'the build error');
    expect(await get(url)).toBe('v2\n');
    expect(leftovers(root, [w.proc.pid as number]).containers).toHaveLength(1);
    const r = await w.interrupt();
    expect(r.code).toBe(130);
    expect(await get(url)).toBeUndefined();
    expect(leftovers(root, [w.proc.pid as number])).toEqual({ containers: [], mounts: [], bundles: [] });
  });

  it('runs the command given after --, with the image env and workdir, and restarts a shell loop', async () => {
    const ctx = makeContext(`${BUSYBOX_BASE}ENV GREETING=hi\nWORKDIR /srv\nCOPY msg /srv/msg\n`, {
      msg: 'm1',
    });
    const w = new WatchProcess([
      '--root',
      root,
      '--run',
      '--stop-timeout',
      '5',
      ctx,
      '--',
      'sh',
      '-c',
      'trap "echo bye; exit 0" TERM; while true; do echo "$GREETING $(pwd) $(cat msg)"; sleep 0.2; done',
    ]);
    running.push(w);
    await w.waitFor((x) => x.stdout.includes('app | hi /srv m1'), 'the first app output');
    writeFileSync(join(ctx, 'msg'), 'm2');
    await w.waitFor((x) => x.stdout.includes('app | hi /srv m2'), 'the restarted app output');
    // The StopSignal (SIGTERM) reached the app, which exited on its own before the timeout.
    expect(w.stdout).toContain('app | bye');
    expect(w.stderr).toMatch(/app \| stopped/);
  });

  it('Ctrl-C during a RUN with the app running leaves no containers, mounts or bundles', async () => {
    const port = await freePort();
    const ctx = makeContext(
      `${httpd(port).replace('COPY www', 'COPY mode /mode\nRUN if grep -q slow /mode; then sleep 60; fi\nCOPY www')}`,
      {
        'www/index.html': 'up\n',
        mode: 'fast',
      },
    );
    const w = new WatchProcess(['--root', root, '--run', ctx]);
    running.push(w);
    await waitBody(`http://127.0.0.1:${port}/`, 'up\n', w);
    writeFileSync(join(ctx, 'mode'), 'slow');
    await w.waitFor(
      () => leftovers(root, [w.proc.pid as number]).containers.length >= 2,
      'the RUN container next to the app',
    );
    const t0 = Date.now();
    const r = await w.interrupt();
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.code).toBe(130);
    expect(leftovers(root, [w.proc.pid as number])).toEqual({ containers: [], mounts: [], bundles: [] });
    // The app's writable snapshot went with it.
    const records = readdirSync(join(root, 'meta', 'snapshots')).map((f) =>
      readFileSync(join(root, 'meta', 'snapshots', f), 'utf8'),
    );
    expect(records.filter((t) => t.includes('watch-run-'))).toEqual([]);
  });

  it('--no-init: the app is PID 1 and a StopSignal it ignores ends in SIGKILL after --stop-timeout', async () => {
    const ctx = makeContext(
      `${BUSYBOX_BASE}COPY msg /msg\nCMD ["sh", "-c", "echo pid=$$ $(cat /msg); exec sleep 1000"]\n`,
      {
        msg: 'one',
      },
    );
    const w = new WatchProcess(['--root', root, '--run', '--no-init', '--stop-timeout', '1', ctx]);
    running.push(w);
    await w.waitFor((x) => x.stdout.includes('app | pid=1 one'), 'the app as PID 1');
    const t0 = Date.now();
    writeFileSync(join(ctx, 'msg'), 'two');
    await w.waitFor((x) => x.stdout.includes('app | pid=1 two'), 'the restarted app');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(w.stderr).toMatch(/app \| stopped/);
  });

  it('kill -9 of watch: the app container does not outlive it', async () => {
    const ctx = makeContext(`${BUSYBOX_BASE}CMD ["sh", "-c", "while true; do echo tick; sleep 0.2; done"]\n`);
    const w = new WatchProcess(['--root', root, '--run', ctx]);
    running.push(w);
    const pid = w.proc.pid as number;
    await w.waitFor((x) => x.stdout.includes('app | tick'), 'the app output');
    expect(leftovers(root, [pid]).containers).toHaveLength(1);
    w.proc.kill('SIGKILL');
    await w.exited;
    const deadline = Date.now() + 10_000;
    while (leftovers(root, [pid]).containers.length > 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(leftovers(root, [pid]).containers).toEqual([]);
  });
});
