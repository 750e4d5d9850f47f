import { chmodSync, lstatSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

// BuildKit's COPY tests (frontend/dockerfile/dockerfile_copy_test.go) with their Dockerfiles and
// expectations; busybox (and alpine) is the test registry's busybox, which has no /etc/passwd,
// /etc/group or adduser, so the tests that need users write those files first. A RUN's own test
// (`[ ... ]`) fails the build if wrong.

const root = () => mkdtempSync(join(tmpdir(), 'tsb-e2e-copybk-'));

/** A context as BuildKit's fstest makes it: files 0600 and dirs 0700 unless `modes` says otherwise. */
function context(files: Record<string, string>, modes: Record<string, number> = {}): string {
  const dir = makeContext(files);
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    const rel = p.slice(dir.length + 1);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    chmodSync(p, modes[rel] ?? (st.isDirectory() ? 0o700 : 0o600));
  }
  return dir;
}

describe('COPY (BuildKit dockerfile_copy_test.go)', () => {
  it('testDockerfileCopyFromArgs', async () => {
    const df = '\nFROM scratch\nCOPY --from=$FOO . .\n';
    await expect(buildIt(root(), context({}), df)).rejects.toThrow(
      'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
    );
  });

  it('testChmodNonOctal', async () => {
    const tcases = [
      { src: 'file', dst: 'f1', mode: 'go-w', isDir: false },
      { src: 'file', dst: 'f2', mode: 'u=rw,g=r,o=r', isDir: false },
      { src: 'file', dst: 'f3', mode: 'a+X', isDir: false },
      { src: 'dir', dst: 'd1', mode: 'go-w', isDir: true },
      { src: 'dir', dst: 'd2', mode: 'u+rw,g+r,o-x,o+w', isDir: true },
      { src: 'dir', dst: 'd3', mode: 'a+X', isDir: true },
    ];
    let expected = '';
    let copies = '';
    let verify = '';
    for (const tc of tcases) {
      if (tc.isDir) {
        // create nested input dir because COPY copies directory contents
        expected += `RUN mkdir -p /input/dirs/${tc.dst} && cp -a /input/${tc.src} /input/dirs/${tc.dst}/${tc.dst}\n`;
        expected += `RUN cp -a /input/dirs/${tc.dst}/. /expected/ && chmod ${tc.mode} /expected/${tc.dst}\n`;
        copies += `COPY --from=base --chmod=${tc.mode} /input/dirs/${tc.dst} /\n`;
      } else {
        expected += `RUN cp -a /input/${tc.src} /expected/${tc.dst} && chmod ${tc.mode} /expected/${tc.dst}\n`;
        copies += `COPY --from=base --chmod=${tc.mode} /input/${tc.src} /${tc.dst}\n`;
      }
      verify += `RUN [ "$(stat -c %A /actual/${tc.dst})" = "$(stat -c %A /expected/${tc.dst})" ]\n`;
    }
    const df = `
FROM ${registryBase()} as base
RUN <<eot
\tset -ex
\tmkdir /input
\ttouch /input/file
\tchmod 666 /input/file
\tmkdir /input/dir
\tchmod 124 /input/dir
\tmkdir /expected
eot
${expected}

FROM scratch as result
${copies}

FROM base
COPY --from=result / /actual/
${verify}

`;
    await buildIt(root(), context({}), df);
  });

  it('testEmptyDestDir', async () => {
    const df = `
FROM ${registryBase()}
ENV empty=""
COPY testfile $empty
RUN [ "$(cat testfile)" == "contents0" ]
`;
    await buildIt(root(), context({ testfile: 'contents0' }), df);
  });

  it('testPreserveDestDirSlash', async () => {
    const df = `
FROM ${registryBase()}
COPY testfile /sample/
RUN [ "$(cat /sample/testfile)" == "contents0" ]
`;
    await buildIt(root(), context({ testfile: 'contents0' }), df);
  });

  it('testCopyLinkDotDestDir', async () => {
    const df = `
FROM ${registryBase()}
WORKDIR /var/www
COPY --link testfile .
RUN [ "$(cat testfile)" == "contents0" ]
`;
    await buildIt(root(), context({ testfile: 'contents0' }), df);
  });

  it('testCopyLinkEmptyDestDir', async () => {
    const df = `
FROM ${registryBase()}
WORKDIR /var/www
ENV empty=""
COPY --link testfile $empty
RUN [ "$(cat testfile)" == "contents0" ]
`;
    await buildIt(root(), context({ testfile: 'contents0' }), df);
  });

  it('testCopyChownExistingDir', async () => {
    const check = (e: string, p: string) =>
      `e="${e}"; p="${p}"; a=\`stat -c "%u:%g" "$p"\`; if [ "$a" != "$e" ]; then echo "incorrect ownership on $p. expected $e, got $a"; exit 1; fi`;
    const df = `
# Set up files and directories with known ownership
FROM ${registryBase()} AS source
RUN touch /file && chown 100:200 /file \\
 && mkdir -p /dir/subdir \\
 && touch /dir/subdir/nestedfile \\
 && chown 100:200 /dir \\
 && chown 101:201 /dir/subdir \\
 && chown 102:202 /dir/subdir/nestedfile

FROM ${registryBase()} AS test_base
RUN mkdir -p /existingdir/existingsubdir \\
 && touch /existingdir/existingfile \\
 && chown 500:600 /existingdir \\
 && chown 501:601 /existingdir/existingsubdir \\
 && chown 501:601 /existingdir/existingfile


# Copy files from the source stage
FROM test_base AS copy_from
COPY --from=source /file .
# Copy to a non-existing target directory creates the target directory (as root), then copies the _contents_ of the source directory into it
COPY --from=source /dir /dir
# Copying to an existing target directory will copy the _contents_ of the source directory into it
COPY --from=source /dir/. /existingdir

RUN ${check('100:200', '/file')} \\
 && ${check('0:0', '/dir')} \\
 && ${check('101:201', '/dir/subdir')} \\
 && ${check('102:202', '/dir/subdir/nestedfile')} \\
# Existing files and directories ownership should not be modified
 && ${check('500:600', '/existingdir')} \\
 && ${check('501:601', '/existingdir/existingsubdir')} \\
 && ${check('501:601', '/existingdir/existingfile')} \\
# But new files and directories should maintain their ownership
 && ${check('101:201', '/existingdir/subdir')} \\
 && ${check('102:202', '/existingdir/subdir/nestedfile')}


# Copy files from the source stage and chown them.
FROM test_base AS copy_from_chowned
COPY --from=source --chown=300:400 /file .
# Copy to a non-existing target directory creates the target directory (as root), then copies the _contents_ of the source directory into it
COPY --from=source --chown=300:400 /dir /dir
# Copying to an existing target directory copies the _contents_ of the source directory into it
COPY --from=source --chown=300:400 /dir/. /existingdir

RUN ${check('300:400', '/file')} \\
 && ${check('300:400', '/dir')} \\
 && ${check('300:400', '/dir/subdir')} \\
 && ${check('300:400', '/dir/subdir/nestedfile')} \\
# Existing files and directories ownership should not be modified
 && ${check('500:600', '/existingdir')} \\
 && ${check('501:601', '/existingdir/existingsubdir')} \\
 && ${check('501:601', '/existingdir/existingfile')} \\
# But new files and directories should be chowned
 && ${check('300:400', '/existingdir/subdir')} \\
 && ${check('300:400', '/existingdir/subdir/nestedfile')}
`;
    const dir = root();
    const ctx = context({});
    await buildIt(dir, ctx, df);
    await buildIt(dir, ctx, df, { target: 'copy_from' });
  });

  it('testCopyWildcardCache', async () => {
    const df = `
FROM ${registryBase()} AS base
COPY foo* files/
RUN cat /dev/urandom | head -c 100 | sha256sum > unique
COPY bar files/
FROM scratch
COPY --from=base unique /
`;
    const dir = root();
    const ctx = context({ foo1: 'foo1-data', foo2: 'foo2-data', bar: 'bar-data' });
    const first = await buildIt(dir, ctx, df);
    const dt = read(first.rootfs, 'unique');
    writeFileSync(join(ctx, 'bar'), 'bar-data-mod', { mode: 0o600 });
    const second = await buildIt(dir, ctx, df);
    expect(read(second.rootfs, 'unique')).toBe(dt);
    writeFileSync(join(ctx, 'foo2'), 'foo2-data-mod', { mode: 0o600 });
    const third = await buildIt(dir, ctx, df);
    expect(read(third.rootfs, 'unique')).not.toBe(dt);
  });

  it('testEmptyWildcard', async () => {
    const df = '\nFROM scratch\nCOPY foo nomatch* /\n';
    const r = await buildIt(root(), context({ foo: 'contents0' }), df);
    expect(read(r.rootfs, 'foo')).toBe('contents0');
  });

  it('testCopyChownCreateDest', async () => {
    // BuildKit runs `adduser -D user` and `adduser -D user01`; this busybox has no adduser, so the
    // two RUNs write the passwd/group lines adduser -D would (uids/gids 1000 and 1001).
    const df = `
FROM ${registryBase()}
ARG group
ENV owner user01
RUN echo "root:x:0:0:root:/root:/bin/sh" > /etc/passwd && echo "user:x:1000:1000::/home/user:/bin/sh" >> /etc/passwd && printf "root:x:0:\\nuser:x:1000:\\n" > /etc/group
RUN echo "user01:x:1001:1001::/home/user01:/bin/sh" >> /etc/passwd && echo "user01:x:1001:" >> /etc/group
COPY --chown=user:user . /dest
COPY --chown=\${owner}:\${group} . /dest01
RUN [ "$(stat -c "%U %G" /dest)" == "user user" ]
RUN [ "$(stat -c "%U %G" /dest01)" == "user01 user" ]
`;
    await buildIt(root(), context({}), df, { buildArgs: { group: 'user' } });
  });

  it('testCopyThroughSymlinkContext', async () => {
    const df = '\nFROM scratch\nCOPY link/foo .\n';
    const ctx = context({ link: '->sub', 'sub/foo': 'contents' });
    const r = await buildIt(root(), ctx, df);
    expect(read(r.rootfs, 'foo')).toBe('contents');
  });

  it('testCopyThroughSymlinkMultiStage', async () => {
    const df = `
FROM ${registryBase()} AS build
RUN mkdir -p /out/sub && ln -s /out/sub /sub && ln -s out/sub /sub2 && echo -n "data" > /sub/foo
FROM scratch
COPY --from=build /sub/foo .
COPY --from=build /sub2/foo bar
\t`;
    const r = await buildIt(root(), context({}), df);
    expect(read(r.rootfs, 'foo')).toBe('data');
  });

  it('testCopySocket', async () => {
    const df = '\nFROM scratch\nCOPY . /\n';
    const ctx = context({});
    const server = createServer();
    await new Promise<void>((res) => server.listen(join(ctx, 'socket.sock'), res));
    chmodSync(join(ctx, 'socket.sock'), 0o600);
    try {
      const r = await buildIt(root(), ctx, df);
      // make sure socket is converted to regular file.
      expect(lstatSync(join(r.rootfs, 'socket.sock')).isFile()).toBe(true);
    } finally {
      await new Promise<void>((res) => server.close(() => res()));
    }
  });

  // #1197
  it('testCopyFollowAllSymlinks', async () => {
    const df = '\nFROM scratch\nCOPY foo /\nCOPY foo/sub bar\n';
    const ctx = context({ bar: 'bar-contents', 'foo/sub': '->../bar' });
    await buildIt(root(), ctx, df);
  });

  it('testCopySymlinks', async () => {
    const df = '\nFROM scratch\nCOPY foo /\nCOPY sub/l* alllinks/\n';
    const ctx = context({
      bar: 'bar-contents',
      foo: '->bar',
      'sub/lfile': 'lfile-contents',
      'sub/l0': '->subfile',
      'sub/subfile': 'subfile-contents',
      'sub/l1': '->second',
      'sub/second': '->baz',
      'sub/baz': 'baz-contents',
    });
    const r = await buildIt(root(), ctx, df);
    expect(read(r.rootfs, 'foo')).toBe('bar-contents');
    expect(read(r.rootfs, 'alllinks/l0')).toBe('subfile-contents');
    expect(read(r.rootfs, 'alllinks/lfile')).toBe('lfile-contents');
    expect(read(r.rootfs, 'alllinks/l1')).toBe('baz-contents');
  });

  it('testCopyChown', async () => {
    // BuildKit's busybox has daemon (1:1) and nobody (65534:65534) in /etc/passwd and /etc/group;
    // this one has neither file, so the first RUN writes them.
    const df = `
FROM ${registryBase()} AS base
RUN printf "root:x:0:0:root:/root:/bin/sh\\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\\nnobody:x:65534:65534:nobody:/home:/bin/false\\n" > /etc/passwd && printf "root:x:0:\\ndaemon:x:1:\\nnobody:x:65534:\\n" > /etc/group
ENV owner 1000
RUN mkdir -m 0777 /out
COPY --chown=daemon foo /
COPY --chown=1000:nobody bar /baz
ARG group
COPY --chown=\${owner}:\${group} foo /foobis
RUN stat -c "%U %G" /foo  > /out/fooowner
RUN stat -c "%u %G" /baz/sub  > /out/subowner
RUN stat -c "%u %G" /foobis  > /out/foobisowner
FROM scratch
COPY --from=base /out /
`;
    const ctx = context({ foo: 'foo-contents', 'bar/sub': '' });
    const r = await buildIt(root(), ctx, df, { buildArgs: { group: 'nobody' } });
    expect(read(r.rootfs, 'fooowner')).toBe('daemon daemon\n');
    expect(read(r.rootfs, 'subowner')).toBe('1000 nobody\n');
    expect(read(r.rootfs, 'foobisowner')).toBe('1000 nobody\n');
  });

  it('testCopyChmod', async () => {
    const df = `
FROM ${registryBase()} AS base

RUN mkdir -m 0777 /out
COPY --chmod=0644 foo /
COPY --chmod=777 bar /baz
COPY --chmod=0 foo /foobis
COPY --chmod=777 foo /parent/foo
COPY --chmod=770 foo /parent/sub/foo

ARG mode
COPY --chmod=\${mode} foo /footer

RUN stat -c "%04a" /foo  > /out/fooperm
RUN stat -c "%04a" /baz  > /out/barperm
RUN stat -c "%04a" /foobis  > /out/foobisperm
RUN stat -c "%04a" /parent  > /out/parentperm
RUN stat -c "%04a" /parent/sub  > /out/subparentperm
RUN stat -c "%04a" /footer  > /out/footerperm
FROM scratch
COPY --from=base /out /
`;
    const ctx = context({ foo: 'foo-contents', bar: 'bar-contents' }, { bar: 0o700 });
    const r = await buildIt(root(), ctx, df, { buildArgs: { mode: '755' } });
    expect(read(r.rootfs, 'fooperm')).toBe('0644\n');
    expect(read(r.rootfs, 'barperm')).toBe('0777\n');
    expect(read(r.rootfs, 'foobisperm')).toBe('0000\n');
    // Deliberately not BuildKit >= 0.21 here (fsutil#228 gives created parents the --chmod mode,
    // moby/buildkit#5943 still argues it): dockerd 20.10's BuildKit, the reference peer, makes them
    // 0755, and so does tsbuild (README, Conformance).
    expect(read(r.rootfs, 'parentperm')).toBe('0755\n');
    expect(read(r.rootfs, 'subparentperm')).toBe('0755\n');
    expect(read(r.rootfs, 'footerperm')).toBe('0755\n');
  });

  it('testCopyInvalidChmod', async () => {
    const ctx = context({ foo: 'foo-contents' });
    await expect(buildIt(root(), ctx, '\nFROM scratch\nCOPY --chmod=64a foo /\n')).rejects.toThrow(
      "invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777",
    );
    await expect(buildIt(root(), ctx, '\nFROM scratch\nCOPY --chmod=10000 foo /\n')).rejects.toThrow(
      "invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777",
    );
  });

  it('testCopyOverrideFiles', async () => {
    const df = `
FROM scratch AS base
COPY sub sub
COPY sub sub
COPY files/foo.go dest/foo.go
COPY files/foo.go dest/foo.go
COPY files dest
`;
    const ctx = context({ 'sub/dir1/dir2/foo': 'foo-contents', 'files/foo.go': 'foo.go-contents' });
    const r = await buildIt(root(), ctx, df);
    expect(read(r.rootfs, 'sub/dir1/dir2/foo')).toBe('foo-contents');
    expect(read(r.rootfs, 'dest/foo.go')).toBe('foo.go-contents');
  });

  it('testCopyVarSubstitution', async () => {
    const df = '\nFROM scratch AS base\nENV FOO bar\nCOPY $FOO baz\n';
    const r = await buildIt(root(), context({ bar: 'bar-contents' }), df);
    expect(read(r.rootfs, 'baz')).toBe('bar-contents');
  });

  it('testCopyWildcards', async () => {
    const df = `
FROM scratch AS base
COPY *.go /gofiles/
COPY f*.go foo2.go
COPY sub/* /subdest/
COPY sub/*/dir2/foo /subdest2/
COPY sub/*/dir2/foo /subdest3/bar
COPY . all/
COPY sub/dir1/ subdest4
COPY sub/dir1/. subdest5
COPY sub/dir1 subdest6
`;
    const ctx = context({
      'foo.go': 'foo-contents',
      'bar.go': 'bar-contents',
      'sub/dir1/dir2/foo': 'foo-contents',
    });
    const r = await buildIt(root(), ctx, df);
    expect(read(r.rootfs, 'gofiles/foo.go')).toBe('foo-contents');
    expect(read(r.rootfs, 'gofiles/bar.go')).toBe('bar-contents');
    expect(read(r.rootfs, 'foo2.go')).toBe('foo-contents');
    expect(read(r.rootfs, 'subdest/dir2/foo')).toBe('foo-contents');
    expect(read(r.rootfs, 'subdest2/foo')).toBe('foo-contents');
    expect(read(r.rootfs, 'subdest3/bar')).toBe('foo-contents');
    expect(read(r.rootfs, 'all/foo.go')).toBe('foo-contents');
    expect(read(r.rootfs, 'subdest4/dir2/foo')).toBe('foo-contents');
    expect(read(r.rootfs, 'subdest5/dir2/foo')).toBe('foo-contents');
    expect(read(r.rootfs, 'subdest6/dir2/foo')).toBe('foo-contents');
  });

  it('testCopyRelative', async () => {
    const df = `
FROM ${registryBase()}
WORKDIR /test1
WORKDIR test2
RUN sh -c "[ "$PWD" = '/test1/test2' ]"
COPY foo ./
RUN sh -c "[ $(cat /test1/test2/foo) = 'hello' ]"
ADD foo ./bar/baz
RUN sh -c "[ $(cat /test1/test2/bar/baz) = 'hello' ]"
COPY foo ./bar/baz2
RUN sh -c "[ $(cat /test1/test2/bar/baz2) = 'hello' ]"
WORKDIR ..
COPY foo ./
RUN sh -c "[ $(cat /test1/foo) = 'hello' ]"
COPY foo /test3/
RUN sh -c "[ $(cat /test3/foo) = 'hello' ]"
WORKDIR /test4
COPY . .
RUN sh -c "[ $(cat /test4/foo) = 'hello' ]"
WORKDIR /test5/test6
COPY foo ../
RUN sh -c "[ $(cat /test5/foo) = 'hello' ]"
`;
    await buildIt(root(), context({ foo: 'hello' }), df);
  });

  it('testCopyUnicodePath', async () => {
    const df = `
FROM ${registryBase()}
COPY test-äöü.txt /
COPY test-%C3%A4%C3%B6%C3%BC.txt /
COPY test+aou.txt /
`;
    const ctx = context(
      { 'test-äöü.txt': 'foo', 'test-%C3%A4%C3%B6%C3%BC.txt': 'bar', 'test+aou.txt': 'baz' },
      { 'test-äöü.txt': 0o644, 'test-%C3%A4%C3%B6%C3%BC.txt': 0o644, 'test+aou.txt': 0o644 },
    );
    const r = await buildIt(root(), ctx, df);
    expect(read(r.rootfs, 'test-äöü.txt')).toBe('foo');
    expect(read(r.rootfs, 'test-%C3%A4%C3%B6%C3%BC.txt')).toBe('bar');
    expect(read(r.rootfs, 'test+aou.txt')).toBe('baz');
  });
});
