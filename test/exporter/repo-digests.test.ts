import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCli } from '../helpers/run-cli.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));

/** `images --digests` as {"repo:tag": digest}. */
async function digests(env: Record<string, string>): Promise<Record<string, string>> {
  const r = await runCli(['images', '--format', '{{.Repository}}:{{.Tag}} {{.Digest}}'], { env });
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );
}

describe("repo digests (docker's RepoDigests): what a registry calls the image", () => {
  let reg: TestRegistry;
  let env: Record<string, string>;
  let base: ReturnType<typeof pushBusyboxImage>;
  let ctx: string;
  beforeAll(async () => {
    reg = await startRegistry();
    base = pushBusyboxImage(reg, 'library/busybox:latest');
    env = { TSBUILD_ROOT: tmp('tsb-repodigest-root-') };
    ctx = tmp('tsb-repodigest-ctx-');
    writeFileSync(join(ctx, 'a'), 'a\n');
    writeFileSync(join(ctx, 'Dockerfile'), `FROM ${base.ref}\nCOPY a /a\n`);
  });
  afterAll(() => reg?.stop());

  /** The manifest digest the registry serves for `repo:tag`. */
  async function registryDigest(repoTag: string): Promise<string> {
    const [repo, tag] = repoTag.split(':');
    const r = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    return r.headers.get('docker-content-digest') ?? '';
  }

  it('a pulled image has its registry digest; a built one has none until it is pushed', async () => {
    const app = `${reg.host}/team/app`;
    const b = await runCli(['build', '-q', '-t', `${app}:1`, ctx], { env });
    expect(b.status, b.stderr).toBe(0);
    expect((await runCli(['tag', `${app}:1`, `${app}:same`], { env })).status).toBe(0);
    expect((await runCli(['tag', `${app}:1`, 'other:1'], { env })).status).toBe(0);
    let d = await digests(env);
    // the base, pulled by the build: the digest it has in its registry
    expect(d[`${reg.host}/library/busybox:latest`]).toBe(base.manifestDigest);
    expect([d[`${app}:1`], d[`${app}:same`], d['other:1']]).toEqual(['<none>', '<none>', '<none>']);

    // pushed (its layers gzip-compressed on the way: another manifest than the local one)
    const p = await runCli(['push', `${app}:1`], { env });
    expect(p.status, p.stderr).toBe(0);
    const pushed = p.stdout.trim().split('@')[1]!;
    expect(pushed).toBe(await registryDigest('team/app:1'));
    const local = JSON.parse((await runCli(['inspect', `${app}:1`], { env })).stdout);
    expect(local.Digest).not.toBe(pushed);
    d = await digests(env);
    // every tag of that repository naming the image shows it; another repository's does not
    expect([d[`${app}:1`], d[`${app}:same`], d['other:1']]).toEqual([pushed, pushed, '<none>']);
    // inspect, as docker's: every repository's digest of the image, whichever tag asked
    const other = JSON.parse((await runCli(['inspect', 'other:1'], { env })).stdout);
    expect(other.RepoDigests).toEqual([`${app}@${pushed}`]);

    // the tag moved to a new image: not pushed yet
    writeFileSync(join(ctx, 'a'), 'a2\n');
    expect((await runCli(['build', '-q', '-t', `${app}:1`, ctx], { env })).status).toBe(0);
    d = await digests(env);
    expect([d[`${app}:1`], d[`${app}:same`]]).toEqual(['<none>', pushed]);
  });

  it('a build with --push has the digest it pushed; a loaded image has none', async () => {
    const app = `${reg.host}/team/app`;
    const b = await runCli(['build', '-q', '--push', '-t', `${app}:2`, ctx], { env });
    expect(b.status, b.stderr).toBe(0);
    expect((await digests(env))[`${app}:2`]).toBe(await registryDigest('team/app:2'));
    const archive = join(tmp('tsb-repodigest-save-'), 'a.tar');
    expect((await runCli(['save', '-o', archive, `${app}:2`], { env })).status).toBe(0);
    const other = { TSBUILD_ROOT: tmp('tsb-repodigest-load-') };
    expect((await runCli(['load', '-i', archive], { env: other })).status).toBe(0);
    expect((await digests(other))[`${app}:2`]).toBe('<none>');
  });
});
