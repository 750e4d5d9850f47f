import { globToRegExp } from '../context/index.js';
import { TsbuildError } from '../errors.js';
import { formatRows } from './table-format.js';

/**
 * `tsbuild images --format` and `--filter`, as docker's CLI reads them: a Go template of the
 * image's fields (only `{{.Field}}`, `{{json .}}` and `{{json .Field}}`), `table` before it for a
 * header row, `json` for one object a line; filters `dangling=` and `reference=`.
 */
export interface ImageRow {
  ID: string;
  Repository: string;
  Tag: string;
  Digest: string;
  CreatedSince: string;
  CreatedAt: string;
  Size: string;
  /** docker's VirtualSize column: the same bytes with four significant digits. */
  VirtualSize?: string;
}

/** docker/cli's header for each field (formatter/image.go). */
const HEADERS: Record<string, string> = {
  ID: 'IMAGE ID',
  Repository: 'REPOSITORY',
  Tag: 'TAG',
  Digest: 'DIGEST',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  Size: 'SIZE',
  Containers: 'CONTAINERS',
  VirtualSize: 'VIRTUAL SIZE',
  SharedSize: 'SHARED SIZE',
  UniqueSize: 'UNIQUE SIZE',
};

/** The lines `--format` prints for `rows` (a table is aligned as docker's tabwriter aligns it). */
export function formatImages(format: string, rows: ImageRow[]): string[] {
  return formatRows(format, rows.map(docFields), HEADERS);
}

/** docker's JSON of an image row: its fields, and the ones a daemonless store does not know. */
function docFields(r: ImageRow): Record<string, string> {
  return {
    Containers: 'N/A',
    CreatedAt: r.CreatedAt,
    CreatedSince: r.CreatedSince,
    Digest: r.Digest,
    ID: r.ID,
    Repository: r.Repository,
    SharedSize: 'N/A',
    Size: r.Size,
    Tag: r.Tag,
    UniqueSize: 'N/A',
    VirtualSize: r.VirtualSize ?? r.Size,
  };
}

/** `--filter dangling=true|false` and `--filter reference=PATTERN` (Go's path.Match on `name[:tag]`, as docker's FamiliarMatch). */
export function imageFilter(filters: string[]): (r: ImageRow) => boolean {
  const tests: ((r: ImageRow) => boolean)[] = [];
  for (const f of filters) {
    const i = f.indexOf('=');
    const [key, value] = i < 0 ? [f, ''] : [f.slice(0, i).toLowerCase(), f.slice(i + 1)];
    if (key === 'dangling') {
      if (value !== 'true' && value !== 'false' && value !== '1' && value !== '0')
        throw new TsbuildError('USAGE', `invalid filter 'dangling=${value}'`);
      const want = value === 'true' || value === '1';
      tests.push((r) => (r.Repository === '<none>') === want);
    } else if (key === 'reference') {
      const re = globToRegExp(value);
      tests.push((r) => re.test(r.Repository) || re.test(`${r.Repository}:${r.Tag}`));
    } else
      throw new TsbuildError('USAGE', `invalid filter '${key}'`, { hint: 'use dangling= or reference=' });
  }
  return (r) => tests.every((t) => t(r));
}
