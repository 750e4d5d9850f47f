import { execFileSync } from 'node:child_process';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
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

/** A context whose names are given as latin1 strings (one char per byte). */
function byteContext(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-e2e-names-ctx-'));
  for (const [p, c] of Object.entries(files)) {
    const host = Buffer.from(`${dir}/${p}`, 'latin1');
    mkdirSync(Buffer.from(join(`${dir}/${p}`, '..'), 'latin1'), { recursive: true });
    writeFileSync(host, c);
  }
  return dir;
}

describe('build context names that are not UTF-8', () => {
  it('COPY, .dockerignore (? matches one such byte) and a bind mount see them as BuildKit sends them', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-names-'));
    const ctx = byteContext({
      'd/\xffx': 'A',
      'd/\xe9t\xe9/in': 'B',
      'd/drop\xfe': 'gone',
      'ok.txt': 'C',
      '.dockerignore': 'd/drop?\n',
    });
    const df =
      `FROM ${base()}\nCOPY . /x/\n` +
      'RUN --mount=type=bind,target=/m cd /m/d && for f in *; do echo "$f"; done | od -An -tx1 | tr -d " \\n" > /listing\n';
    const r = await buildIt(root, ctx, df);
    expect(tree(Buffer.from(join(r.rootfs, 'x')))).toEqual(
      [
        `${hex('.dockerignore')} = d/drop?\n`,
        `${hex('d')}/`,
        `${hex('d')}/${hex('\xffx')} = A`,
        `${hex('d')}/${hex('\xe9t\xe9')}/`,
        `${hex('d')}/${hex('\xe9t\xe9')}/${hex('in')} = B`,
        `${hex('ok.txt')} = C`,
      ].sort(),
    );
    // the shell sorts by byte: 0xe9... before 0xff...; the ignored name is not in the mount either
    expect(readFileSync(join(r.rootfs, 'listing'), 'utf8')).toBe(`${hex('\xe9t\xe9\n\xffx\n')}`);
  });

  it('a rename that changes only such bytes busts the cache', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-names-'));
    const ctx = byteContext({ 'd/\xffx': 'A' });
    const df = `FROM ${base()}\nCOPY d /x/\n`;
    await buildIt(root, ctx, df);
    renameSync(Buffer.from(`${ctx}/d/\xffx`, 'latin1'), Buffer.from(`${ctx}/d/\xfex`, 'latin1'));
    const r = await buildIt(root, ctx, df);
    const names = readdirSync(Buffer.from(join(r.rootfs, 'x')), { encoding: 'buffer' }).map((n) =>
      n.toString('hex'),
    );
    expect(names).toEqual([hex('\xfex')]);
  });
});

describe('ADD of an archive with names that are not UTF-8', () => {
  it('extracts them byte for byte (ustar, PAX and GNU long names), links included', async () => {
    const src = byteContext({ '\xffx': 'A', 'sub/\xe9t\xe9': 'B' });
    const at = (p: string) => Buffer.from(`${src}/${p}`, 'latin1');
    symlinkSync(Buffer.from('\xffx', 'latin1'), at('lnk'));
    linkSync(at('\xffx'), at('hard'));
    const long = `${'l'.repeat(120)}\xfe`;
    writeFileSync(at(long), 'L');
    const ctx = mkdtempSync(join(tmpdir(), 'tsb-e2e-names-ctx-'));
    execFileSync('tar', ['--format=gnu', '-cf', join(ctx, 'gnu.tar'), '-C', src, '.']);
    execFileSync('tar', ['--format=posix', '-czf', join(ctx, 'pax.tgz'), '-C', src, '.']);
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-names-'));
    const r = await buildIt(root, ctx, `FROM ${base()}\nADD gnu.tar /a/\nADD pax.tgz /b/\n`);
    for (const d of ['a', 'b']) {
      expect(tree(Buffer.from(join(r.rootfs, d))), d).toEqual(
        [
          `${hex('\xffx')} = A`,
          `${hex('hard')} = A`,
          `${hex('lnk')} -> ${hex('\xffx')}`,
          `${hex(long)} = L`,
          `${hex('sub')}/`,
          `${hex('sub')}/${hex('\xe9t\xe9')} = B`,
        ].sort(),
      );
      const st = lstatSync(Buffer.from(join(r.rootfs, d, '\xffx'), 'latin1'));
      expect(st.nlink, d).toBe(2);
    }
  });
});
