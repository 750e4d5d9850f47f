import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const base = useBusyboxRegistry();
const stage = () =>
  `FROM ${base()} AS s\nRUN mkdir /d && echo F > /d/my-f.txt && echo B > "/d/[ab" && echo S > "/d/back\\\\slash" && echo P > /d/backslash\n`;

// Each expectation was checked against dockerd 20.10's BuildKit with the same Dockerfile.
describe('COPY source patterns as BuildKit reads them (Go path.Match, fsutil copy)', () => {
  it('wildcards with a hyphen, from the context and from a stage', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-pat-'));
    const ctx = makeContext({ 'my-a.txt': 'A', 'my-b.txt': 'B', 'other.txt': 'O' });
    const r = await buildIt(
      root,
      ctx,
      `${stage()}FROM ${base()}\nCOPY my-*.txt /x/\nCOPY --from=s /d/my-*.txt /y/\n`,
    );
    expect(readdirSync(join(r.rootfs, 'x')).sort()).toEqual(['my-a.txt', 'my-b.txt']);
    expect(readdirSync(join(r.rootfs, 'y'))).toEqual(['my-f.txt']);
  });

  it('a backslash: a plain --from path names the file with it, a pattern reads it as an escape', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-pat-'));
    const df = `${stage()}FROM ${base()}\nCOPY --from=s /d/back\\\\slash /x/\nCOPY --from=s /d/back\\\\sla* /y/\n`;
    const r = await buildIt(root, makeContext({}), df);
    expect(readdirSync(join(r.rootfs, 'x'))).toEqual(['back\\slash']);
    expect(readdirSync(join(r.rootfs, 'y'))).toEqual(['backslash']);
    expect(readFileSync(join(r.rootfs, 'x', 'back\\slash'), 'utf8')).toBe('S\n');
  });

  it('a malformed pattern: a context source matches nothing, a --from source fails', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-pat-'));
    const ctx = makeContext({ '[ab': 'B' });
    const r = await buildIt(root, ctx, `FROM ${base()}\nCOPY [ab /x/\n`);
    expect(existsSync(join(r.rootfs, 'x'))).toBe(false);
    await expect(
      buildIt(root, ctx, `${stage()}FROM ${base()}\nCOPY --from=s /d/[ab /x/\n`),
    ).rejects.toMatchObject({
      code: 'COPY_BAD_PATTERN',
      message: expect.stringContaining('syntax error in pattern'),
    });
  });
});
