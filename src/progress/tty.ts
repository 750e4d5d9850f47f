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
  id: string;
  label: string;
  vertex?: string;
  current: number;
  total?: number;
  first: number;
  at: number;
}

/** One line of a frame; `active` lines (a running step, its output, a live transfer) are kept first. */
export interface Line {
  text: string;
  active: boolean;
}

const TAIL = 6;

/**
 * BuildKit-style live view: `[+] Building 3.1s (4/7)`, one line per step with CACHED / elapsed
 * time / DONE duration, under a step its transfers (a pull's layers: bytes, speed, `done`) and
 * while it runs the last lines of its output. Repaints in place at most every 100 ms; a frame
 * never outgrows the terminal (the cursor cannot move above its top, so a taller frame would be
 * painted again below itself), so finished steps give way to running ones, as BuildKit's
 * `wrapHeight` does. The final frame is whole and stays on screen.
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
    /** The terminal's height; 0 when unknown (no limit). */
    private readonly height: () => number = () => process.stderr.rows || 0,
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
        const t = this.transfers.get(e.id) ?? { id: e.id, label: e.label, current: 0, first: e.at, at: e.at };
        t.label = e.label;
        t.current = e.current;
        if (e.total !== undefined) t.total = e.total;
        if (e.vertex !== undefined) t.vertex = e.vertex;
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
    const header = `[+] Building ${formatSeconds(now - this.start)} (${done}/${this.rows.length})${final ? ' FINISHED' : ''}`;
    const body: Line[] = [];
    const nested = new Set<string>();
    for (const r of this.rows) {
      body.push({
        text: this.pad(`${rowPrefix(r.status)}${r.name}`, rowTime(r, now)),
        active: r.status === 'started',
      });
      for (const t of this.transfers.values()) {
        if (t.vertex !== r.id) continue;
        nested.add(t.id);
        body.push(this.transferLine(t, now));
      }
      if (r.status === 'started' || r.status === 'error') {
        for (const l of [...r.tail, ...(r.partial ? [r.partial] : [])].slice(-TAIL))
          body.push({ text: this.cut(` => => # ${l}`), active: r.status === 'started' });
      }
    }
    for (const t of this.transfers.values()) {
      if (nested.has(t.id) || (final && transferDone(t))) continue;
      body.push(this.transferLine(t, now));
    }
    for (const text of this.extra) body.push({ text, active: false });
    // Room for the header and for the line the cursor rests on after the frame.
    const room = this.height() - 2;
    const shown = final || room <= 0 ? body : fitHeight(body, room);
    return [header, ...shown.map((l) => l.text)];
  }

  /** `sha256:3f2a... 1.2MB / 3.4MB 5.6MB/s  0.4s`, or `... 3.4MB / 3.4MB  0.9s done`, as BuildKit prints them. */
  private transferLine(t: Transfer, now: number): Line {
    const finished = transferDone(t);
    const status = statusOf(t);
    const name = t.label.slice(status.length + 1) || t.id;
    const what = /^[0-9a-f]{12,64}$/.test(name) ? `sha256:${name}` : name;
    const bytes = t.total ? `${formatBytes(t.current)} / ${formatBytes(t.total)}` : formatBytes(t.current);
    const moving = status === 'downloading' || status === 'uploading';
    const speed = moving ? ` ${formatBytes(t.current / Math.max(0.001, (t.at - t.first) / 1000))}/s` : '';
    const state = finished || moving ? '' : ` ${status}`;
    const time = formatSeconds((finished ? t.at : now) - t.first);
    return {
      text: this.pad(` => => ${what} ${bytes}${speed}${state}`, finished ? `${time} done` : time),
      active: !finished,
    };
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

function rowPrefix(status: Row['status']): string {
  if (status === 'cached') return ' => CACHED ';
  if (status === 'error') return ' => ERROR ';
  if (status === 'canceled') return ' => CANCELED ';
  return ' => ';
}

function rowTime(r: Row, now: number): string {
  if (r.status === 'cached') return '0.0s';
  if (r.status === 'waiting') return '';
  return formatSeconds((r.ended ?? now) - r.started);
}

/** The registry client's status, the label's first word (`downloading 3f2a…`, `done 3f2a…`). */
function statusOf(t: Transfer): string {
  return t.label.split(' ', 1)[0] ?? '';
}

function transferDone(t: Transfer): boolean {
  return ['done', 'exists', 'mounted'].includes(statusOf(t));
}

/**
 * The last `room` lines, except that an active line cut off the top takes the place of the
 * earliest finished line kept (BuildKit's `wrapHeight`): what is running stays in view, in order.
 */
export function fitHeight(lines: Line[], room: number): Line[] {
  if (lines.length <= room) return lines;
  const cut = lines.length - room;
  const index = lines.map((_, i) => i);
  const hidden = index.slice(0, cut).filter((i) => lines[i]!.active);
  const finished = index.slice(cut).filter((i) => !lines[i]!.active);
  // The active lines nearest the cut come back, in place of as many of the first finished lines.
  const swap = Math.min(hidden.length, finished.length);
  const drop = new Set(finished.slice(0, swap));
  const keep = [...hidden.slice(hidden.length - swap), ...index.slice(cut).filter((i) => !drop.has(i))];
  return keep.sort((a, b) => a - b).map((i) => lines[i]!);
}
