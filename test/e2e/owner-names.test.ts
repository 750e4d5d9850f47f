import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, ownerInTar, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const base = useBusyboxRegistry();
const root = () => mkdtempSync(join(tmpdir(), 'tsb-e2e-owners-'));

// An image without /etc/passwd or /etc/group (the test busybox, once a RUN removed them; the bench's
// has none). BuildKit's file op opens them to resolve a name (readUser), so a name fails there, as
// dockerd 20.10 shows; numbers and an empty user need neither.
const bare = () => `FROM ${base()}\nRUN rm /etc/passwd /etc/group\n`;
describe('owner names over an image without /etc/passwd or /etc/group', () => {
  it('COPY --chown and USER + WORKDIR with a name fail as BuildKit fails, naming the file', async () => {
    const ctx = makeContext({ f: 'f\n' });
    const cases: [string, string][] = [
      ['COPY --chown=nobody f /f', 'unable to find user nobody: open /etc/passwd: no such file or directory'],
      [
        'COPY --chown=1:nogroup f /f',
        'unable to find group nogroup: open /etc/group: no such file or directory',
      ],
      ['USER nobody\nWORKDIR /w', 'unable to find user nobody: open /etc/passwd: no such file or directory'],
      ['USER 5:staff\nWORKDIR /w', 'unable to find group staff: open /etc/group: no such file or directory'],
    ];
    for (const [steps, message] of cases)
      await expect(buildIt(root(), ctx, `${bare()}${steps}\n`), steps).rejects.toThrow(message);
  });

  it('numbers, an empty user and a name the file lacks need no more', async () => {
    const ctx = makeContext({ f: 'f\n' });
    const out = join(root(), 'fs.tar');
    const df = `${bare()}COPY --chown=:7 f /a\nCOPY --chown=5:6 f /b\nUSER 8\nWORKDIR /w8\n`;
    await buildIt(root(), ctx, df, { outputs: [`type=tar,dest=${out}`] });
    // a passwd without the name: the name is uid 0 (written by a RUN without USER, as BuildKit 0.8
    // cannot run `USER 0` without a passwd file, "unable to find user 0: invalid argument")
    const out2 = join(root(), 'fs2.tar');
    const df2 = `${bare()}RUN echo "root:x:0:0::/:/bin/sh" > /etc/passwd\nUSER nobody\nWORKDIR /wn\n`;
    await buildIt(root(), ctx, df2, { outputs: [`type=tar,dest=${out2}`] });
    // as dockerd 20.10's BuildKit made them from the same Dockerfiles
    expect(['a', 'b', 'w8'].map((p) => ownerInTar(out, p))).toEqual(['0:7', '5:6', '8:8']);
    expect(ownerInTar(out2, 'wn')).toBe('0:0');
  });
});
