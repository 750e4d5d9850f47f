import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const base = useBusyboxRegistry();

/** Names (hex of their bytes) below `dir`, with what each is. */
function tree(dir: Buffer, rel = ''): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir, { encoding: 'buffer' })) {
    const p = Buffer.concat([dir, Buffer.from('/'), n]);
    const r = `${rel}${n.toString('hex')}`;
    const s = lstatSync(p);
    if (s.isSymbolicLink()) out.push(`${r} -> ${readlinkSync(p, { encoding: 'buffer' }).toString('hex')}`);
    else if (s.isFile()) out.push(`${r} = ${readFileSync(p, 'utf8')}`);
    else out.push(`${r}/`, ...tree(p, `${r}/`));
  }
  return out.sort();
}

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
// A stage that makes names that are not UTF-8 (printf's octal escapes: \377 is the byte 0xff).
const stage = (file: string) =>
  `FROM ${base()} AS s\n` +
  `RUN mkdir -p /d/sub && printf A > "$(printf '/d/${file}')" && printf B > "$(printf '/d/sub/\\351t\\351')" && ` +
  `ln -s "$(printf '${file}')" /d/lnk && mkdir "$(printf '/d/\\376dir')" && printf C > "$(printf '/d/\\376dir/in')"\n`;

describe('COPY --from of names that are not UTF-8 (BuildKit copies them byte for byte)', () => {
  it('copies them, a wildcard matches them, a symlink keeps its target bytes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-names-'));
    const df = `${stage('\\377x')}FROM ${base()}\nCOPY --from=s /d /x/\nCOPY --from=s /d/* /y/\n`;
    const r = await buildIt(root, makeContext({}), df);
    expect(tree(Buffer.from(join(r.rootfs, 'x')))).toEqual(
      [
        `${hex('\xffx')} = A`,
        `${hex('\xfedir')}/`,
        `${hex('\xfedir')}/${hex('in')} = C`,
        `${hex('lnk')} -> ${hex('\xffx')}`,
        `${hex('sub')}/`,
        `${hex('sub')}/${hex('\xe9t\xe9')} = B`,
      ].sort(),
    );
    // a directory match copies its contents; the symlink match is followed to its file
    expect(tree(Buffer.from(join(r.rootfs, 'y')))).toEqual(
      [`${hex('\xffx')} = A`, `${hex('in')} = C`, `${hex('lnk')} = A`, `${hex('\xe9t\xe9')} = B`].sort(),
    );
  });

  it('two names that differ only in bytes that are not UTF-8 are two cache keys', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-names-'));
    const ctx = makeContext({});
    const copy = `FROM ${base()}\nCOPY --from=s /d /x/\n`;
    await buildIt(root, ctx, `${stage('\\377x')}${copy}`);
    // As strings both names are U+FFFD + "x": a checksum of those would reuse the first copy.
    const r = await buildIt(root, ctx, `${stage('\\376x')}${copy}`);
    const names = readdirSync(Buffer.from(join(r.rootfs, 'x')), { encoding: 'buffer' }).map((n) =>
      n.toString('hex'),
    );
    expect(names).toContain(hex('\xfex'));
    expect(names).not.toContain(hex('\xffx'));
  });
});
