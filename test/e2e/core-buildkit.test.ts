import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../src/progress/index.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

// BuildKit's Dockerfile tests (frontend/dockerfile/dockerfile_core_test.go, dockerfile_multistage_test.go,
// dockerfile_image_test.go, dockerfile_history_test.go) with their Dockerfiles and expectations, each
// `it` named after its BuildKit test. `FROM busybox` (and alpine) is the test registry's busybox, whose
// own history is one entry over one layer (docker.io busybox: two entries over one layer). Where
// BuildKit reads the image config from containerd or a registry, the config the build returns is read.

const newRoot = () => mkdtempSync(join(tmpdir(), 'tsb-e2e-core-bk-'));
/** Builds from the context's own Dockerfile (or `file`), not from text. */
const fromFile = { dockerfileText: undefined };

// The test registry's busybox has root, app and nobody in /etc/passwd and root, app, staff and
// nogroup in /etc/group: testUser relies on docker.io busybox's users (daemon, the group wheel
// holding root), so this RUN writes those lines first.
const BUSYBOX_USERS =
  "RUN printf 'root:x:0:0:root:/root:/bin/sh\\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\\nnobody:x:65534:65534:nobody:/home:/bin/false\\n' > /etc/passwd && printf 'root:x:0:\\ndaemon:x:1:\\nwheel:x:10:root\\nnobody:x:65534:\\n' > /etc/group";

const vertexNames = (events: ProgressEvent[]) => events.flatMap((e) => (e.type === 'vertex' ? [e.name] : []));

describe('core (BuildKit dockerfile_core_test.go)', () => {
  it('testDockerfileDirs', async () => {
    const df = `
FROM ${registryBase()}
COPY foo /foo2
COPY foo /
RUN echo -n bar > foo3
RUN test -f foo
RUN cmp -s foo foo2
RUN cmp -s foo foo3
`;
    const root = newRoot();
    const dir = makeContext({ Dockerfile: df, foo: 'bar' });
    await buildIt(root, dir, '', { ...fromFile, file: join(dir, 'Dockerfile') });
    // relative urls
    const rel = relative(process.cwd(), dir);
    await buildIt(root, rel, '', { ...fromFile, file: join(rel, 'Dockerfile') });
    // different context and dockerfile directories
    const dir1 = makeContext({ Dockerfile: df });
    const dir2 = makeContext({ foo: 'bar' });
    await buildIt(root, dir2, '', { ...fromFile, file: join(dir1, 'Dockerfile') });
  });

  it('testSymlinkedDockerfile', async () => {
    const dir = makeContext({
      'Dockerfile.web': '\nFROM scratch\nENV foo bar\n',
      Dockerfile: '->Dockerfile.web',
    });
    const r = await buildIt(newRoot(), dir, '', fromFile);
    expect(r.cfg.config?.Env).toContain('foo=bar');
  });

  it('testSymlinkDestination', async () => {
    const t = mkdtempSync(join(tmpdir(), 'tsb-e2e-tar-'));
    symlinkSync('../tmp/symlink-target', join(t, 'symlink'));
    const tar = execFileSync('tar', [
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '-C',
      t,
      '-cf',
      '-',
      'symlink',
    ]);
    const dir = makeContext({ foo: 'content0' });
    writeFileSync(join(dir, 't.tar'), tar);
    const df = '\nFROM scratch\nADD t.tar /\nCOPY foo /symlink/\n';
    const r = await buildIt(newRoot(), dir, df);
    expect(read(r.rootfs, 'tmp/symlink-target/foo')).toBe('content0');
  });

  // tonistiigi/fsutil#46. BuildKit uses a second context dir under the same local name; here the
  // same dir changes, with the same state root.
  it('testContextChangeDirToFile', async () => {
    const df = '\nFROM scratch\nCOPY foo /\n';
    const root = newRoot();
    const dir = makeContext({ 'foo/bar': 'contents' });
    await buildIt(root, dir, df);
    rmSync(join(dir, 'foo'), { recursive: true });
    writeFileSync(join(dir, 'foo'), 'contents2');
    const r = await buildIt(root, dir, df);
    expect(read(r.rootfs, 'foo')).toBe('contents2');
  });

  it('testExposeExpansion', async () => {
    const df = '\nFROM scratch\nARG PORTS="3000 4000/udp"\nEXPOSE $PORTS\nEXPOSE 5000\n';
    const r = await buildIt(newRoot(), makeContext({}), df, {
      tags: ['example.com/moby/dockerfileexpansion:test'],
    });
    const ports = Object.keys(r.cfg.config?.ExposedPorts ?? {}).sort();
    expect(ports).toEqual(['3000/tcp', '4000/udp', '5000/tcp']);
  });

  // moby/moby#10858
  it('testDockerfileLowercase', async () => {
    await buildIt(newRoot(), makeContext({ dockerfile: '\nFROM scratch\n' }), '', fromFile);
  });

  it('testLabels', async () => {
    const r = await buildIt(newRoot(), makeContext({}), '\nFROM scratch\nLABEL foo=bar\n', {
      labels: { bar: 'baz' },
      tags: ['example.com/moby/dockerfilelabels:test'],
    });
    expect(r.cfg.config?.Labels).toMatchObject({ foo: 'bar', bar: 'baz' });
  });

  it('testUser', async () => {
    const df = `
FROM ${registryBase()} AS base
${BUSYBOX_USERS}
RUN mkdir -m 0777 /out
RUN id -un > /out/rootuser

# Make sure our defaults work
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)" = '0:0/root:root' ]

USER root
RUN [ "$(id -G):$(id -Gn)" = '0 10:root wheel' ]

# Setup dockerio user and group
RUN echo 'dockerio:x:1001:1001::/bin:/bin/false' >> /etc/passwd && \\
\techo 'dockerio:x:1001:' >> /etc/group

# Make sure we can switch to our user and all the information is exactly as we expect it to be
USER dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]

# Switch back to root and double check that worked exactly as we might expect it to
USER root
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '0:0/root:root/0 10:root wheel' ] && \\
        # Add a "supplementary" group for our dockerio user
\techo 'supplementary:x:1002:dockerio' >> /etc/group

# ... and then go verify that we get it like we expect
USER dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]
USER 1001
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]

# super test the new "user:group" syntax
USER dockerio:dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER 1001:dockerio
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER dockerio:1001
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER 1001:1001
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]
USER dockerio:supplementary
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER dockerio:1002
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER 1001:supplementary
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]
USER 1001:1002
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]

# make sure unknown uid/gid still works properly
USER 1042:1043
RUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1042:1043/1042:1043/1043:1043' ]
USER daemon
RUN id -un > /out/daemonuser
FROM scratch
COPY --from=base /out /
USER nobody
`;
    const r = await buildIt(newRoot(), makeContext({}), df, {
      tags: ['example.com/moby/dockerfileuser:test'],
    });
    expect(read(r.rootfs, 'rootuser')).toBe('root\n');
    expect(read(r.rootfs, 'daemonuser')).toBe('daemon\n');
    expect(r.cfg.config?.User).toBe('nobody');
  });

  // moby/buildkit#1301. BuildKit's cases: the `hostname` frontend option (none in tsbuild's
  // BuildOptions), the build arg BUILDKIT_SANDBOX_HOSTNAME, and both (the arg wins): the arg here.
  it('testDockerfileCheckHostname', async () => {
    const df = `
FROM ${registryBase()}
RUN cat /etc/hosts | grep foo
RUN echo $HOSTNAME | grep foo
\tRUN echo $(hostname) | grep foo
\t`;
    await buildIt(newRoot(), makeContext({}), df, { buildArgs: { BUILDKIT_SANDBOX_HOSTNAME: 'foo' } });
  });

  it('testStepNames', async () => {
    const df = `
FROM ${registryBase()} AS base
WORKDIR /out
RUN echo "base" > base
FROM scratch
COPY --from=base --chmod=0644 /out /out
`;
    const names = vertexNames((await buildIt(newRoot(), makeContext({}), df)).events);
    expect(names).toContain('[base 3/3] RUN echo "base" > base');
    expect(names).toContain('[stage-1 1/1] COPY --from=base --chmod=0644 /out /out');
  });

  it('testTargetMistype', async () => {
    const df = '\nFROM scratch AS build\nCOPY Dockerfile /out\n\nFROM scratch\nCOPY --from=build /out /\n';
    await expect(
      buildIt(newRoot(), makeContext({ Dockerfile: df }), df, { target: 'bulid' }),
    ).rejects.toThrow('target stage "bulid" could not be found (did you mean build?)');
  });
});

describe('multi-stage (BuildKit dockerfile_multistage_test.go)', () => {
  it('testMultiStageImplicitFrom', async () => {
    const root = newRoot();
    let r = await buildIt(
      root,
      makeContext({}),
      `\nFROM scratch\nCOPY --from=${registryBase()} /etc/passwd test\n`,
    );
    expect(read(r.rootfs, 'test')).toContain('root');
    // testing masked image will load actual stage
    const df = `
FROM ${registryBase()} AS golang
RUN mkdir -p /usr/bin && echo -n foo > /usr/bin/go

FROM scratch
COPY --from=golang /usr/bin/go go
`;
    r = await buildIt(root, makeContext({}), df);
    expect(read(r.rootfs, 'go')).toContain('foo');
  });

  it('testMultiStageCaseInsensitive', async () => {
    const df =
      '\nFROM scratch AS STAge0\nCOPY foo bar\nFROM scratch AS staGE1\nCOPY --from=staGE0 bar baz\nFROM scratch\nCOPY --from=stage1 baz bax\n';
    const r = await buildIt(newRoot(), makeContext({ foo: 'foo-contents' }), df, { target: 'Stage1' });
    expect(read(r.rootfs, 'baz')).toContain('foo-contents');
  });

  it('testOutOfOrderStage', async () => {
    for (const src of ['/', '/d2']) {
      const df = `
FROM ${registryBase()} AS target
COPY --from=build ${src} /out

FROM ${registryBase()} AS build
COPY /Dockerfile /d2

FROM target
`;
      const p = buildIt(newRoot(), makeContext({ Dockerfile: df }), df);
      await expect(p).rejects.toThrow('cannot copy from stage');
      await expect(p).rejects.toThrow('needs to be defined before current stage');
    }
  });

  it('testEmptyStages', async () => {
    await expect(buildIt(newRoot(), makeContext({}), 'ARG foo=bar')).rejects.toThrow(
      'dockerfile contains no stages to build',
    );
  });
});

describe('image (BuildKit dockerfile_image_test.go)', () => {
  it('testPullScratch', async () => {
    const root = newRoot();
    await buildIt(root, makeContext({}), '\nFROM scratch\nLABEL foo=bar\n', {
      tags: ['docker.io/moby/testpullscratch:latest'],
    });
    const df = '\nFROM docker.io/moby/testpullscratch:latest\nLABEL bar=baz\nCOPY foo .\n';
    const r = await buildIt(root, makeContext({ foo: 'foo-contents' }), df, {
      tags: ['docker.io/moby/testpullscratch2:latest'],
    });
    expect(r.cfg.rootfs.type).toBe('layers');
    expect(r.cfg.rootfs.diff_ids).toHaveLength(1);
    expect(r.cfg.config?.Labels).toMatchObject({ foo: 'bar', bar: 'baz' });
    // BuildKit's LLB: busybox runs `echo -n foo0 > /empty/foo` with the scratch image mounted on
    // /empty and exports that mount; a RUN mount is not exported here, so the file is copied out.
    const run = `
FROM ${registryBase()}
RUN --mount=from=docker.io/moby/testpullscratch:latest,target=/empty,rw sh -c "echo -n foo0 > /empty/foo && cp /empty/foo /foo"
`;
    const r2 = await buildIt(root, makeContext({}), run);
    expect(read(r2.rootfs, 'foo')).toBe('foo0');
  });

  it('testDockerfileScratchConfig', async () => {
    const r = await buildIt(newRoot(), makeContext({}), '\nFROM scratch\nENV foo=bar\n', {
      tags: ['example.com/moby/dockerfilescratch:test'],
    });
    const c = r.cfg;
    expect(c.os).not.toBe('');
    expect(c.architecture).not.toBe('');
    expect(c.config?.WorkingDir ?? '').not.toBe('');
    expect(c.rootfs.type).toBe('layers');
    expect(c.rootfs.diff_ids).toHaveLength(0);
    expect(c.history).toHaveLength(1);
    expect(c.history?.[0].created_by).toContain('ENV foo=bar');
    expect(c.history?.[0].empty_layer).toBe(true);
    expect(c.config?.Env).toContain('foo=bar');
    expect(c.config?.Env?.some((e) => e.startsWith('PATH='))).toBe(true);
  });
});

describe('history (BuildKit dockerfile_history_test.go)', () => {
  it('testExportedHistory', async () => {
    // using multi-stage to test that history is scoped to one stage
    const df = `
FROM ${registryBase()} AS base
ENV foo=bar
COPY foo /foo2
FROM ${registryBase()}
LABEL lbl=val
COPY --from=base foo2 foo3
WORKDIR /
RUN echo bar > foo4
RUN ["ls"]
EXPOSE 2375 5000 1234/udp
`;
    const r = await buildIt(newRoot(), makeContext({ foo: 'contents0' }), df, {
      tags: ['example.com/moby/dockerfilescratch:test'],
    });
    const c = r.cfg;
    expect(c.rootfs.type).toBe('layers');
    // busybox's 1 layer + COPY + 2 RUNs (BuildKit: 4 as well)
    expect(c.rootfs.diff_ids).toHaveLength(4);
    // busybox's 1 history entry + 6 (BuildKit: 2 + 6)
    const h = c.history ?? [];
    expect(h).toHaveLength(7);
    const o = 1;
    const want: [string, boolean][] = [
      ['lbl=val', true],
      ['COPY foo2 foo3', false],
      ['WORKDIR /', true],
      ['echo bar > foo4', false],
      ['RUN ls', false],
      // the reference BuildKit's (dockerd 20.10) form: Go's map printing; newer ones print a list,
      // `EXPOSE [1234/udp 2375/tcp 5000/tcp]` (README: history strings follow the reference)
      ['EXPOSE map[1234/udp:{} 2375/tcp:{} 5000/tcp:{}]', true],
    ];
    want.forEach(([by, empty], i) => {
      expect(h[o + i].created_by).toContain(by);
      expect(h[o + i].empty_layer ?? false).toBe(empty);
      expect(h[o + i].created).toBeDefined();
    });
  });

  // moby/buildkit#5505. BuildKit pushes and reads the image back from the registry.
  it('testExportedHistoryFlattenArgs', async () => {
    const df = `\nFROM ${registryBase()}\nARG foo=bar\nARG bar=123\nARG foo=bar2\nRUN ls /etc/\n`;
    const h = (await buildIt(newRoot(), makeContext({}), df)).cfg.history ?? [];
    const first = h.findIndex((e) => e.created_by === 'ARG foo=bar');
    expect(first).toBeGreaterThan(0);
    expect(h).toHaveLength(first + 4);
    expect(h[first + 1].created_by).toContain('ARG bar=123');
    expect(h[first + 2].created_by).toContain('ARG foo=bar2');
    const runLine = h[first + 3].created_by ?? '';
    expect(runLine).toContain('ls /etc/');
    expect(runLine).not.toContain('ARG foo=bar');
    // The reference BuildKit (dockerd 20.10) lists the redeclared ARG twice, checked against it:
    // `RUN |3 foo=bar2 bar=123 foo=bar2`; BuildKit >= 0.19 (moby/buildkit#5508) writes
    // `RUN |2 foo=bar2 bar=123` (README: history strings follow the reference).
    expect(runLine).toContain('RUN |3 foo=bar2 bar=123 foo=bar2 ');
  });

  // BuildKit reads the failed build's record from its history API: the error names /notexist and
  // its source points at the Dockerfile. Here: the error's message, and its line in the Dockerfile.
  it('testHistoryError', async () => {
    const df = '\nFROM scratch\nCOPY notexist /foo\n';
    const p = buildIt(newRoot(), makeContext({ Dockerfile: df }), df);
    await expect(p).rejects.toThrow('/notexist');
    await expect(p).rejects.toMatchObject({ line: 3 });
  });
});
