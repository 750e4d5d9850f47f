import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { ADDUSER, BUSYBOX_USERS, context, etag, startServer, tarOf, tarOwners } from './buildkit-port.js';
import { buildIt, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

// BuildKit's ADD and WORKDIR tests (frontend/dockerfile/dockerfile_add_test.go,
// dockerfile_workdir_test.go) with their Dockerfiles and expectations, each `it` named after its
// BuildKit test; ARG, USER and ONBUILD are in args-buildkit.test.ts. `FROM busybox` is the test
// registry's busybox; BuildKit's HTTP test server is a node one on 127.0.0.1 here. Left out:
// testWorkdirSourceDateEpochReproducible (cache prune, SOURCE_DATE_EPOCH).

const newRoot = () => mkdtempSync(join(tmpdir(), 'tsb-e2e-frontend-bk-'));

describe('ADD: BuildKit dockerfile_add_test.go', () => {
  it('testDockerfileADDFromURL', async () => {
    const modTime = new Date(Date.now() - 24 * 3600 * 1000);
    const server = await startServer({
      '/foo': { content: Buffer.from('content1'), etag: etag() },
      '/': { content: Buffer.from('content2'), etag: etag(), lastModified: modTime },
    });
    try {
      const root = newRoot();
      const df = `\nFROM scratch\nADD ${server.url}/foo /dest/\n`;
      const r = await buildIt(root, context({}), df);
      expect(read(r.rootfs, 'dest/foo')).toBe('content1');
      // run again to test HEAD request
      await buildIt(root, context({}), df);

      // test the default properties
      const r2 = await buildIt(root, context({}), `\nFROM scratch\nADD ${server.url}/ /dest/\n`);
      const destFile = join(r2.rootfs, 'dest/__unnamed__');
      expect(readFileSync(destFile, 'utf8')).toBe('content2');
      expect(Math.floor(statSync(destFile).mtimeMs / 1000)).toBe(Math.floor(modTime.getTime() / 1000));

      // BuildKit also checks its own User-Agent (`buildkit/v...`) on these requests
      const stats = server.requests.get('/foo') ?? [];
      expect(stats.map((s) => s.method)).toEqual(['GET', 'HEAD']);
    } finally {
      await server.close();
    }
  });

  it('testDockerfileAddArchive', async () => {
    const root = newRoot();
    const tar = tarOf('foo', 'content0');
    let r = await buildIt(root, context({ 't.tar': tar }), '\nFROM scratch\nADD t.tar /\n');
    expect(read(r.rootfs, 'foo')).toBe('content0');

    // add gzip tar
    const tgz = gzipSync(tar);
    r = await buildIt(root, context({ 't.tar.gz': tgz }), '\nFROM scratch\nADD t.tar.gz /\n');
    expect(read(r.rootfs, 'foo')).toBe('content0');

    // add with unpack=false
    r = await buildIt(
      root,
      context({ 't.tar.gz': tgz }),
      '\n\tFROM scratch\n\tADD --unpack=false t.tar.gz /\n\t',
    );
    expect(() => statSync(join(r.rootfs, 'foo'))).toThrow(/ENOENT/);
    expect(readFileSync(join(r.rootfs, 't.tar.gz'))).toEqual(tgz);

    // COPY doesn't extract
    r = await buildIt(root, context({ 't.tar.gz': tgz }), '\nFROM scratch\nCOPY t.tar.gz /\n');
    expect(readFileSync(join(r.rootfs, 't.tar.gz'))).toEqual(tgz);

    // ADD from URL doesn't extract
    const server = await startServer({ '/t.tar.gz': { content: tgz, etag: etag() } });
    try {
      const url = `${server.url}/t.tar.gz`;
      r = await buildIt(root, context({}), `\nFROM scratch\nADD ${url} /\n`);
      expect(readFileSync(join(r.rootfs, 't.tar.gz'))).toEqual(tgz);

      // ADD from URL with --unpack=true
      r = await buildIt(root, context({}), `\nFROM scratch\nADD --unpack=true ${url} /dest/\n`);
      expect(read(r.rootfs, 'dest/foo')).toBe('content0');

      // https://github.com/moby/buildkit/issues/386
      r = await buildIt(root, context({}), `\nFROM scratch\nADD ${url} /newname.tar.gz\n`);
      expect(readFileSync(join(r.rootfs, 'newname.tar.gz'))).toEqual(tgz);
    } finally {
      await server.close();
    }
  });

  it('testDockerfileAddChownArchive', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-frontend-bk-tar-'));
    const r = await buildIt(
      newRoot(),
      context({ 't.tar': tarOf('foo', 'content0') }),
      '\nFROM scratch\nADD --chown=100:200 t.tar /out/\n',
      { outputs: ['type=image', `type=tar,dest=${out}/fs.tar`] },
    );
    expect(read(r.rootfs, 'out/foo')).toBe('content0');
    const owners = tarOwners(`${out}/fs.tar`);
    expect(owners.get('out/foo')).toBe('100/200');
    expect(owners.get('out/')).toBe('100/200');
  });

  it('testDockerfileAddArchiveWildcard', async () => {
    const ctx = context({ 't.tar': tarOf('foo', 'content0'), 'b.tar': tarOf('bar', 'content1') });
    const r = await buildIt(newRoot(), ctx, '\nFROM scratch\nADD *.tar /dest\n');
    expect(read(r.rootfs, 'dest/foo')).toBe('content0');
    expect(read(r.rootfs, 'dest/bar')).toBe('content1');
  });

  it('testDockerfileAddChownExpand', async () => {
    const df = `\nFROM ${registryBase()}\n${BUSYBOX_USERS}\nARG group\nENV owner 1000\nADD --chown=\${owner}:\${group} foo /\nRUN [ "$(stat -c "%u %G" /foo)" == "1000 nobody" ]\n`;
    await buildIt(newRoot(), context({ foo: 'foo-contents' }), df, { buildArgs: { group: 'nobody' } });
  });

  it('testAddURLChmod', async () => {
    const server = await startServer({ '/foo': { content: Buffer.from('content1'), etag: etag() } });
    try {
      const url = `${server.url}/foo`;
      const df = `\nFROM ${registryBase()} AS build\nADD --chmod=644 ${url} /tmp/foo1\nADD --chmod=755 ${url} /tmp/foo2\nADD --chmod=0413 ${url} /tmp/foo3\n\nARG mode\nADD --chmod=\${mode} ${url} /tmp/foo4\n\nRUN stat -c "%04a" /tmp/foo1 >> /dest && \\\n\tstat -c "%04a" /tmp/foo2 >> /dest && \\\n\tstat -c "%04a" /tmp/foo3 >> /dest && \\\n\tstat -c "%04a" /tmp/foo4 >> /dest\n\nFROM scratch\nCOPY --from=build /dest /dest\n`;
      const r = await buildIt(newRoot(), context({}), df, { buildArgs: { mode: '400' } });
      expect(read(r.rootfs, 'dest')).toBe('0644\n0755\n0413\n0400\n');
    } finally {
      await server.close();
    }
  });

  it('testAddInvalidChmod', async () => {
    const root = newRoot();
    await expect(
      buildIt(root, context({ foo: 'foo-contents' }), '\nFROM scratch\nADD --chmod=64a foo /\n'),
    ).rejects.toThrow("invalid chmod parameter: '64a'. it should be octal string and between 0 and 07777");
    await expect(
      buildIt(root, context({ foo: 'foo-contents' }), '\nFROM scratch\nADD --chmod=10000 foo /\n'),
    ).rejects.toThrow("invalid chmod parameter: '10000'. it should be octal string and between 0 and 07777");
  });

  it('testAddChecksum', async () => {
    const content = Buffer.from('content1');
    const server = await startServer({ '/foo': { content, etag: etag() } });
    const sha = (b: Buffer) => execFileSync('sha256sum', { input: b, encoding: 'utf8' }).split(' ')[0];
    const root = newRoot();
    const url = `${server.url}/foo`;
    try {
      // Valid
      await buildIt(
        root,
        context({}),
        `\nFROM scratch\nADD --checksum=sha256:${sha(content)} ${url} /tmp/foo\n`,
      );
      // DigestFromEnv
      await buildIt(
        root,
        context({}),
        `\nFROM scratch\nENV DIGEST=sha256:${sha(content)}\nENV LINK=${url}\nADD --checksum=\${DIGEST} \${LINK} /tmp/foo\n`,
      );
      // DigestMismatch
      await expect(
        buildIt(
          root,
          context({}),
          `\nFROM scratch\nADD --checksum=sha256:${sha(Buffer.alloc(0))} ${url} /tmp/foo\n`,
        ),
      ).rejects.toThrow();
      // DigestWithKnownButUnsupportedAlgoName
      await expect(
        buildIt(
          root,
          context({}),
          `\nFROM scratch\nADD --checksum=md5:7e55db001d319a94b0b713529a756623 ${url} /tmp/foo\n`,
        ),
      ).rejects.toThrow(/unsupported digest algorithm/);
      // DigestWithUnknownAlgoName
      await expect(
        buildIt(
          root,
          context({}),
          `\nFROM scratch\nADD --checksum=unknown:${sha(content)} ${url} /tmp/foo\n`,
        ),
      ).rejects.toThrow(/unsupported digest algorithm/);
      // DigestWithoutAlgoName
      await expect(
        buildIt(root, context({}), `\nFROM scratch\nADD --checksum=${sha(content)} ${url} /tmp/foo\n`),
      ).rejects.toThrow(/invalid checksum digest format/);
      // a short or upper-case digest (go-digest's length and hex checks)
      await expect(
        buildIt(root, context({}), `\nFROM scratch\nADD --checksum=sha256:abc ${url} /tmp/foo\n`),
      ).rejects.toThrow(/invalid checksum digest length/);
      await expect(
        buildIt(
          root,
          context({}),
          `\nFROM scratch\nADD --checksum=sha256:${sha(content).toUpperCase()} ${url} /tmp/foo\n`,
        ),
      ).rejects.toThrow(/invalid checksum digest format/);
      // NonHTTPSource
      const foo = Buffer.from('local file');
      await expect(
        buildIt(root, context({ foo }), `\nFROM scratch\nADD --checksum=sha256:${sha(foo)} foo /tmp/foo\n`),
      ).rejects.toThrow(/checksum requires HTTP\(S\) or Git sources/);
    } finally {
      await server.close();
    }
  });
});

describe('WORKDIR: BuildKit dockerfile_workdir_test.go', () => {
  it('testWorkdirCreatesDir', async () => {
    const r = await buildIt(newRoot(), context({}), '\nFROM scratch\nWORKDIR /foo\nWORKDIR /\n');
    expect(statSync(join(r.rootfs, 'foo')).isDirectory()).toBe(true);
  });

  it('testWorkdirUser', async () => {
    const df = `\nFROM ${registryBase()}\n${ADDUSER}\nUSER user\nWORKDIR /mydir\nRUN [ "$(stat -c "%U %G" /mydir)" == "user user" ]\n`;
    await buildIt(newRoot(), context({}), df);
  });

  it('testWorkdirCopyIgnoreRelative', async () => {
    const df =
      '\nFROM scratch AS base\nWORKDIR /foo\nCOPY Dockerfile /\nFROM scratch\n# relative path still loaded as absolute\nCOPY --from=base Dockerfile .\n';
    await buildIt(newRoot(), context({ Dockerfile: df }), df);
  });

  it('testWorkdirExists', async () => {
    const df = `\nFROM ${registryBase()}\n${ADDUSER}\nRUN mkdir /mydir && chown user:user /mydir\nWORKDIR /mydir\nRUN [ "$(stat -c "%U %G" /mydir)" == "user user" ]\n`;
    await buildIt(newRoot(), context({}), df);
  });
});
