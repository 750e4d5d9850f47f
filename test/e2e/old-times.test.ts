import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tar } from '../helpers/raw-tar.js';
import { pushBusyboxWithLayer } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read, useBusyboxRegistryWith } from './helpers.js';

requireRoot();
requireBinary('runc');

const { base, registry } = useBusyboxRegistryWith();

// Each listing below is what dockerd 20.10's BuildKit printed for the same Dockerfile and inputs.
const archive = tar([
  { path: 'old', body: 'o', pax: { mtime: '-315619200' } },
  { path: 'future', body: 'f', pax: { mtime: '10413792000' } },
  { path: 'frac', body: 'x', pax: { mtime: '1577836800.25' } },
]);

describe('file times before 1970, past 2242, with fractions', () => {
  it('COPY keeps a context file from 1960; ADD applies PAX times as moby does (bounded, fractions kept)', async () => {
    const ctx = makeContext({});
    writeFileSync(join(ctx, 'old1960'), 'o');
    utimesSync(join(ctx, 'old1960'), new Date(-315619200000), new Date(-315619200000));
    writeFileSync(join(ctx, 't.tar'), archive);
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-times-'));
    const r = await buildIt(
      root,
      ctx,
      `FROM ${base()}\nADD t.tar /a/\nCOPY old1960 /c/\nRUN stat -c "%n %y" /a/* /c/* > /ls\n`,
    );
    expect(read(r.rootfs, 'ls')).toBe(
      '/a/frac 2020-01-01 00:00:00.250000000 +0000\n' +
        '/a/future 1970-01-01 00:00:00.000000000 +0000\n' +
        '/a/old 1970-01-01 00:00:00.000000000 +0000\n' +
        '/c/old1960 1960-01-01 00:00:00.000000000 +0000\n',
    );
  });

  it('a base image whose layer has them is no invalid layer: its files are at the epoch', async () => {
    const ref = pushBusyboxWithLayer(registry(), 'times/neg:1', archive);
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-times-base-'));
    const r = await buildIt(
      root,
      makeContext({}),
      `FROM ${ref}\nRUN stat -c "%n %Y" /old /future /frac > /ls\n`,
    );
    expect(read(r.rootfs, 'ls')).toBe('/old 0\n/future 0\n/frac 1577836800\n');
  });
});
