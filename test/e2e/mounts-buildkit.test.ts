import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

// BuildKit's RUN --mount tests (frontend/dockerfile/dockerfile_mount_test.go) with their
// Dockerfiles; busybox is the test registry's. A RUN's own test (`[ ... ]`) fails the build if wrong.
const BUILDS: { name: string; dockerfile: (base: string) => string; files: Record<string, string> }[] = [
  {
    name: 'testMountContext',
    dockerfile: (BASE: string) =>
      `FROM ${BASE}\nRUN --mount=target=/context [ "$(cat /context/testfile)" == "contents0" ]\n`,
    files: { testfile: 'contents0' },
  },
  {
    name: 'testMountTmpfs',
    dockerfile: (BASE: string) =>
      `FROM ${BASE}\nRUN --mount=target=/mytmp,type=tmpfs touch /mytmp/foo\nRUN [ ! -f /mytmp/foo ]\n`,
    files: {},
  },
  {
    name: 'testCacheMountUser',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      '\nRUN --mount=type=cache,target=/mycache,uid=1001,gid=1002,mode=0751 [ "$(stat -c "%u %g %f" /mycache)" == "1001 1002 41e9" ]\n',
    files: {},
  },
  {
    name: 'testCacheMountDefaultID',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      '\nRUN --mount=type=cache,target=/mycache touch /mycache/foo\nRUN --mount=type=cache,target=/mycache2 [ ! -f /mycache2/foo ]\nRUN --mount=type=cache,target=/mycache [ -f /mycache/foo ]\n',
    files: {},
  },
  {
    name: 'testMountEnvVar',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      '\nENV SOME_PATH=/mycache\nRUN --mount=type=cache,target=/mycache touch /mycache/foo\nRUN --mount=type=cache,target=$SOME_PATH [ -f $SOME_PATH/foo ]\n',
    files: {},
  },
  {
    name: 'testMountArg',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      '\nARG MNT_TYPE=cache\nRUN --mount=type=$MNT_TYPE,target=/mycache2 touch /mycache2/foo\nRUN --mount=type=cache,target=/mycache2 [ -f /mycache2/foo ]\n',
    files: {},
  },
  {
    name: 'testMountEnvAcrossStages',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      ' as stage1\n\nENV MNT_ID=mycache\nENV MNT_TYPE2=cache\nRUN --mount=type=cache,id=mycache,target=/abcabc touch /abcabc/foo\nRUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/cbacba [ -f /cbacba/foo ]\n\nFROM stage1\nRUN --mount=type=$MNT_TYPE2,id=$MNT_ID,target=/whatever [ -f /whatever/foo ]\n',
    files: {},
  },
  {
    name: 'testMountMetaArg',
    dockerfile: (BASE: string) =>
      'ARG META_PATH=/tmp/meta\n\nFROM ' +
      BASE +
      '\nARG META_PATH\nRUN --mount=type=cache,id=mycache,target=/tmp/meta touch /tmp/meta/foo\nRUN --mount=type=cache,id=mycache,target=$META_PATH [ -f /tmp/meta/foo ]\n',
    files: {},
  },
];

const REFUSED: { name: string; dockerfile: (base: string) => string; error: string }[] = [
  {
    name: 'invalid1',
    dockerfile: (_BASE: string) => 'FROM scratch\nRUN --mont=target=/mytmp,type=tmpfs /bin/true\n',
    error: 'unknown flag: mont (did you mean mount?)',
  },
  {
    name: 'invalid2',
    dockerfile: (_BASE: string) => '\tFROM scratch\n\tRUN --mount=typ=tmpfs /bin/true\n\t',
    error: "unexpected key 'typ' in 'typ=tmpfs' (did you mean type?)",
  },
  {
    name: 'invalid3',
    dockerfile: (_BASE: string) => '\tFROM scratch\n\tRUN --mount=type=tmp /bin/true\n\t',
    error: 'unsupported mount type "tmp" (did you mean tmpfs?)',
  },
  {
    name: 'fromerror',
    dockerfile: (BASE: string) =>
      'FROM ' +
      BASE +
      ' as test\nRUN touch /tmp/test\n\nFROM ' +
      BASE +
      '\nENV ttt=test\nRUN --mount=from=$ttt,type=cache,target=/tmp ls\n',
    error: "'from' doesn't support variable expansion, define alias stage instead",
  },
];

const root = () => mkdtempSync(join(tmpdir(), 'tsb-e2e-mount-bk-'));

describe('RUN --mount: BuildKit dockerfile_mount_test.go', () => {
  for (const c of BUILDS)
    it(c.name, async () => {
      await buildIt(root(), makeContext(c.files), c.dockerfile(registryBase()));
    });

  for (const c of REFUSED)
    it(`testMountInvalid / testMountFromError: ${c.name}`, async () => {
      await expect(buildIt(root(), makeContext({}), c.dockerfile(registryBase()))).rejects.toThrow(c.error);
    });

  it('testMountTmpfsSize', async () => {
    const df = `FROM ${registryBase()} AS base\nRUN --mount=type=tmpfs,target=/dev/shm,size=128m mount | grep /dev/shm > /tmpfssize\nFROM scratch\nCOPY --from=base /tmpfssize /\n`;
    const r = await buildIt(root(), makeContext({}), df);
    expect(readFileSync(join(r.rootfs, 'tmpfssize'), 'utf8')).toContain('size=131072k');
  });

  it('testMountDuplicate: a bind of the context and of a file in it follow the context', async () => {
    const dir = root();
    const df =
      'FROM ' +
      registryBase() +
      ' AS base\nRUN --mount=source=.,target=/tmp/test \\\n  --mount=source=b.txt,target=/tmp/b.txt \\\n  cat /tmp/test/a.txt /tmp/b.txt > /combined.txt\nFROM scratch\nCOPY --from=base /combined.txt /\n';
    for (const text of ['foo\n', 'updated\n']) {
      const r = await buildIt(dir, makeContext({ 'a.txt': text, 'b.txt': 'bar\n' }), df);
      expect(readFileSync(join(r.rootfs, 'combined.txt'), 'utf8')).toBe(`${text}bar\n`);
    }
  });

  it('testMountRWCache: an rw bind of a stage that makes the same files keeps the RUN cached', async () => {
    const dir = root();
    const df =
      'from ' +
      registryBase() +
      ' AS build\ncopy cachebust /\nrun mkdir out && echo foo > out/foo\n\nfrom ' +
      registryBase() +
      ' as second\nRUN --mount=from=build,src=out,target=/out,rw touch /out/bar && cat /dev/urandom | head -c 100 | sha256sum > /unique\n\nfrom scratch\nCOPY --from=second /unique /unique\n';
    const ctx = makeContext({ cachebust: '0' });
    const first = await buildIt(dir, ctx, df);
    writeFileSync(join(ctx, 'cachebust'), '1');
    const second = await buildIt(dir, ctx, df);
    expect(readFileSync(join(second.rootfs, 'unique'), 'utf8')).toBe(
      readFileSync(join(first.rootfs, 'unique'), 'utf8'),
    );
  });
});
