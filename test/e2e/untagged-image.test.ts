import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../../src/build.js';
import { requireBinary, requireRoot } from '../helpers/require.js';

requireRoot();
requireBinary('runc');

const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');

function context(marker: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-e2e-untagged-ctx-'));
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  writeFileSync(join(dir, 'Dockerfile'), `FROM scratch\nCOPY busybox /bin/sh\nRUN echo ${marker} > /m\n`);
  return dir;
}

function tsb(root: string, ...args: string[]) {
  const r = spawnSync('node', [bin, ...args.slice(0, 1), '--root', root, ...args.slice(1)], {
    encoding: 'utf8',
  });
  return { ...r, out: r.stdout + r.stderr };
}

describe('an image built without a name (Docker: <none>)', () => {
  it('is found by ID until prune; a tag takes its place; rm and prune remove it', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-untagged-'));
    const ctx = context('one');
    const id = tsb(root, 'build', '-q', ctx).stdout.trim();
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(tsb(root, 'images').stdout).toMatch(new RegExp(`^<none> +<none> +${id.slice(7, 19)} `, 'm'));
    const inspect = tsb(root, 'inspect', id.slice(7, 19));
    expect(inspect.status, inspect.out).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ Id: id, RepoTags: [] });
    expect(tsb(root, 'save', '-o', join(root, 'x.tar'), id.slice(7, 19)).status).toBe(0);

    // Tagged, it is listed under the name only; an untagged rebuild of it adds no <none> line.
    expect(tsb(root, 'tag', id, 'named:1').status).toBe(0);
    expect(tsb(root, 'build', '-q', ctx).stdout.trim()).toBe(id);
    let images = tsb(root, 'images').stdout;
    expect(images).toMatch(/^named +1 /m);
    expect(images).not.toContain('<none>');

    // rm by ID removes every record of it, the <none> one included.
    expect(tsb(root, 'rm', 'named:1').status).toBe(0);
    expect(tsb(root, 'build', '-q', '--no-cache', ctx).status).toBe(0);
    const id2 = tsb(root, 'build', '-q', context('two')).stdout.trim();
    images = tsb(root, 'images').stdout;
    expect(images.match(/^<none> /gm)).toHaveLength(2);
    const rm = tsb(root, 'rm', id2.slice(7, 19));
    expect(rm.stdout).toMatch(/^Deleted: sha256:[0-9a-f]{64}$/m);
    expect(tsb(root, 'images').stdout.match(/^<none> /gm)).toHaveLength(1);

    // prune takes the rest (like `docker system prune`); --dry-run only counts it; --filter until
    // keeps what was built since.
    expect(tsb(root, 'prune', '--dry-run').stdout).toContain('Would remove untagged images: 1');
    expect(tsb(root, 'prune', '--filter', 'until=1h').stdout).not.toContain('untagged');
    expect(tsb(root, 'images').stdout).toContain('<none>');
    expect(tsb(root, 'prune').stdout).toContain('Removed untagged images: 1');
    expect(tsb(root, 'images').stdout).not.toContain('<none>');
    const gone = tsb(root, 'inspect', id);
    expect(gone.status).not.toBe(0);
    expect(gone.out).toContain('IMAGE_NOT_FOUND');
    expect(tsb(root, 'fsck').status).toBe(0);
  }, 120_000);

  it('the image a tag moves away from stays as <none>, unless another tag names it', () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-untagged-'));
    const [one, two] = [context('one'), context('two')];
    const id1 = tsb(root, 'build', '-q', '-t', 'app', one).stdout.trim();
    const id2 = tsb(root, 'build', '-q', '-t', 'app', two).stdout.trim();
    expect(id2).not.toBe(id1);
    const none = (id: string) => new RegExp(`^<none> +<none> +${id.slice(7, 19)} `, 'm');
    let images = tsb(root, 'images').stdout;
    expect(images).toMatch(none(id1));
    expect(images).toMatch(new RegExp(`^app +latest +${id2.slice(7, 19)} `, 'm'));
    expect(tsb(root, 'inspect', id1.slice(7, 19)).status).toBe(0);
    // The same build again moves nothing; `tag` moving it back leaves the other one dangling.
    expect(tsb(root, 'build', '-q', '-t', 'app', two).stdout.trim()).toBe(id2);
    expect(tsb(root, 'images').stdout.match(/^<none> /gm)).toHaveLength(1);
    expect(tsb(root, 'tag', id1, 'app').status).toBe(0);
    images = tsb(root, 'images').stdout;
    expect(images).toMatch(none(id2));
    expect(images).not.toMatch(none(id1));
    // An image another tag still names is listed under that tag only.
    expect(tsb(root, 'tag', id1, 'keep:1').status).toBe(0);
    expect(tsb(root, 'build', '-q', '-t', 'app', two).status).toBe(0);
    images = tsb(root, 'images').stdout;
    expect(images).not.toMatch(none(id1));
    expect(images).toMatch(/^keep +1 /m);
  }, 120_000);

  it('with keepUntagged: false (watch) no record is made, nor for a moved tag', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-untagged-'));
    await build({ root, context: context('watch'), keepUntagged: false });
    expect(tsb(root, 'images').stdout).not.toContain('<none>');
    await build({ root, context: context('w1'), tags: ['w'], keepUntagged: false });
    await build({ root, context: context('w2'), tags: ['w'], keepUntagged: false });
    expect(tsb(root, 'images').stdout).not.toContain('<none>');
  }, 60_000);
});
