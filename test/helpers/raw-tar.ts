import { Header } from 'tar';

/** One entry of a raw tar; `pax` adds an extended header before it. */
export interface RawEntry {
  path: string;
  type?: string;
  body?: string;
  linkpath?: string;
  pax?: Record<string, string>;
  mode?: number;
  devmaj?: number;
}

function block(h: Header): Buffer {
  const b = Buffer.alloc(512);
  h.encode(b, 0);
  return b;
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

/** A raw tar, hostile on purpose: names are written as given (no cleaning). */
export function tar(entries: RawEntry[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    if (e.pax) {
      const recs = Object.entries(e.pax).map(([k, v]) => {
        const body = ` ${k}=${v}\n`;
        let len = body.length + 1;
        while (String(len).length + body.length !== len) len = String(len).length + body.length;
        return `${len}${body}`;
      });
      const data = Buffer.from(recs.join(''));
      parts.push(
        block(new Header({ path: 'pax', type: 'ExtendedHeader', size: data.length, mode: 0o644 })),
        data,
        pad(data.length),
      );
    }
    const body = Buffer.from(e.body ?? '');
    parts.push(
      block(
        new Header({
          path: e.path,
          type: (e.type ?? 'File') as 'File',
          size: e.type && e.type !== 'File' ? 0 : body.length,
          mode: e.mode ?? 0o644,
          uid: 0,
          gid: 0,
          mtime: new Date(0),
          linkpath: e.linkpath ?? '',
          devmaj: e.devmaj ?? 0,
          devmin: 0,
        }),
      ),
    );
    if (!e.type || e.type === 'File') parts.push(body, pad(body.length));
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
