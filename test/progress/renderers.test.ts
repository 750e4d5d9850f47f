import { describe, expect, it } from 'vitest';
import { JsonRenderer, PlainRenderer, type ProgressEvent, TtyRenderer } from '../../src/progress/index.js';
import { fitHeight } from '../../src/progress/tty.js';

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
    imageId: 'sha256:c0f',
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
    expect(out).toContain('exporting manifest sha256:abc done\nwriting image sha256:c0f done\n');
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

  const strip = (s: string) => s.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g'), '');
  /** The lines of the last frame painted (each paint starts with a cursor move up, or is the first). */
  const lastFrame = (out: string) => {
    const frames = out.split(new RegExp(`${String.fromCharCode(27)}\\[\\d+F`));
    return strip(frames[frames.length - 1] as string)
      .split('\n')
      .filter((l) => l !== '');
  };

  it("tty: a pull's layers are listed under the step they are for, with `done` once in", () => {
    let out = '';
    const r = new TtyRenderer(
      (s) => (out += s),
      () => 100,
      () => 0,
    );
    const meta = '[internal] load metadata for localhost:5000/busybox:latest';
    r.emit({ type: 'vertex', id: 'm', name: meta, status: 'started', at: t0 });
    r.emit({ type: 'vertex', id: 'run', name: '[2/2] RUN make', status: 'started', at: t0 });
    r.emit({ type: 'log', id: 'run', stream: 'stdout', data: 'compiling\n', at: t0 + 10 });
    const bytes = { type: 'bytes' as const, id: '0e6e8676f270', current: 100, total: 100, vertex: 'm' };
    r.emit({ ...bytes, label: 'downloading 0e6e8676f270', current: 40, at: t0 + 10 });
    r.emit({ ...bytes, label: 'done 0e6e8676f270', at: t0 + 210 });
    r.emit({ type: 'vertex', id: 'm', name: meta, status: 'done', at: t0 + 250 });
    r.close();
    const f = lastFrame(out);
    const at = f.findIndex((l) => l.includes('load metadata'));
    expect(f[at + 1]).toMatch(/^ => => sha256:0e6e8676f270 100B \/ 100B +0\.2s done$/);
    expect(f[at + 2]).toContain('[2/2] RUN make');
  });

  it('tty: a frame never outgrows the terminal; running steps stay in view, finished ones give way', () => {
    let out = '';
    const r = new TtyRenderer(
      (s) => (out += s),
      () => 80,
      () => 10,
    );
    r.emit({ type: 'vertex', id: 'slow', name: '[a 2/2] RUN sleep 60', status: 'started', at: t0 });
    for (let i = 0; i < 30; i++)
      r.emit({ type: 'vertex', id: `c${i}`, name: `[b ${i}/30] COPY f${i} /`, status: 'cached', at: t0 });
    (r as unknown as { paint: () => void }).paint();
    const live = lastFrame(out);
    expect(live.length).toBe(9);
    expect(live[0]).toMatch(/^\[\+\] Building/);
    expect(live[1]).toContain('RUN sleep 60');
    expect(live[8]).toContain('[b 29/30] COPY f29');
    r.close();
    // The final paint moves up exactly the lines the live one painted, all of them on screen.
    expect(out).toContain(`${String.fromCharCode(27)}[9F`);
    expect(lastFrame(out).length).toBe(32);
  });

  it('fitHeight keeps the last lines, trading the earliest finished ones for active lines cut off', () => {
    const l = (text: string, active = false) => ({ text, active });
    const lines = [l('a', true), l('b'), l('c', true), l('d'), l('e'), l('f'), l('g')];
    expect(fitHeight(lines, 10).map((x) => x.text)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(fitHeight(lines, 4).map((x) => x.text)).toEqual(['a', 'c', 'f', 'g']);
    expect(fitHeight([l('a', true), l('b', true), l('c', true)], 2).map((x) => x.text)).toEqual(['b', 'c']);
  });
});
