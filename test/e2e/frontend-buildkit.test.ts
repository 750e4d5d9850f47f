import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, read, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

// BuildKit's Dockerfile tests (frontend/dockerfile/dockerfile_add_test.go, dockerfile_workdir_test.go,
// dockerfile_args_test.go, dockerfile_user_test.go, dockerfile_onbuild_test.go) with their Dockerfiles
// and expectations, each `it` named after its BuildKit test. `FROM busybox` (and alpine) is the test
// registry's busybox; `FROM busy$a2` keeps its variable part as `FROM <registry>/library/busy$a2`.
// BuildKit's HTTP test server is a node one on 127.0.0.1 here; pushes go to the test registry.
// Left out: testOnBuildNamedContext (named contexts), testWorkdirSourceDateEpochReproducible (cache
// prune, SOURCE_DATE_EPOCH).

const host = () => registryBase().split('/')[0];
const busyboxRepo = () => registryBase().replace(/:latest$/, '');
const newRoot = () => mkdtempSync(join(tmpdir(), 'tsb-e2e-frontend-bk-'));

// The test registry's busybox has root, app and nobody in /etc/passwd and root, app, staff and
// nogroup in /etc/group, and no adduser/addgroup: where a BuildKit test relies on docker.io busybox's
// users (daemon, the group wheel holding root, a group nobody) this RUN writes those lines first.
const BUSYBOX_USERS =
  "RUN printf 'root:x:0:0:root:/root:/bin/sh\\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\\nnobody:x:65534:65534:nobody:/home:/bin/false\\n' > /etc/passwd && printf 'root:x:0:\\ndaemon:x:1:\\nwheel:x:10:root\\nnobody:x:65534:\\n' > /etc/group";
// `adduser -D user` as lines in /etc/passwd and /etc/group.
const ADDUSER =
  "RUN echo 'user:x:1001:1001::/home/user:/bin/sh' >> /etc/passwd && echo 'user:x:1001:' >> /etc/group";

/** A tar with one regular file `name` (mode 0644), as BuildKit's tests write with archive/tar. */
function tarOf(name: string, content: string): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-e2e-tar-'));
  writeFileSync(join(dir, name), content);
  chmodSync(join(dir, name), 0o644);
  return execFileSync('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-cf', '-', name]);
}

/** A context holding `files` (Buffers written as given). */
function context(files: Record<string, string | Buffer>): string {
  const dir = makeContext({});
  for (const [p, c] of Object.entries(files)) writeFileSync(join(dir, p), c);
  return dir;
}

interface Route {
  content: Buffer;
  etag?: string;
  lastModified?: Date;
}

interface TestServer {
  url: string;
  /** Requests per path, in order. */
  requests: Map<string, { method: string; userAgent: string }[]>;
  close(): Promise<void>;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's time.RFC850 (what BuildKit's test server sends as Last-Modified), in UTC. */
function rfc850(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${p(d.getUTCFullYear() % 100)} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

/** BuildKit's util/testutil/httpserver: routes with an ETag (304 on If-None-Match) and Last-Modified. */
async function startServer(routes: Record<string, Route>): Promise<TestServer> {
  const requests = new Map<string, { method: string; userAgent: string }[]>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const r = routes[path];
    if (!r) {
      res.writeHead(404).end();
      return;
    }
    const list = requests.get(path) ?? [];
    list.push({ method: req.method ?? '', userAgent: req.headers['user-agent'] ?? '' });
    requests.set(path, list);
    if (r.lastModified) res.setHeader('Last-Modified', rfc850(r.lastModified));
    if (r.etag) {
      res.setHeader('ETag', r.etag);
      if (req.headers['if-none-match'] === r.etag) {
        res.writeHead(304).end();
        return;
      }
    }
    res.writeHead(200).end(r.content);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const etag = () => randomBytes(16).toString('hex');

/** `uid/gid` of each entry of a tar, by name without a leading `./`. */
function tarOwners(tarPath: string): Map<string, string> {
  const out = execFileSync('tar', ['--numeric-owner', '-tvf', tarPath], { encoding: 'utf8' });
  const m = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const f = line.split(/\s+/);
    m.set(f.slice(5).join(' ').replace(/^\.\//, ''), f[1]);
  }
  return m;
}

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
      ).rejects.toThrow();
      // DigestWithUnknownAlgoName
      await expect(
        buildIt(
          root,
          context({}),
          `\nFROM scratch\nADD --checksum=unknown:${sha(content)} ${url} /tmp/foo\n`,
        ),
      ).rejects.toThrow();
      // DigestWithoutAlgoName
      await expect(
        buildIt(root, context({}), `\nFROM scratch\nADD --checksum=${sha(content)} ${url} /tmp/foo\n`),
      ).rejects.toThrow();
      // NonHTTPSource
      const foo = Buffer.from('local file');
      await expect(
        buildIt(root, context({ foo }), `\nFROM scratch\nADD --checksum=sha256:${sha(foo)} foo /tmp/foo\n`),
      ).rejects.toThrow();
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

describe('ARG: BuildKit dockerfile_args_test.go', () => {
  it('testGlobalArg', async () => {
    const df = `\nARG tag=nosuchtag\nFROM ${busyboxRepo()}:\${tag}\n`;
    await buildIt(newRoot(), context({}), df, { buildArgs: { tag: 'latest' } });
  });

  it('testGlobalArgErrors', async () => {
    const root = newRoot();
    const df = `\nARG FOO=\${FOO:?"custom error"}\nFROM ${registryBase()}\n`;
    await expect(buildIt(root, context({}), df)).rejects.toThrow('FOO: custom error');
    await buildIt(root, context({}), df, { buildArgs: { FOO: 'bar' } });
  });

  it('testArgDefaultExpansion', async () => {
    const root = newRoot();
    const df = `\nFROM scratch\nARG FOO\nARG BAR=\${FOO:?"foo missing"}\n`;
    await expect(buildIt(root, context({}), df)).rejects.toThrow('FOO: foo missing');
    await buildIt(root, context({}), df, { buildArgs: { FOO: '123' } });
    await buildIt(root, context({}), df, { buildArgs: { BAR: '123' } });
  });

  it('testMultiArgs', async () => {
    const df = `\nARG a1="foo bar" a2=box\nARG a3="$a2-foo"\nFROM ${host()}/library/busy$a2 AS build\nARG a3 a4="123 456" a1\nRUN echo -n "$a1:$a3:$a4" > /out\nFROM scratch\nCOPY --from=build /out .\n`;
    const r = await buildIt(newRoot(), context({}), df);
    expect(read(r.rootfs, 'out')).toBe('foo bar:box-foo:123 456');
  });

  it('testQuotedMetaArgs', async () => {
    const df = `\nARG a1="box"\nARG a2="$a1-foo"\nFROM ${host()}/library/busy$a1 AS build\nARG a2\nARG a3="bar-$a2"\nRUN echo -n $a3 > /out\nFROM scratch\nCOPY --from=build /out .\n`;
    const r = await buildIt(newRoot(), context({}), df);
    expect(read(r.rootfs, 'out')).toBe('bar-box-foo');
  });

  it('testTargetStageNameArg', async () => {
    const root = newRoot();
    const df = `\nFROM ${registryBase()} AS base\nWORKDIR /out\nRUN echo -n "value:$TARGETSTAGE" > /out/first\nARG TARGETSTAGE\nRUN echo -n "value:$TARGETSTAGE" > /out/second\n\nFROM scratch AS foo\nCOPY --from=base /out/ /\n\nFROM scratch\nCOPY --from=base /out/ /\n`;
    let r = await buildIt(root, context({}), df, { target: 'foo' });
    expect(read(r.rootfs, 'first')).toBe('value:');
    expect(read(r.rootfs, 'second')).toBe('value:foo');

    r = await buildIt(root, context({}), df);
    expect(read(r.rootfs, 'first')).toBe('value:');
    expect(read(r.rootfs, 'second')).toBe('value:default');

    // stage name defined in Dockerfile but not passed in request
    const df2 = `${df}\n\n\tFROM scratch AS final\n\tCOPY --from=base /out/ /\n\t`;
    r = await buildIt(root, context({}), df2);
    expect(read(r.rootfs, 'first')).toBe('value:');
    expect(read(r.rootfs, 'second')).toBe('value:final');
  });

  it('testBuiltinArgs', async () => {
    const root = newRoot();
    const df = `\nFROM ${registryBase()} AS build\nARG FOO\nARG BAR\nARG BAZ=bazcontent\nRUN echo -n $HTTP_PROXY::$NO_PROXY::$FOO::$BAR::$BAZ > /out\nFROM scratch\nCOPY --from=build /out /\n\n`;
    let r = await buildIt(root, context({}), df, {
      buildArgs: { FOO: 'foocontents', http_proxy: 'hpvalue', NO_PROXY: 'npvalue' },
    });
    expect(read(r.rootfs, 'out')).toBe('hpvalue::npvalue::foocontents::::bazcontent');

    // repeat with changed default args should match the old cache
    r = await buildIt(root, context({}), df, { buildArgs: { FOO: 'foocontents', http_proxy: 'hpvalue2' } });
    expect(read(r.rootfs, 'out')).toBe('hpvalue::npvalue::foocontents::::bazcontent');

    // changing actual value invalidates cache
    r = await buildIt(root, context({}), df, { buildArgs: { FOO: 'foocontents2', http_proxy: 'hpvalue2' } });
    expect(read(r.rootfs, 'out')).toBe('hpvalue2::::foocontents2::::bazcontent');
  });

  it('testDefaultEnvWithArgs', async () => {
    const root = newRoot();
    const df = `\nARG image=idlebox\nFROM ${host()}/library/busy\${image#idle} AS build\nARG my_arg\nENV my_arg "my_arg=\${my_arg:-def_val}"\nENV my_trimmed_arg "\${my_arg%%e*}"\nCOPY myscript.sh myscript.sh\nRUN ./myscript.sh $my_arg $my_trimmed_arg\nFROM scratch\nCOPY --from=build /out /out\n`;
    const ctx = context({ 'myscript.sh': '\n#!/usr/bin/env sh\necho -n $my_arg $* > /out\n' });
    chmodSync(join(ctx, 'myscript.sh'), 0o700);
    const cases: [string, Record<string, string> | undefined, string][] = [
      ['nil', undefined, 'my_arg=def_val my_arg=def_val my_arg=d'],
      ['empty', { my_arg: '' }, 'my_arg=def_val my_arg=def_val my_arg=d'],
      ['override', { my_arg: 'override' }, 'my_arg=override my_arg=override my_arg=ov'],
    ];
    for (const [name, buildArgs, expected] of cases) {
      const r = await buildIt(root, ctx, df, buildArgs ? { buildArgs } : {});
      expect(read(r.rootfs, 'out'), name).toBe(expected);
    }
  });

  it('testEmptyStringArgInEnv', async () => {
    const df = `\nFROM ${registryBase()} AS build\nARG FOO\nARG BAR=\nRUN env > env.txt\n\nFROM scratch\nCOPY --from=build env.txt .\n`;
    const r = await buildIt(newRoot(), context({}), df);
    const env = read(r.rootfs, 'env.txt');
    expect(env).toContain('BAR=');
    expect(env).not.toContain('FOO=');
  });

  it('testEnvEmptyFormatting', async () => {
    const df = `\nFROM ${registryBase()} AS build\nENV myenv foo%sbar\nRUN [ "$myenv" = 'foo%sbar' ]\n`;
    await buildIt(newRoot(), context({}), df);
  });
});

describe('USER: BuildKit dockerfile_user_test.go', () => {
  it('testUser', async () => {
    const df = `\nFROM ${registryBase()} AS base\n${BUSYBOX_USERS}\nRUN mkdir -m 0777 /out\nRUN id -un > /out/rootuser\n\n# Make sure our defaults work\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)" = '0:0/root:root' ]\n\n# TODO decide if "args.user = strconv.Itoa(syscall.Getuid())" is acceptable behavior for changeUser in sysvinit instead of "return nil" when "USER" isn't specified (so that we get the proper group list even if that is the empty list, even in the default case of not supplying an explicit USER to run as, which implies USER 0)\nUSER root\nRUN [ "$(id -G):$(id -Gn)" = '0 10:root wheel' ]\n\n# Setup dockerio user and group\nRUN echo 'dockerio:x:1001:1001::/bin:/bin/false' >> /etc/passwd && \\\n\techo 'dockerio:x:1001:' >> /etc/group\n\n# Make sure we can switch to our user and all the information is exactly as we expect it to be\nUSER dockerio\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]\n\n# Switch back to root and double check that worked exactly as we might expect it to\nUSER root\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '0:0/root:root/0 10:root wheel' ] && \\\n        # Add a "supplementary" group for our dockerio user\n\techo 'supplementary:x:1002:dockerio' >> /etc/group\n\n# ... and then go verify that we get it like we expect\nUSER dockerio\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]\nUSER 1001\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001 1002:dockerio supplementary' ]\n\n# super test the new "user:group" syntax\nUSER dockerio:dockerio\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]\nUSER 1001:dockerio\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]\nUSER dockerio:1001\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]\nUSER 1001:1001\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1001/dockerio:dockerio/1001:dockerio' ]\nUSER dockerio:supplementary\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]\nUSER dockerio:1002\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]\nUSER 1001:supplementary\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]\nUSER 1001:1002\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1001:1002/dockerio:supplementary/1002:supplementary' ]\n\n# make sure unknown uid/gid still works properly\nUSER 1042:1043\nRUN [ "$(id -u):$(id -g)/$(id -un):$(id -gn)/$(id -G):$(id -Gn)" = '1042:1043/1042:1043/1043:1043' ]\nUSER daemon\nRUN id -un > /out/daemonuser\nFROM scratch\nCOPY --from=base /out /\nUSER nobody\n`;
    const root = newRoot();
    const r = await buildIt(root, context({}), df);
    expect(read(r.rootfs, 'rootuser')).toBe('root\n');
    expect(read(r.rootfs, 'daemonuser')).toBe('daemon\n');
    // test user in exported
    const img = await buildIt(root, context({}), df, { tags: ['example.com/moby/dockerfileuser:test'] });
    expect(img.cfg.config?.User).toBe('nobody');
  });

  it('testUserAdditionalGids', async () => {
    // Deliberately the reference BuildKit's (dockerd 20.10) ids, checked against it: newer BuildKit
    // (containerd's CVE-2023-25173 fix) also lists the primary group, and reads /etc/group with no
    // USER; 0.8 does neither (README, Conformance). The test's expectations are adjusted to that.
    const df = `\n# Mimics the tests in https://github.com/containerd/containerd/commit/3eda46af12b1deedab3d0802adb2e81cb3521950\nFROM ${registryBase()}\n${BUSYBOX_USERS}\nSHELL ["/bin/sh", "-euxc"]\nRUN [ "$(id)" = "uid=0(root) gid=0(root)" ]\nUSER root\nRUN [ "$(id)" = "uid=0(root) gid=0(root) groups=10(wheel)" ]\nUSER 1234\nRUN [ "$(id)" = "uid=1234 gid=0(root)" ]\nUSER 1234:1234\nRUN [ "$(id)" = "uid=1234 gid=1234" ]\nUSER daemon\nRUN [ "$(id)" = "uid=1(daemon) gid=1(daemon)" ]\n`;
    await buildIt(newRoot(), context({}), df);
  });
});

describe('ONBUILD: BuildKit dockerfile_onbuild_test.go', () => {
  /** Builds and pushes to the test registry, as BuildKit's image exporter with push=true. */
  const push = (root: string, df: string, name: string) =>
    buildIt(root, context({}), df, { tags: [name], outputs: ['type=registry'] });

  it('testOnBuildCleared', async () => {
    const root = newRoot();
    const target = `${host()}/buildkit/testonbuild:base`;
    await push(
      root,
      `\nFROM ${registryBase()}\nONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo\n`,
      target,
    );
    const target2 = `${host()}/buildkit/testonbuild:child`;
    await push(root, `\n\tFROM ${target} \n\t`, target2);
    const r = await buildIt(
      root,
      context({}),
      `\n\tFROM ${target2} AS base\n\tFROM scratch\n\tCOPY --from=base /out /\n\t`,
    );
    expect(read(r.rootfs, 'foo')).toBe('11');
  });

  it('testOnBuildWithChildStage', async () => {
    const root = newRoot();
    const target = `${host()}/buildkit/testonbuildstage:base`;
    await push(
      root,
      `\nFROM ${registryBase()}\nONBUILD RUN mkdir -p /out && echo -n yes >> /out/didrun\n`,
      target,
    );
    const r = await buildIt(
      root,
      context({}),
      `\nFROM ${target} AS base\nRUN [ -f /out/didrun ] && touch /step1\nRUN rm /out/didrun\nRUN [ ! -f /out/didrun ] && touch /step2\n\nFROM base AS child\nRUN [ ! -f /out/didrun ] && touch /step3\n\nFROM scratch\nCOPY --from=child /step* /\n\t`,
    );
    for (const f of ['step1', 'step2', 'step3']) expect(statSync(join(r.rootfs, f)).isFile(), f).toBe(true);
  });

  it('testOnBuildInheritedStageRun', async () => {
    const df = `\nFROM ${registryBase()} AS base\nONBUILD RUN mkdir -p /out && echo -n 11 >> /out/foo\n\nFROM base AS mid\nRUN cp /out/foo /out/bar\n\nFROM scratch\nCOPY --from=mid /out/bar /\n`;
    const r = await buildIt(newRoot(), context({}), df);
    expect(read(r.rootfs, 'bar')).toBe('11');
  });

  it('testOnBuildInheritedStageWithFrom', async () => {
    const df = `\nFROM ${registryBase()} AS src\nRUN mkdir -p /in && echo -n 12 > /in/file\n\nFROM ${registryBase()} AS base\nONBUILD COPY --from=src /in/file /out/foo\n\nFROM base AS mid\nRUN cp /out/foo /out/bar\n\nFROM scratch\nCOPY --from=mid /out/bar /\n`;
    const r = await buildIt(newRoot(), context({}), df);
    expect(read(r.rootfs, 'bar')).toBe('12');
  });

  it('testOnBuildNewDeps', async () => {
    // alpine's /etc/alpine-release is busybox's /etc/passwd here (the file names are kept)
    const root = newRoot();
    const target = `${host()}/buildkit/testonbuilddeps:base`;
    await push(
      root,
      `\nFROM ${registryBase()}\nONBUILD COPY --from=${registryBase()} /etc/passwd /out/alpine-release2\n`,
      target,
    );
    let r = await buildIt(
      root,
      context({}),
      `\n\tFROM ${target} AS base\n\tRUN cat /out/alpine-release2 > /out/alpine-release3\n\tFROM scratch\n\tCOPY --from=base /out /\n\t`,
    );
    expect(read(r.rootfs, 'alpine-release3').length).toBeGreaterThan(5);

    // build another onbuild image to test nested case
    const target2 = `${host()}/buildkit/testonbuilddeps:base2`;
    await push(
      root,
      `\nFROM ${registryBase()}\nONBUILD RUN --mount=type=bind,target=/in,from=inputstage mkdir /out && cat /in/foo > /out/bar && cat /in/out/alpine-release2 > /out/bar2\n`,
      target2,
    );
    r = await buildIt(
      root,
      context({}),
      `\n\tFROM ${target} AS inputstage\n\tRUN cat /out/alpine-release2 > /out/alpine-release4\n\tRUN echo -n foo > /foo\n\tFROM ${target2} AS base\n\tRUN echo -n bar3 > /out/bar3\n\tFROM scratch\n\tCOPY --from=base /out /\n\t`,
    );
    expect(read(r.rootfs, 'bar')).toBe('foo');
    expect(read(r.rootfs, 'bar2').length).toBeGreaterThan(5);
    expect(read(r.rootfs, 'bar3')).toBe('bar3');
  });

  it('testOnBuildWithCacheMount', async () => {
    const root = newRoot();
    const target = `${host()}/buildkit/testonbuild:base`;
    await push(
      root,
      `\nFROM ${registryBase()}\nONBUILD RUN --mount=type=cache,target=/cache echo -n 42 >> /cache/foo && echo -n 11 >> /bar\n`,
      target,
    );
    await buildIt(
      root,
      context({}),
      `FROM ${target}\nRUN --mount=type=cache,target=/cache [ "$(cat /cache/foo)" = "42" ] && [ "$(cat /bar)" = "11" ]\n\t`,
    );
  });
});
