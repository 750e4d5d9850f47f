import type { HistoryItem } from '../exporter/index.js';
import { formatSize } from '../store/index.js';
import { createdSince, ellipsis, rfc3339Local } from './docker-units.js';
import { formatRows } from './table-format.js';

/** docker/cli's history formats and column names (cli/command/image/formatter_history.go). */
const TABLE = 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const TABLE_NOT_HUMAN = 'table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}';
const HEADERS: Record<string, string> = {
  ID: 'IMAGE',
  CreatedSince: 'CREATED',
  CreatedAt: 'CREATED AT',
  CreatedBy: 'CREATED BY',
  Size: 'SIZE',
  Comment: 'COMMENT',
};

export interface HistoryFormatOptions {
  format?: string | undefined;
  quiet: boolean;
  human: boolean;
  trunc: boolean;
  now?: number;
}

/** The lines `docker history` prints for `items` with these flags. */
export function formatHistory(items: HistoryItem[], opts: HistoryFormatOptions): string[] {
  // docker's NewHistoryFormat: --quiet and --human only change the default table
  const format =
    opts.format !== undefined && opts.format !== 'table'
      ? opts.format
      : opts.quiet
        ? '{{.ID}}'
        : opts.human
          ? TABLE
          : TABLE_NOT_HUMAN;
  return formatRows(
    format,
    items.map((h) => historyFields(h, opts)),
    HEADERS,
  );
}

/** docker/cli's historyContext: each field as `--format` sees it. */
function historyFields(h: HistoryItem, { human, trunc, now }: HistoryFormatOptions): Record<string, string> {
  const createdBy = h.createdBy.replaceAll('\t', ' ');
  const createdAt = rfc3339Local(h.created);
  return {
    Comment: h.comment,
    CreatedAt: createdAt,
    CreatedBy: trunc ? ellipsis(createdBy, 45) : createdBy,
    CreatedSince: human ? createdSince(h.created, now) : createdAt,
    // stringid.TruncateID: the algorithm prefix dropped, then 12 characters
    ID: trunc ? h.id.replace(/^[^:]*:/, '').slice(0, 12) : h.id,
    Size: human ? formatSize(h.size) : String(h.size),
  };
}
