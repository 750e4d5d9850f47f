import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusyboxWithLayer, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read } from './helpers.js';

requireRoot();
requireBinary('runc');

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
});
afterAll(async () => {
  await reg?.stop();
});

// Checked against dockerd 20.10's BuildKit with the same base: its image structs keep these fields
// only, so a child image carries none of the base's Hostname, Tty, MacAddress or unknown keys.
describe('a base image config with fields BuildKit has no struct field for', () => {
  it('is read as BuildKit reads it: other keys dropped, os.version and os.features kept', async () => {
    const ref = pushBusyboxWithLayer(reg, 'odd/config:1', Buffer.alloc(1024), (c) => {
      Object.assign(c, { 'os.version': '10', 'os.features': ['f'], container: 'abc', docker_version: '1' });
      Object.assign(c.config as object, {
        Hostname: 'h1',
        Domainname: 'dom',
        Tty: true,
        OpenStdin: true,
        Image: 'sha256:abc',
        MacAddress: '02:42:ac:11:00:02',
        'x-custom': 'y',
        Entrypoint: null,
        StopTimeout: 7,
        Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9, Extra: 2 },
        Shell: ['/bin/sh', '-xc'],
      });
    });
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-basecfg-'));
    const r = await buildIt(root, makeContext({}), `FROM ${ref}\nRUN echo "$0 $-" > /shell\n`);
    expect(r.cfg.config).toEqual({
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['sh'],
      StopTimeout: 7,
      Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9 },
      Shell: ['/bin/sh', '-xc'],
    });
    const top = r.cfg as unknown as Record<string, unknown>;
    expect([top['os.version'], top['os.features'], top.container, top.docker_version]).toEqual([
      '10',
      ['f'],
      undefined,
      undefined,
    ]);
    expect(read(r.rootfs, 'shell')).toBe('/bin/sh xc\n');
  });

  it('matches its keys to fields up to case, as Go does (dockerd 20.10: "env" is Env, "CMD" is Cmd)', async () => {
    const ref = pushBusyboxWithLayer(reg, 'odd/case:1', Buffer.alloc(512), (c) => {
      const inner = c.config as Record<string, unknown>;
      delete inner.Env;
      delete inner.Cmd;
      Object.assign(inner, {
        env: ['A=1'],
        CMD: ['/bin/sh'],
        workingdir: '/w',
        user: '1',
        Foo: 'bar',
        labels: { n: null },
        ExposedPorts: { '80/tcp': null },
      });
      Object.assign(c, { AUTHOR: 'me', extra: 1 });
    });
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-basecfg-'));
    const r = await buildIt(
      root,
      makeContext({}),
      `FROM ${ref}\nENV B=2\nRUN test "$A $B $(pwd) $(id -u)" = "1 2 /w 1"\n`,
    );
    // and Go's zero values for nulls: a label "", a port {}
    expect(r.cfg.config).toEqual({
      User: '1',
      ExposedPorts: { '80/tcp': {} },
      Env: ['A=1', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'B=2'],
      Cmd: ['/bin/sh'],
      WorkingDir: '/w',
      Labels: { n: '' },
    });
    expect((r.cfg as unknown as Record<string, unknown>).author).toBe('me');
  });

  it('with more layer entries in its history than layers builds, as BuildKit normalizes the history', async () => {
    // dockerd 20.10 builds FROM such an image: counting from the first entry, every entry after the
    // one that accounts for the last layer is made empty, this build's own included (checked by hand
    // against it: same history)
    const ref = pushBusyboxWithLayer(reg, 'odd/history:1', Buffer.alloc(512), (c) => {
      (c.history as object[]).push({ created_by: 'ghost 1' }, { created_by: 'ghost 2', empty_layer: false });
    });
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-basecfg-'));
    const r = await buildIt(root, makeContext({ f: 'x' }), `FROM ${ref}\nCOPY f /f\n`);
    const h = r.cfg.history ?? [];
    expect(h.map((e) => [e.created_by, e.empty_layer ?? false]).slice(-4)).toEqual([
      ['extra layer # test helper', false],
      ['ghost 1', false],
      ['ghost 2', true],
      ['COPY f /f # buildkit', true],
    ]);
    expect(h.filter((e) => !e.empty_layer)).toHaveLength(r.cfg.rootfs.diff_ids.length);
  });
});
