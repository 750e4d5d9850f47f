import { closeSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { followFile } from '../../src/store/layer/follow-file.js';

function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

describe('followFile: a file read while another writer grows it', () => {
  it('reads what was announced, waits for more, ends at the announced end', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tsb-follow-')), 'data');
    const w = openSync(path, 'w');
    const r = openSync(path, 'r');
    const data = Buffer.alloc(3 * (1 << 20) + 12345);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    writeSync(w, data, 0, 1000, 0);
    const f = followFile(r, 1000);
    const got = collect(f.stream);
    let pos = 1000;
    for (const n of [1, 65536, 1 << 20, 2 << 20]) {
      await new Promise((res) => setTimeout(res, 5));
      const end = Math.min(pos + n, data.length);
      writeSync(w, data, pos, end - pos, pos);
      pos = end;
      f.grew(pos);
    }
    writeSync(w, data, pos, data.length - pos, pos);
    // Bytes past the announced length are not read before they are announced.
    await new Promise((res) => setTimeout(res, 5));
    f.ended(data.length);
    expect((await got).equals(data)).toBe(true);
    closeSync(w);
    closeSync(r);
  });

  it('does not read past what was announced', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tsb-follow-')), 'data');
    const w = openSync(path, 'w');
    writeSync(w, Buffer.from('abcdefghij'));
    const f = followFile(openSync(path, 'r'), 4);
    const chunks: Buffer[] = [];
    f.stream.on('data', (c: Buffer) => chunks.push(c));
    await new Promise((res) => setTimeout(res, 20));
    expect(Buffer.concat(chunks).toString()).toBe('abcd');
    f.ended(10);
    await new Promise((res) => f.stream.once('end', res));
    expect(Buffer.concat(chunks).toString()).toBe('abcdefghij');
  });

  it('fails, not ends early, when the file is shorter than announced', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tsb-follow-')), 'data');
    const w = openSync(path, 'w');
    writeSync(w, Buffer.from('short'));
    const f = followFile(openSync(path, 'r'));
    f.ended(100);
    await expect(collect(f.stream)).rejects.toThrow(/ends at 5 bytes, 100 were written/);
  });
});
