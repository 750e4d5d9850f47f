import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveChown } from '../../src/solver/ops/chown.js';

const root = mkdtempSync(join(tmpdir(), 'tsb-chown-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'etc'));
writeFileSync(
  join(root, 'etc/passwd'),
  'root:x:0:0:root:/root:/bin/sh\nbob:x:1001:50::/:/bin/sh\ncarol:x:1002:1002::/:/bin/sh\n',
);
writeFileSync(join(root, 'etc/group'), 'root:x:0:\nstaff:x:50:\ncarol:x:1003:\n');

// Expected owners as BuildKit (dockerd 20.10) gave them for the same /etc files.
describe('COPY --chown resolution (BuildKit)', () => {
  it('a named user without a group gets its primary gid, not its uid nor a same-named group', () => {
    expect(resolveChown(root, 'bob')).toEqual({ uid: 1001, gid: 50 });
    expect(resolveChown(root, 'carol')).toEqual({ uid: 1002, gid: 1002 });
  });

  it('a numeric user without a group gets gid = uid, even when passwd lists another', () => {
    expect(resolveChown(root, '1001')).toEqual({ uid: 1001, gid: 1001 });
  });

  it('an empty user is root; an explicit group wins by name or number', () => {
    expect(resolveChown(root, ':staff')).toEqual({ uid: 0, gid: 50 });
    expect(resolveChown(root, 'bob:carol')).toEqual({ uid: 1001, gid: 1003 });
    expect(resolveChown(root, 'bob:7')).toEqual({ uid: 1001, gid: 7 });
  });

  it("numbers as llb.WithUser's strconv.ParseInt(s, 10, 32) reads them (each checked on dockerd 20.10)", () => {
    const none = join(root, 'no-etc'); // no /etc: none of these may need a lookup
    expect(resolveChown(none, '+1')).toEqual({ uid: 1, gid: 1 });
    expect(resolveChown(none, '01:02')).toEqual({ uid: 1, gid: 2 });
    // an empty group is id 0, not the user's gid; `root` is 0 without a lookup
    expect(resolveChown(none, '1:')).toEqual({ uid: 1, gid: 0 });
    expect(resolveChown(none, 'root:')).toEqual({ uid: 0, gid: 0 });
    // -1 is sent as a uint32: chown(2)'s "unchanged" (the copy keeps the owner it made)
    expect(resolveChown(none, '-1')).toEqual({ uid: 0xffffffff, gid: 0xffffffff });
    // past 32 signed bits, or after a second colon, it is a name: the lookup fails without the file
    expect(() => resolveChown(none, '4294967295:0')).toThrow('unable to find user 4294967295');
    expect(() => resolveChown(none, '1::2')).toThrow('unable to find group :2');
  });

  it('unknown names are no error: an unknown user is 0:0, an unknown group keeps the gid so far', () => {
    expect(resolveChown(root, 'nobody')).toEqual({ uid: 0, gid: 0 });
    expect(resolveChown(root, 'bob:nogroup')).toEqual({ uid: 1001, gid: 50 });
    expect(resolveChown(root, 'nobody:staff')).toEqual({ uid: 0, gid: 50 });
    expect(resolveChown(root, '7:nogroup')).toEqual({ uid: 7, gid: 7 });
  });

  it('a name needs its file: without /etc/passwd or /etc/group, BuildKit fails to open it (dockerd 20.10)', () => {
    const bare = join(root, 'no-such-root');
    expect(() => resolveChown(bare, 'bob:staff')).toThrow(
      'unable to find user bob: open /etc/passwd: no such file or directory',
    );
    expect(() => resolveChown(bare, '1:staff')).toThrow(
      'unable to find group staff: open /etc/group: no such file or directory',
    );
    // numbers, `root` (llb's parseUID) and an empty user need no file
    expect(resolveChown(bare, 'root:5')).toEqual({ uid: 0, gid: 5 });
    expect(resolveChown(bare, 'root:root')).toEqual({ uid: 0, gid: 0 });
    expect(resolveChown(bare, '7:root')).toEqual({ uid: 7, gid: 0 });
    expect(resolveChown(bare, ':1')).toEqual({ uid: 0, gid: 1 });
    expect(resolveChown(bare, '5:6')).toEqual({ uid: 5, gid: 6 });
    expect(resolveChown(bare, '5')).toEqual({ uid: 5, gid: 5 });
  });

  it('reads passwd as runc does: lines trimmed, a bad number is 0, the first match wins', () => {
    const r = mkdtempSync(join(tmpdir(), 'tsb-chown-odd-'));
    mkdirSync(join(r, 'etc'));
    writeFileSync(join(r, 'etc/passwd'), '  ann:x:5:6::/:/bin/sh\nbad:x:x:9\nann:x:7:7::/:/bin/sh\n');
    writeFileSync(join(r, 'etc/group'), '');
    expect(resolveChown(r, 'ann')).toEqual({ uid: 5, gid: 6 });
    expect(resolveChown(r, 'bad')).toEqual({ uid: 0, gid: 9 });
    // a number too big for 32 bits is a name (llb.WithUser), here an unknown one
    expect(resolveChown(r, '4294967296:1')).toEqual({ uid: 0, gid: 1 });
    rmSync(r, { recursive: true, force: true });
  });
});
