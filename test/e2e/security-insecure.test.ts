import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

describe('RUN --security=insecure', () => {
  const df = () => `FROM ${registryBase()}
RUN grep CapEff /proc/self/status > /caps.default
RUN --security=insecure grep CapEff /proc/self/status > /caps.insecure && mkdir -p /mnt/t && mount -t tmpfs none /mnt/t && touch /mnt/t/x && umount /mnt/t && echo mounted > /ok
`;

  it('needs the security.insecure entitlement, as BuildKit does', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-insecure-'));
    await expect(buildIt(root, makeContext({}), df())).rejects.toThrow(/--allow security\.insecure/);
  });

  it('with --allow security.insecure runs privileged: every capability, mount(2) allowed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-insecure-'));
    const r = await buildIt(root, makeContext({}), df(), { allow: ['security.insecure'] });
    // Docker's default set (0xa80425fb) for a plain RUN; insecure: every capability tsbuild holds
    const ours = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    expect(read(r.rootfs, 'caps.default')).toMatch(/CapEff:\s+00000000a80425fb/);
    expect(read(r.rootfs, 'caps.insecure').trim()).toBe(`CapEff:\t${ours}`);
    expect(read(r.rootfs, 'ok')).toBe('mounted\n');
  });
});
