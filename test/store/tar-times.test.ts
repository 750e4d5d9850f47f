import { execFileSync } from 'node:child_process';
import { createWriteStream, lstatSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { extractLayer, writeLayerTar } from '../../src/store/index.js';
import { tar } from '../helpers/raw-tar.js';
import { requireRoot } from '../helpers/require.js';
import { tempDir } from './helpers.js';

requireRoot();

// Times before 1970 are times: Go's archive/tar writes them (and those past 2242) as PAX `mtime`
// records, and BuildKit's layers carry them for a context file so dated. Checked against dockerd
// 20.10's BuildKit: such a layer pulled fresh shows those files at the epoch (containerd's
// boundTime), and a COPY of a 1960 file keeps 1960 in its layer.
describe('layer times before 1970 and past 2242', () => {
  const layer = tar([
    { path: 'old', body: 'o', pax: { mtime: '-315619200' } },
    { path: 'future', body: 'f', pax: { mtime: '10413792000' } },
    { path: 'frac', body: 'x', pax: { mtime: '1577836800.5' } },
    { path: 'd/', type: 'Directory', pax: { mtime: '-1' } },
  ]);

  for (const mode of ['overlay', 'flat'] as const) {
    it(`are read, and set as containerd's applier bounds them (${mode})`, async () => {
      const root = tempDir('tsb-times-');
      await extractLayer(Readable.from([layer]), root, { mode });
      const t = (p: string) => lstatSync(join(root, p)).mtimeMs / 1000;
      expect([t('old'), t('future'), t('d')]).toEqual([0, 0, 0]);
      expect(Math.floor(t('frac'))).toBe(1577836800);
    });
  }

  it('are written as PAX mtime records', async () => {
    const dir = tempDir('tsb-times-w-');
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'old'), 'o');
    writeFileSync(join(dir, 'x', 'future'), 'f');
    utimesSync(join(dir, 'x', 'old'), new Date(-315619200000), new Date(-315619200000));
    utimesSync(join(dir, 'x', 'future'), 10413792000, 10413792000);
    const out = join(tempDir('tsb-times-o-'), 'l.tar');
    await writeLayerTar(dir, createWriteStream(out), { source: 'plain' });
    const listing = execFileSync('tar', ['--full-time', '-tvf', out], {
      encoding: 'utf8',
      env: { TZ: 'UTC' },
    });
    expect(listing).toMatch(/ 1960-01-01 00:00:00 x\/old$/m);
    expect(listing).toMatch(/ 2300-01-01 00:00:00 x\/future$/m);
  });
});
