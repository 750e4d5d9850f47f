import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveUser, resolveUserFromFiles } from '../../src/runner/index.js';
import { secureJoin } from '../../src/runner/secure-join.js';

const temps: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const passwd = 'root:x:0:0:root:/root:/bin/sh\nbob:x:1001:1002:Bob:/home/bob:/bin/sh\n# comment\nbad line\n';
const group = 'root:x:0:\nbob:x:1002:\nwheel:x:10:bob,alice\ndocker:x:999:bob\nother:x:20:alice\n';

describe('resolveUserFromFiles (Docker / runc GetExecUser semantics)', () => {
  it('name: primary gid from passwd, supplementary groups that list the user (not the primary)', () => {
    expect(resolveUserFromFiles('bob', passwd, group)).toEqual({
      uid: 1001,
      gid: 1002,
      additionalGids: [10, 999],
      home: '/home/bob',
    });
  });
  it('an explicit group means no supplementary groups; names and ids both work', () => {
    expect(resolveUserFromFiles('bob:wheel', passwd, group)).toMatchObject({ gid: 10, additionalGids: [] });
    expect(resolveUserFromFiles('1001', passwd, group).additionalGids).toEqual([10, 999]);
    expect(resolveUserFromFiles('1001:20', passwd, group)).toMatchObject({ uid: 1001, gid: 20 });
  });
  it('numeric ids pass through without entries; names without entries fail', () => {
    expect(resolveUserFromFiles('5000', '', '')).toEqual({
      uid: 5000,
      gid: 0,
      additionalGids: [],
      home: '/',
    });
    expect(() => resolveUserFromFiles('alice', passwd, group)).toThrow(/unable to find user alice/);
    expect(() => resolveUserFromFiles('bob:nope', passwd, group)).toThrow(/unable to find group nope/);
  });
  it("no USER is uid 0 / gid 0 without /etc/passwd (FROM scratch), root's entry when there is one", () => {
    expect(resolveUserFromFiles('', '', '')).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/' });
    expect(resolveUser(tempDir('tsb-user-empty-'), undefined)).toMatchObject({ uid: 0, gid: 0 });
    expect(resolveUserFromFiles('', passwd, group)).toEqual({
      uid: 0,
      gid: 0,
      additionalGids: [],
      home: '/root',
    });
    // a named root still needs its entry, as in Docker
    expect(() => resolveUserFromFiles('root', '', '')).toThrow(/unable to find user root/);
  });
  it('reads the rootfs files through symlinks without leaving the root', () => {
    const root = tempDir('tsb-user-');
    mkdirSync(join(root, 'real'));
    writeFileSync(join(root, 'real/passwd'), passwd);
    symlinkSync('/real', join(root, 'etc'));
    expect(resolveUser(root, 'bob').uid).toBe(1001);
    const evil = tempDir('tsb-user-');
    mkdirSync(join(evil, 'etc'));
    symlinkSync('../../../../../etc/passwd', join(evil, 'etc/passwd'));
    // resolves to <evil>/etc/passwd → missing, not the host's passwd (which has root)
    expect(() => resolveUser(evil, 'root')).toThrow(/unable to find user root/);
  });
});

describe('secureJoin', () => {
  it('clamps .. and absolute symlinks to the root', () => {
    const root = tempDir('tsb-sj-');
    mkdirSync(join(root, 'a'));
    symlinkSync('/../../..', join(root, 'a/up'));
    symlinkSync('../../../../tmp', join(root, 'rel'));
    expect(secureJoin(root, '../../etc/passwd')).toBe(join(root, 'etc/passwd'));
    expect(secureJoin(root, '/a/up/etc')).toBe(join(root, 'etc'));
    expect(secureJoin(root, 'rel/x')).toBe(join(root, 'tmp/x'));
  });
  it('detects symlink loops', () => {
    const root = tempDir('tsb-sj-');
    symlinkSync('/loop', join(root, 'loop'));
    expect(() => secureJoin(root, '/loop/x')).toThrow(/too many symlinks/);
  });
});
