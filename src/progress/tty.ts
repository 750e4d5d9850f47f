import type { ProgressEvent, ProgressSink } from './events.js';
import { formatBytes, formatSeconds } from './format.js';
import { summaryLines } from './plain.js';

interface Row {
  id: string;
  name: string;
  status: 'waiting' | 'started' | 'cached' | 'done' | 'error' | 'canceled';
  started: number;
  ended?: number;
  tail: string[];
  partial: string;
}

interface Transfer {
  label: string;
  current: number;
  total?: number;
  first: number;
  at: number;
}

const TAIL = 6;

/**
 * BuildKit-style live view: `[+] Building 3.1s (4/7)`, one line per step with CACHED / elapsed
 * time / DONE duration, the last lines of a running step's output, pull/push bars with bytes and
 * speed. Repaints in place at most every 100 ms; the final frame stays on screen.
 */
export class TtyRenderer implements ProgressSink {
  private readonly rows: Row[] = [];
  private readonly byId = new Map<string, Row>();
  private readonly transfers = new Map<string, Transfer>();
  private readonly start = Date.now();
  private lines = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly extra: string[] = [];

  constructor(
    private readonly write: (s: string) => void,
    private readonly columns: () => number = () => process.stderr.columns || 100,
  ) {
    this.timer = setInterval(() => this.paint(), 100);
    this.timer.unref();
  }

  emit(e: ProgressEvent): void {
    switch (e.type) {
      case 'vertex': {
        let r = this.byId.get(e.id);
        if (!r) {
          r = { id: e.id, name: e.name, status: 'waiting', started: e.at, tail: [], partial: '' };
          this.byId.set(e.id, r);
          this.rows.push(r);
        }
        if (e.status === 'started') r.started = e.at;
        r.status = e.status;
        if (e.status !== 'started') r.ended = e.at;
        break;
      }
      case 'log': {
        const r = this.byId.get(e.id);
        if (!r) break;
        const lines = (r.partial + e.data).split('\n');
        r.partial = lines.pop() ?? '';
        r.tail.push(...lines);
        if (r.tail.length > TAIL) r.tail.splice(0, r.tail.length - TAIL);
        break;
      }
      case 'bytes': {
        const t = this.transfers.get(e.id) ?? { label: e.label, current: 0, first: e.at, at: e.at };
        t.label = e.label;
        t.current = e.current;
        if (e.total !== undefined) t.total = e.total;
        t.at = e.at;
        this.transfers.set(e.id, t);
        break;
      }
      case 'warning':
        this.extra.push(` WARN: ${e.message}${e.line ? ` (line ${e.line})` : ''}`);
        break;
      case 'summary':
        this.extra.push(...summaryLines(e).map((l) => ` => ${l}`));
        break;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.paint(true);
  }

  private frame(final: boolean): string[] {
    const now = Date.now();
    const done = this.rows.filter((r) => r.status === 'done' || r.status === 'cached').length;
    const out = [
      `[+] Building ${formatSeconds(now - this.start)} (${done}/${this.rows.length})${final ? ' FINISHED' : ''}`,
    ];
    for (const r of this.rows) {
      const prefix =
        r.status === 'cached'
          ? ' => CACHED '
          : r.status === 'error'
            ? ' => ERROR '
            : r.status === 'canceled'
              ? ' => CANCELED '
              : ' => ';
      const time =
        r.status === 'cached'
          ? '0.0s'
          : r.status === 'waiting'
            ? ''
            : formatSeconds((r.ended ?? now) - r.started);
      out.push(this.pad(`${prefix}${r.name}`, time));
      if (r.status === 'started' || r.status === 'error') {
        for (const l of [...r.tail, ...(r.partial ? [r.partial] : [])].slice(-TAIL))
          out.push(this.cut(` => => # ${l}`));
      }
    }
    for (const [id, t] of this.transfers) {
      if (t.total !== undefined && t.current >= t.total && final) continue;
      const secs = Math.max(0.001, (t.at - t.first) / 1000);
      const bytes = t.total ? `${formatBytes(t.current)} / ${formatBytes(t.total)}` : formatBytes(t.current);
      out.push(
        this.pad(
          ` => => ${t.label.includes(id) ? t.label : `${t.label} ${id}`} ${bytes} ${formatBytes(t.current / secs)}/s`,
          '',
        ),
      );
    }
    out.push(...this.extra);
    return out;
  }

  private pad(left: string, right: string): string {
    const w = this.columns();
    const l =
      left.length + right.length + 1 > w ? `${left.slice(0, Math.max(0, w - right.length - 2))}…` : left;
    return `${l}${' '.repeat(Math.max(1, w - l.length - right.length))}${right}`.slice(0, w);
  }

  private cut(s: string): string {
    const w = this.columns();
    return s.length > w ? s.slice(0, w) : s;
  }

  private paint(final = false): void {
    const f = this.frame(final);
    let s = this.lines > 0 ? `\x1b[${this.lines}F` : '';
    s += f.map((l) => `\x1b[2K${l}`).join('\n');
    s += '\n\x1b[0J';
    this.write(s);
    this.lines = f.length;
  }
}
