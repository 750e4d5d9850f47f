import type { ProgressEvent, ProgressSink } from './events.js';
import { formatBytes, formatSeconds } from './format.js';

/**
 * Line-based progress for CI logs, like BuildKit's `--progress=plain`: each vertex gets a number
 * (`#3`), its output lines are prefixed with the number and the seconds since it started, and it
 * ends with `#3 DONE 0.4s`, `#3 CACHED` or `#3 ERROR: <what>`.
 */
export class PlainRenderer implements ProgressSink {
  private readonly ids = new Map<string, { n: number; started: number }>();
  private next = 1;
  private readonly partial = new Map<string, string>();

  constructor(private readonly write: (s: string) => void) {}

  private num(id: string, at: number): { n: number; started: number; fresh: boolean } {
    let v = this.ids.get(id);
    let fresh = false;
    if (!v) {
      v = { n: this.next++, started: at };
      this.ids.set(id, v);
      fresh = true;
    }
    return { ...v, fresh };
  }

  emit(e: ProgressEvent): void {
    switch (e.type) {
      case 'vertex': {
        const v = this.num(e.id, e.at);
        if (v.fresh || e.status === 'started') this.write(`#${v.n} ${e.name}\n`);
        if (e.status === 'cached') this.write(`#${v.n} CACHED\n\n`);
        else if (e.status === 'done') {
          this.flush(e.id, v.n, v.started, e.at);
          this.write(`#${v.n} DONE ${formatSeconds(e.at - v.started)}\n\n`);
        } else if (e.status === 'error') {
          this.flush(e.id, v.n, v.started, e.at);
          this.write(`#${v.n} ERROR${e.error ? `: ${e.error}` : ''}\n\n`);
        } else if (e.status === 'canceled') this.write(`#${v.n} CANCELED\n\n`);
        break;
      }
      case 'log': {
        const v = this.num(e.id, e.at);
        const text = (this.partial.get(e.id) ?? '') + e.data;
        const lines = text.split('\n');
        this.partial.set(e.id, lines.pop() ?? '');
        for (const l of lines) this.write(`#${v.n} ${((e.at - v.started) / 1000).toFixed(3)} ${l}\n`);
        break;
      }
      case 'bytes':
        // One line per finished transfer (the registry client reports every status change), under
        // the step it is for as BuildKit prints a layer's download (`#4 sha256:… 1.09MB / 1.09MB done`).
        if (e.label.startsWith('done') && e.total !== undefined && e.total > 0) {
          const v = e.vertex === undefined ? undefined : this.ids.get(e.vertex);
          const size = formatBytes(e.total);
          this.write(`${v ? `#${v.n} ` : ''}sha256:${e.id} ${size} / ${size} done\n`);
        }
        break;
      case 'warning':
        this.write(`WARNING: ${e.message}${e.line ? ` (line ${e.line})` : ''}\n`);
        break;
      case 'summary':
        this.write(summaryLines(e).join('\n'));
        this.write('\n');
        break;
    }
  }

  private flush(id: string, n: number, started: number, at: number): void {
    const rest = this.partial.get(id);
    if (rest) this.write(`#${n} ${((at - started) / 1000).toFixed(3)} ${rest}\n`);
    this.partial.delete(id);
  }
}

export function summaryLines(e: Extract<ProgressEvent, { type: 'summary' }>): string[] {
  // dockerd's BuildKit writes the image ID (what `-q` prints); a store of manifests (containerd's,
  // buildx's) also shows the manifest, which a registry and `--metadata-file` know the image by.
  // Files only (`-o type=local|tar`): BuildKit's "exporting to client", and no image to name.
  const manifest = e.digest === e.imageId ? 'manifest list' : 'manifest';
  const out = e.toClient
    ? ['exporting to client done']
    : [`exporting ${manifest} ${e.digest} done`, `writing image ${e.imageId} done`];
  for (const t of e.tags) out.push(`naming to ${t} done`);
  out.push(`image size ${formatBytes(e.size)}, built in ${formatSeconds(e.duration)}`);
  return out;
}
