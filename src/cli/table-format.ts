import { ACTION, checkTemplate, goJson, renderTemplate, unescapeFormat } from './go-template.js';

/**
 * docker's `--format` for list commands (formatter.Context): a Go template of each row's fields,
 * `table` before it for a header row of the fields' column names, `json` for one object a line.
 */
export function formatRows(
  format: string,
  docs: Record<string, string>[],
  headers: Record<string, string>,
): string[] {
  // docker >= 23's `--format json`: `{{json .}}` of each row
  if (format === 'json') return docs.map((d) => goJson(d));
  const table = format.startsWith('table');
  const body = unescapeFormat((table ? format.slice('table'.length) : format).trim());
  checkTemplate(body, format);
  const lines = docs.map((d) => renderTemplate(body, d, { marshalsRow: true }));
  if (!table) return lines;
  const header = body.replace(ACTION, (_, _json: string | undefined, path: string) =>
    path === '' ? '' : (headers[path] ?? path.toUpperCase()),
  );
  return align([header, ...lines]);
}

/**
 * text/tabwriter as docker's formatter sets it up (min width 10, padding 3): tab-separated cells in
 * columns. Widths are counted in runes, as tabwriter counts them (not display columns).
 */
function align(lines: string[]): string[] {
  const cells = lines.map((l) => l.split('\t'));
  const len = (c: string) => [...c].length;
  const width: number[] = [];
  for (const row of cells)
    row.slice(0, -1).forEach((c, i) => {
      width[i] = Math.max(width[i] ?? 0, Math.max(len(c) + 3, 10));
    });
  return cells.map((row) =>
    row.map((c, i) => (i < row.length - 1 ? c + ' '.repeat(width[i]! - len(c)) : c)).join(''),
  );
}
