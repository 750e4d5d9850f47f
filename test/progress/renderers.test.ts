import { describe, expect, it } from 'vitest';
import { JsonRenderer, PlainRenderer, type ProgressEvent, TtyRenderer } from '../../src/progress/index.js';

const t0 = 1_000_000;
const events: ProgressEvent[] = [
  { type: 'vertex', id: 'a', name: '[base 1/2] COPY x /x', status: 'cached', at: t0 },
  { type: 'vertex', id: 'b', name: '[base 2/2] RUN make', status: 'started', at: t0 + 100 },
  { type: 'log', id: 'b', stream: 'stdout', data: 'line one\nline ', at: t0 + 300 },
  { type: 'log', id: 'b', stream: 'stdout', data: 'two\n', at: t0 + 400 },
  { type: 'vertex', id: 'b', name: '[base 2/2] RUN make', status: 'done', at: t0 + 1600 },
  {
    type: 'summary',
    digest: 'sha256:abc',
    tags: ['docker.io/library/app:latest'],
    size: 2_500_000,
    duration: 1700,
    at: t0 + 1700,
  },
];

describe('progress renderers', () => {
  it('plain: numbered vertices, CACHED, output lines with elapsed time, DONE with duration, summary', () => {
    let out = '';
    const r = new PlainRenderer((s) => {
      out += s;
    });
    for (const e of events) r.emit(e);
    expect(out).toContain('#1 [base 1/2] COPY x /x\n#1 CACHED\n');
    expect(out).toContain('#2 [base 2/2] RUN make\n');
    expect(out).toContain('#2 0.200 line one\n');
    expect(out).toContain('#2 0.300 line two\n');
    expect(out).toContain('#2 DONE 1.5s\n');
    expect(out).toContain('writing image sha256:abc done');
    expect(out).toContain('naming to docker.io/library/app:latest done');
    expect(out).toMatch(/image size 2\.50MB, built in 1\.7s/);
  });

  it("plain: a failed step ends with BuildKit's `#N ERROR: <what>`", () => {
    let out = '';
    const r = new PlainRenderer((s) => {
      out += s;
    });
    r.emit({ type: 'vertex', id: 'c', name: '[2/2] RUN false', status: 'started', at: t0 });
    r.emit({
      type: 'vertex',
      id: 'c',
      name: '[2/2] RUN false',
      status: 'error',
      error: 'exit code: 1',
      at: t0 + 5,
    });
    expect(out).toBe('#1 [2/2] RUN false\n#1 ERROR: exit code: 1\n\n');
  });

  it("plain: a finished transfer is a line under the step it is for, as BuildKit's layer download", () => {
    let out = '';
    const r = new PlainRenderer((s) => {
      out += s;
    });
    const meta = '[internal] load metadata for localhost:5000/bb:latest';
    r.emit({ type: 'vertex', id: 'm', name: meta, status: 'started', at: t0 });
    const bytes = {
      type: 'bytes',
      id: '0e6e8676f270',
      current: 1_090_000,
      total: 1_090_000,
      at: t0,
    } as const;
    r.emit({ ...bytes, label: 'downloading 0e6e8676f270', current: 5, vertex: 'm' });
    r.emit({ ...bytes, label: 'done 0e6e8676f270', vertex: 'm' });
    r.emit({ ...bytes, id: 'aa11', label: 'done aa11' });
    expect(out).toBe(
      `#1 ${meta}\n#1 sha256:0e6e8676f270 1.09MB / 1.09MB done\nsha256:aa11 1.09MB / 1.09MB done\n`,
    );
  });

  it('json: one parseable event per line', () => {
    const lines: string[] = [];
    const r = new JsonRenderer((s) => lines.push(s));
    for (const e of events) r.emit(e);
    expect(lines.map((l) => JSON.parse(l))).toEqual(events);
  });

  it('tty: a live frame with CACHED, running tail, durations, transfer bars; final frame stays', () => {
    let out = '';
    const r = new TtyRenderer(
      (s) => {
        out += s;
      },
      () => 80,
    );
    r.emit(events[0] as ProgressEvent);
    r.emit(events[1] as ProgressEvent);
    r.emit(events[2] as ProgressEvent);
    r.emit({
      type: 'bytes',
      id: 'sha256:1234',
      label: 'downloading sha256:1234',
      current: 500_000,
      total: 1_000_000,
      at: t0 + 500,
    });
    r.close();
    expect(out).toMatch(/\[\+\] Building [\d.]+s \(1\/2\) FINISHED/);
    expect(out).toMatch(/=> CACHED \[base 1\/2\] COPY x \/x +0\.0s/);
    expect(out).toContain('=> => # line one');
    expect(out).toContain('500.00kB / 1.00MB');
    for (const l of out
      .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g'), '')
      .split('\n'))
      expect(l.length).toBeLessThanOrEqual(80);
  });
});
