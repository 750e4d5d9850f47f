import { describe, expect, it } from 'vitest';
import { isEditorTemp } from '../../src/watch/ignore.js';
import { createIgnore, formatSummary } from '../../src/watch/index.js';
import { dockerfilePath, execEnv, outputPaths } from '../../src/watch/watch.js';

const dir = { isDirectory: () => true };
const file = { isDirectory: () => false };

describe('watch ignore rules', () => {
  const ig = createIgnore({
    context: '/ctx',
    excludes: ['node_modules', '*.log', 'Dockerfile', '.dockerignore', 'docs'],
    always: ['/ctx/Dockerfile', '/ctx/.dockerignore', '/elsewhere/Dockerfile'],
    outputs: ['/ctx/out', '/ctx/image.tar', '/var/lib/tsbuild'],
  });

  it('skips .git anywhere and editor temp files', () => {
    expect(ig.ignored('/ctx/.git')).toBe(true);
    expect(ig.ignored('/ctx/.git/index', file)).toBe(true);
    expect(ig.ignored('/ctx/sub/.git/HEAD', file)).toBe(true);
    expect(ig.ignored('/ctx/.gitignore', file)).toBe(false);
    for (const n of ['a.js.swp', '.a.js.swx', 'a.js~', '.#a.js', '#a.js#', '4913', 'a.js___jb_tmp___'])
      expect(ig.ignored(`/ctx/src/${n}`, file), n).toBe(true);
    expect(ig.ignored('/ctx/src/swap.js', file)).toBe(false);
    expect(isEditorTemp('49130')).toBe(false);
  });

  it('applies .dockerignore but always watches the Dockerfile and ignore files', () => {
    expect(ig.ignored('/ctx/node_modules', dir)).toBe(true);
    expect(ig.ignored('/ctx/node_modules/x/index.js', file)).toBe(true);
    expect(ig.ignored('/ctx/app.log', file)).toBe(true);
    expect(ig.ignored('/ctx/src/app.log', file)).toBe(false); // `*.log` is anchored at the root
    expect(ig.ignored('/ctx/docs/a.md', file)).toBe(true);
    expect(ig.ignored('/ctx/Dockerfile', file)).toBe(false);
    expect(ig.ignored('/ctx/.dockerignore', file)).toBe(false);
    expect(ig.ignored('/elsewhere/Dockerfile', file)).toBe(false);
    expect(ig.ignored('/elsewhere/other', file)).toBe(true);
    expect(ig.ignored('/ctx', dir)).toBe(false);
    expect(ig.ignored('/ctx/src/main.js', file)).toBe(false);
  });

  it('ignores what the build writes', () => {
    expect(ig.ignored('/ctx/out', dir)).toBe(true);
    expect(ig.ignored('/ctx/out/bin/app', file)).toBe(true);
    expect(ig.ignored('/ctx/image.tar', file)).toBe(true);
    expect(ig.ignored('/ctx/image.tar.tmp-123-456', file)).toBe(true);
    expect(ig.ignored('/ctx/image.tarball', file)).toBe(false);
    expect(ig.ignored('/ctx/outside', file)).toBe(false);
  });

  it('descends into an excluded directory when a ! pattern may re-include below it', () => {
    const re = createIgnore({ context: '/c', excludes: ['vendor', '!vendor/keep.txt'] });
    expect(re.ignored('/c/vendor', dir)).toBe(false);
    expect(re.ignored('/c/vendor')).toBe(false);
    expect(re.ignored('/c/vendor/drop.txt', file)).toBe(true);
    expect(re.ignored('/c/vendor/keep.txt', file)).toBe(false);
    expect(re.ignoresEvent('/c/vendor/drop.txt', false)).toBe(true);
    expect(re.ignoresEvent('/c/vendor/keep.txt', false)).toBe(false);
  });

  it('knows the paths a build writes and the Dockerfile it reads', () => {
    const out = outputPaths({
      root: '/r',
      context: '/c',
      outputs: ['type=oci,dest=/c/img.tar', '/c/local-out', 'type=image,name=x', 'type=tar,dest=-'],
      iidfile: '/c/iid',
      metadataFile: '/c/meta.json',
    });
    expect(out).toEqual(['/r', '/c/img.tar', '/c/local-out', '/c/iid', '/c/meta.json']);
    expect(dockerfilePath({}, '/nonexistent')).toBe('/nonexistent/Dockerfile');
    expect(dockerfilePath({ file: '/x/Containerfile' }, '/c')).toBe('/x/Containerfile');
    expect(dockerfilePath({ dockerfileText: 'FROM scratch' }, '/c')).toBeUndefined();
    expect(() => dockerfilePath({ file: '-' }, '/c')).toThrow(/stdin/);
  });

  it('gives --exec the image as tagged, its digest and id', () => {
    const r = {
      digest: 'sha256:aa',
      configDigest: 'sha256:bb',
      tags: ['docker.io/library/app:dev'],
    } as Parameters<typeof execEnv>[1];
    expect(execEnv(['app:dev'], r)).toEqual({
      TSBUILD_IMAGE: 'app:dev',
      TSBUILD_DIGEST: 'sha256:aa',
      TSBUILD_IMAGE_ID: 'sha256:bb',
      TSBUILD_TAGS: 'docker.io/library/app:dev',
    });
    expect(execEnv(undefined, { ...r, tags: [] }).TSBUILD_IMAGE).toBe('sha256:aa');
  });

  it('prints one summary line per rebuild', () => {
    const line = formatSummary({
      n: 3,
      changed: ['a', 'b', 'c', 'd', 'e'],
      stepsRun: 1,
      stepsCached: 6,
      duration: 212,
      digest: 'sha256:abc',
      tags: ['docker.io/library/app:latest'],
    });
    expect(line).toBe(
      '#3 5 files changed (a, b, c, +2 more) · 1 step run, 6 cached · 212ms · sha256:abc · docker.io/library/app:latest',
    );
    expect(line).not.toContain('\n');
    expect(
      formatSummary({
        n: 0,
        changed: [],
        stepsRun: 4,
        stepsCached: 0,
        duration: 4100,
        digest: 'sha256:d',
        tags: [],
      }),
    ).toBe('#0 initial build · 4 steps run, 0 cached · 4.10s · sha256:d');
  });
});
