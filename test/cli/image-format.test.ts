import { describe, expect, it } from 'vitest';
import { formatImages, type ImageRow, imageFilter } from '../../src/cli/image-format.js';

const row = (over: Partial<ImageRow>): ImageRow => ({
  ID: '0123456789ab',
  Repository: 'app',
  Tag: 'latest',
  Digest: 'sha256:dd',
  CreatedSince: '2 minutes ago',
  CreatedAt: '2026-12-03 14:50:35 +0000 UTC',
  Size: '1.09MB',
  ...over,
});
const rows = [
  row({}),
  row({ Repository: 'localhost:5000/busybox', ID: 'ffffffffffff' }),
  row({ Repository: '<none>', Tag: '<none>' }),
];

describe('images --format and --filter, as docker reads them', () => {
  it('fills a template, aligns a table as docker does (min width 10, padding 3) and writes docker JSON', () => {
    expect(formatImages('{{.Repository}}:{{.Tag}} {{json .ID}}', rows.slice(0, 1))).toEqual([
      'app:latest "0123456789ab"',
    ]);
    expect(formatImages('table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}', rows)).toEqual([
      'REPOSITORY               TAG       IMAGE ID',
      'app                      latest    0123456789ab',
      'localhost:5000/busybox   latest    ffffffffffff',
      '<none>                   <none>    0123456789ab',
    ]);
    const json = JSON.parse(formatImages('json', rows.slice(0, 1))[0]!);
    expect(Object.keys(json)).toEqual([
      'Containers',
      'CreatedAt',
      'CreatedSince',
      'Digest',
      'ID',
      'Repository',
      'SharedSize',
      'Size',
      'Tag',
      'UniqueSize',
      'VirtualSize',
    ]);
    expect(JSON.parse(formatImages('{{json .}}', rows.slice(0, 1))[0]!)).toEqual(json);
    expect(() => formatImages('{{.Nope}}', rows)).toThrow("can't evaluate field Nope");
    expect(() => formatImages('{{range .}}x{{end}}', rows)).toThrow('unsupported --format template');
  });

  it('filters dangling and by reference glob', () => {
    expect(rows.filter(imageFilter(['dangling=true'])).map((r) => r.Repository)).toEqual(['<none>']);
    expect(rows.filter(imageFilter(['dangling=false'])).length).toBe(2);
    expect(rows.filter(imageFilter(['reference=localhost:5000/*'])).map((r) => r.ID)).toEqual([
      'ffffffffffff',
    ]);
    expect(rows.filter(imageFilter(['reference=*:latest'])).map((r) => r.Repository)).toEqual(['app']);
    expect(() => imageFilter(['label=a'])).toThrow("invalid filter 'label'");
    expect(() => imageFilter(['dangling=maybe'])).toThrow("invalid filter 'dangling=maybe'");
  });
});
