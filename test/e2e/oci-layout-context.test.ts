import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, ranSteps, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

// `--build-context NAME=oci-layout://PATH[:TAG][@DIGEST]` as buildx reads it: the image that tag
// (or digest, or the layout's only entry) names stands in for NAME; its blobs are copied into the
// store, each checked against its digest.

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

interface Index {
  manifests: { digest: string; annotations?: Record<string, string> }[];
}

describe('--build-context NAME=oci-layout://', () => {
  const base = useBusyboxRegistry();

  /** An image built here and written as an OCI layout dir tagged `tag`. */
  async function layoutOf(df: string, tag: string, extra: { platform?: string } = {}): Promise<string> {
    const dir = join(tmp('tsb-e2e-layout-'), 'l');
    await buildIt(tmp('tsb-e2e-layout-root-'), makeContext({ 'f.txt': `${tag}\n` }), df, {
      outputs: [`type=oci,dest=${dir},tar=false,name=img:${tag}`],
      ...extra,
    });
    return dir;
  }
  const index = (dir: string) => JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Index;

  it('FROM and COPY --from read the tagged image, its config carried; a fresh store gets its blobs', async () => {
    const lay = await layoutOf(`FROM ${base()}\nENV FROM_LAYOUT=1\nCOPY f.txt /f.txt\n`, 'v1');
    expect(index(lay).manifests[0]?.annotations?.['org.opencontainers.image.ref.name']).toBe('v1');
    const df =
      'FROM lay\nRUN cat /f.txt > /seen && echo "$FROM_LAYOUT" > /env\nFROM lay AS two\nCOPY --from=lay /f.txt /copied\n';
    const r = await buildIt(tmp('tsb-e2e-lroot-'), makeContext({}), df, {
      buildContexts: { lay: `oci-layout://${lay}:v1` },
      target: 'two',
    });
    expect(read(r.rootfs, 'copied')).toBe('v1\n');
    expect(r.cfg.config?.Env).toContain('FROM_LAYOUT=1');
    expect(
      r.events.some((e) => e.type === 'vertex' && e.name.includes(`load metadata for oci-layout://`)),
    ).toBe(true);
    const first = await buildIt(tmp('tsb-e2e-lroot-'), makeContext({}), df.split('FROM lay AS')[0]!, {
      buildContexts: { lay: `oci-layout://${lay}` },
    });
    // no `latest` tag: the layout's only image
    expect(read(first.rootfs, 'seen')).toBe('v1\n');
    expect(read(first.rootfs, 'env')).toBe('1\n');
  });

  it('picks the tag, else the digest, among several images; a changed tag re-runs what follows', async () => {
    const a = await layoutOf('FROM scratch\nCOPY f.txt /\n', 'a');
    const b = await layoutOf('FROM scratch\nCOPY f.txt /\n', 'b');
    // One layout holding both, as `skopeo copy` into an existing layout makes it.
    cpSync(join(b, 'blobs'), join(a, 'blobs'), { recursive: true });
    const both = { ...index(a), manifests: [...index(a).manifests, ...index(b).manifests] };
    writeFileSync(join(a, 'index.json'), JSON.stringify(both));
    const root = tmp('tsb-e2e-lroot-');
    const df = 'FROM lay\n';
    const built = async (v: string) =>
      buildIt(root, makeContext({}), `${df}`, { buildContexts: { lay: `oci-layout://${a}${v}` } });
    expect(read((await built(':a')).rootfs, 'f.txt')).toBe('a\n');
    expect(read((await built(':b')).rootfs, 'f.txt')).toBe('b\n');
    expect(read((await built(`@${both.manifests[0]!.digest}`)).rootfs, 'f.txt')).toBe('a\n');
    const withRun = `FROM ${base()}\nCOPY --from=lay /f.txt /f\nRUN cat /f > /g\n`;
    const once = await buildIt(root, makeContext({}), withRun, {
      buildContexts: { lay: `oci-layout://${a}:a` },
    });
    expect(ranSteps(once.events).some((n) => n.includes('RUN cat'))).toBe(true);
    const again = await buildIt(root, makeContext({}), withRun, {
      buildContexts: { lay: `oci-layout://${a}:a` },
    });
    expect(again.stepsRun).toBe(0);
    const other = await buildIt(root, makeContext({}), withRun, {
      buildContexts: { lay: `oci-layout://${a}:b` },
    });
    expect(read(other.rootfs, 'g')).toBe('b\n');
    expect(ranSteps(other.events).some((n) => n.includes('RUN cat'))).toBe(true);
  });

  it("an index in the layout: the build platform's manifest is used", async () => {
    const lay = await layoutOf('FROM scratch\nARG TARGETARCH\nCOPY f.txt /\n', 'multi', {
      platform: 'linux/amd64,linux/arm64',
    });
    const r = await buildIt(tmp('tsb-e2e-lroot-'), makeContext({}), 'FROM lay\n', {
      buildContexts: { lay: `oci-layout://${lay}:multi` },
      platform: 'linux/arm64',
    });
    expect(r.cfg.architecture).toBe('arm64');
    expect(read(r.rootfs, 'f.txt')).toBe('multi\n');
  });

  it('refuses a missing tag or layout, and a blob that does not match its digest, leaving the store sound', async () => {
    const a = await layoutOf('FROM scratch\nCOPY f.txt /\n', 'a');
    const b = await layoutOf('FROM scratch\nCOPY f.txt /\n', 'b');
    cpSync(join(b, 'blobs'), join(a, 'blobs'), { recursive: true });
    writeFileSync(
      join(a, 'index.json'),
      JSON.stringify({ ...index(a), manifests: [...index(a).manifests, ...index(b).manifests] }),
    );
    const ctx = makeContext({ Dockerfile: 'FROM lay\n' });
    const root = tmp('tsb-e2e-lroot-');
    const run = (...args: string[]) =>
      spawnSync('node', [bin, 'build', '--root', root, ...args, ctx], { encoding: 'utf8' });
    const noTag = run('--build-context', `lay=oci-layout://${a}:nope`);
    expect(noTag.status).toBe(1);
    expect(noTag.stderr).toContain(`no image tagged "nope" in ${a}/index.json (2 entries)`);
    const noDir = run('--build-context', 'lay=oci-layout:///nonexistent/layout');
    expect(noDir.stderr).toContain('/nonexistent/layout not found');
    // Image a's layer with one byte flipped: refused, nothing of it stored.
    const blobs = join(a, 'blobs', 'sha256');
    const blob = (d: string) => readFileSync(join(blobs, d.slice('sha256:'.length)));
    const manifest = JSON.parse(blob(index(a).manifests[0]!.digest).toString()) as {
      layers: { digest: string }[];
    };
    const big = manifest.layers[0]!.digest.slice('sha256:'.length);
    const bytes = readFileSync(join(blobs, big));
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    writeFileSync(join(blobs, big), bytes);
    const bad = run('--build-context', `lay=oci-layout://${a}:a`);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('[INVALID_OCI_LAYOUT]');
    expect(bad.stderr).toContain(`OCI layout ${a}: blob sha256:${big}`);
    // A blob that is a device (or a FIFO) is refused before anything reads it.
    rmSync(join(blobs, big));
    symlinkSync('/dev/zero', join(blobs, big));
    const dev = run('--build-context', `lay=oci-layout://${a}:a`);
    expect(dev.status).toBe(1);
    expect(dev.stderr).toContain(`blob sha256:${big} is missing or not a regular file`);
    const fsck = spawnSync('node', [bin, 'fsck', '--root', root], { encoding: 'utf8' });
    expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
    expect(fsck.stdout).not.toContain(big);
  });
});
