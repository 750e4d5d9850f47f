import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tar } from '../helpers/raw-tar.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

// BuildKit's tests in frontend/dockerfile/dockerfile_cache_test.go, dockerfile_export_test.go,
// dockerfile_resources_test.go, dockerfile_runsecurity_test.go and dockerfile_platform_test.go, with
// their Dockerfiles and expectations, each `it` named after its BuildKit test. busybox (and alpine)
// is the test registry's busybox; BuildKit's frontend attrs are the matching BuildOptions; a
// context tar that BuildKit uploads goes to `tsbuild build -` on stdin. A RUN's own test (`[ ... ]`)
// fails the build if wrong. Left out: testCgroupParent (no cgroup-parent option),
// testTarContextExternalDockerfile (its Dockerfile outside the tar and its `contextsubdir` are
// buildctl-only frontend attrs: docker build and buildx read `-f` inside a stdin archive), the
// hellofs/loop-device parts of testInsecureDevicesWhitelist (an image from Docker Hub, apk).

const newRoot = () => mkdtempSync(join(tmpdir(), 'tsb-e2e-misc-bk-'));
const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');

function cli(root: string, args: string[], input?: Buffer) {
  return spawnSync('node', [bin, ...args, '--root', root], {
    encoding: 'utf8',
    ...(input ? { input } : {}),
  });
}

/** testutil.ReadTarToMap: the entries of a tar by name, each with its content. */
function readTar(file: string): Map<string, string> {
  const names = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
  return new Map(names.map((n) => [n, execFileSync('tar', ['-xOf', file, n], { encoding: 'utf8' })]));
}

const tarDest = () => join(mkdtempSync(join(tmpdir(), 'tsb-e2e-misc-tar-')), 'out.tar');

describe('BuildKit dockerfile_cache_test.go', () => {
  it('testNoCache', async () => {
    const b = registryBase();
    const df = `FROM ${b} AS s0\nRUN cat /dev/urandom | head -c 100 | sha256sum | tee unique\nFROM ${b} AS s1\nRUN cat /dev/urandom | head -c 100 | sha256sum | tee unique2\nFROM scratch\nCOPY --from=s0 unique /\nCOPY --from=s1 unique2 /\n`;
    const root = newRoot();
    const ctx = makeContext({});
    const r1 = await buildIt(root, ctx, df);
    const r2 = await buildIt(root, ctx, df, { noCache: true });
    expect(read(r2.rootfs, 'unique')).not.toBe(read(r1.rootfs, 'unique'));
    expect(read(r2.rootfs, 'unique2')).not.toBe(read(r1.rootfs, 'unique2'));
    const r3 = await buildIt(root, ctx, df, { noCacheFilter: ['s1'] });
    expect(read(r3.rootfs, 'unique')).toBe(read(r2.rootfs, 'unique'));
    expect(read(r3.rootfs, 'unique2')).not.toBe(read(r1.rootfs, 'unique2'));
  });

  it('testCacheMountModeNoCache', async () => {
    const df = `FROM ${registryBase()} AS base\nARG FOO=abc\nRUN --mount=type=cache,target=/cache,mode=0773 touch /cache/$FOO && ls -l /cache | wc -l > /out\n\nFROM scratch\nCOPY --from=base /out /\n`;
    const root = newRoot();
    const ctx = makeContext({});
    expect(read((await buildIt(root, ctx, df)).rootfs, 'out')).toBe('2\n');
    // --no-cache starts the cache mount afresh too (moby/buildkit#5305)
    const r2 = await buildIt(root, ctx, df, { noCache: true, buildArgs: { FOO: 'def' } });
    expect(read(r2.rootfs, 'out')).toBe('2\n');
    const r3 = await buildIt(root, ctx, df, { buildArgs: { FOO: 'ghi' } });
    expect(read(r3.rootfs, 'out')).toBe('3\n');
  });

  it('testWildcardRenameCache', async () => {
    const df = `FROM ${registryBase()}\nCOPY file* /files/\nRUN ls /files/file1\n`;
    const root = newRoot();
    const ctx = makeContext({ file1: 'foo' });
    await buildIt(root, ctx, df);
    renameSync(join(ctx, 'file1'), join(ctx, 'file2'));
    // cache should be invalidated and build should fail
    await expect(buildIt(root, ctx, df)).rejects.toThrow(/file1/);
  });

  it('testCacheReleased', async () => {
    // checkAllReleasable: once the builds are done nothing holds the cache, so prune --all leaves none
    const root = newRoot();
    const ctx = makeContext({});
    const df = `FROM ${registryBase()}\n`;
    await buildIt(root, ctx, df);
    await buildIt(root, ctx, df);
    const prune = cli(root, ['prune', '--all']);
    expect(prune.stderr).toBe('');
    expect(prune.status).toBe(0);
    const du = cli(root, ['du', '--json']);
    expect(du.status).toBe(0);
    const usage = JSON.parse(du.stdout).usage as { kind: string; count: number; reclaimable: number }[];
    for (const kind of ['cache', 'cache-mounts', 'ingest'])
      expect(usage.find((u) => u.kind === kind)?.count, kind).toBe(0);
    for (const u of usage) expect(u.reclaimable, u.kind).toBe(0);
  });
});

describe('BuildKit dockerfile_export_test.go', () => {
  it('testTarExporterBasic', async () => {
    const dest = tarDest();
    await buildIt(newRoot(), makeContext({ foo: 'data' }), '\nFROM scratch\nCOPY foo foo\n', {
      outputs: [`type=tar,dest=${dest}`],
    });
    expect(readTar(dest).get('foo')).toBe('data');
  });

  // The single-platform half of testTarExporterMulti: tsbuild builds one platform per build (its
  // multi-platform half, `platform: linux/amd64,darwin/amd64`, is not supported; README).
  it('testTarExporterMulti (one platform)', async () => {
    const df =
      '\nFROM scratch AS stage-linux\nCOPY foo forlinux\n\nFROM scratch AS stage-darwin\nCOPY bar fordarwin\n\nFROM stage-$TARGETOS\n';
    const dest = tarDest();
    await buildIt(newRoot(), makeContext({ foo: 'data', bar: 'data2' }), df, {
      outputs: [`type=tar,dest=${dest}`],
    });
    expect(readTar(dest).get('forlinux')).toBe('data');
  });

  it('testTarContext', () => {
    const input = tar([
      { path: 'Dockerfile', body: '\nFROM scratch\nCOPY foo /', mode: 0o644 },
      { path: 'foo', body: 'contents', mode: 0o644 },
    ]);
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-misc-out-'));
    const r = cli(newRoot(), ['build', '--progress', 'plain', '-o', `type=local,dest=${out}`, '-'], input);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(readFileSync(join(out, 'foo'), 'utf8')).toBe('contents');
  });
});

describe('BuildKit dockerfile_resources_test.go', () => {
  it('testShmSize', async () => {
    const df = `FROM ${registryBase()} AS base\nRUN mount | grep /dev/shm > /shmsize\nFROM scratch\nCOPY --from=base /shmsize /\n`;
    const r = await buildIt(newRoot(), makeContext({}), df, { shmSize: 134217728 });
    expect(read(r.rootfs, 'shmsize')).toContain('size=131072k');
  });

  it('testUlimit', async () => {
    const df = `FROM ${registryBase()} AS base\nRUN ulimit -n > /ulimit\nFROM scratch\nCOPY --from=base /ulimit /\n`;
    const r = await buildIt(newRoot(), makeContext({}), df, {
      ulimits: [{ name: 'nofile', soft: 1062, hard: 1062 }],
    });
    expect(read(r.rootfs, 'ulimit').trim()).toBe('1062');
  });
});

// BuildKit runs these with the entitlement granted by the daemon and asked for by the client
// (securityInsecureGranted): here `allow: ['security.insecure']`; its denied mode has no daemon here.
describe('BuildKit dockerfile_runsecurity_test.go', () => {
  const CAPBND_DEFAULT = '[ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:\t00000000a80425fb" ]';

  // BuildKit's insecure mode grants the capabilities the builder holds (getAllCaps: cap.Current());
  // its test expects all 38 of a full root. A VM may withhold some (CAP_SYS_RESOURCE here), so the
  // step's bounding set is checked against this process's effective set instead.
  it('testRunSecurityInsecure', async () => {
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '';
    const df = `\nFROM ${registryBase()}\nRUN --security=insecure [ "$(cat /proc/self/status | grep CapBnd)" == "CapBnd:\t${eff}" ]\nRUN ${CAPBND_DEFAULT}\n`;
    await buildIt(newRoot(), makeContext({}), df, { allow: ['security.insecure'] });
  });

  it('testRunSecuritySandbox', async () => {
    const df = `\nFROM ${registryBase()}\nRUN --security=sandbox ${CAPBND_DEFAULT}\n`;
    await buildIt(newRoot(), makeContext({}), df);
  });

  it('testRunSecurityDefault', async () => {
    const df = `\nFROM ${registryBase()}\nRUN ${CAPBND_DEFAULT}\n`;
    await buildIt(newRoot(), makeContext({}), df, { allow: ['security.insecure'] });
  });

  it('testInsecureDevicesWhitelist (devices and dmesg only)', async () => {
    const df = `\nFROM ${registryBase()}\nRUN [ ! -e /dev/fuse ] && [ ! -e /dev/loop-control ]\nRUN --security=insecure [ -c /dev/fuse ] && [ -c /dev/loop-control ]\nRUN --security=insecure dmesg > /dev/null\n`;
    await buildIt(newRoot(), makeContext({}), df, { allow: ['security.insecure'] });
  });
});

describe('BuildKit dockerfile_platform_test.go', () => {
  it('testPlatformArgsImplicit', async () => {
    const df = `\nFROM scratch AS build-linux\nCOPY foo bar\nFROM build-\${TARGETOS}\nCOPY foo2 bar2\n`;
    const r = await buildIt(newRoot(), makeContext({ foo: 'd0', foo2: 'd1' }), df);
    expect(read(r.rootfs, 'bar')).toBe('d0');
    expect(read(r.rootfs, 'bar2')).toBe('d1');
  });

  it('testPlatformArgsExplicit', async () => {
    const df = `\nFROM --platform=$BUILDPLATFORM ${registryBase()} AS build\nARG TARGETPLATFORM\nARG TARGETOS\nRUN mkdir /out && echo -n $TARGETPLATFORM > /out/platform && echo -n $TARGETOS > /out/os\nFROM scratch\nCOPY --from=build out .\n`;
    const r = await buildIt(newRoot(), makeContext({}), df, {
      platform: 'darwin/ppc64le',
      buildArgs: { TARGETOS: 'freebsd' },
    });
    expect(read(r.rootfs, 'platform')).toBe('darwin/ppc64le');
    expect(read(r.rootfs, 'os')).toBe('freebsd');
  });
});
