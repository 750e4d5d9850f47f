import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Header } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/build.js';
import { tar as rawTar } from '../helpers/raw-tar.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, ownerInTar, ranSteps, read } from './helpers.js';

requireRoot();
requireBinary('runc');

let reg: TestRegistry;
let base: string;
const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-root-'));

beforeAll(async () => {
  reg = await startRegistry();
  base = pushBusyboxImage(reg, 'library/busybox:latest').ref;
});
afterAll(async () => {
  await reg?.stop();
});

describe('multistage builds on a registry base image', () => {
  it('builds parallel stages, COPY --from stages and images, only what --target needs', async () => {
    const ctx = makeContext({ 'a.txt': 'A\n', 'b.txt': 'B\n' });
    const df = `FROM ${base} AS a
COPY a.txt /a.txt
RUN cp /a.txt /a.out
FROM ${base} AS b
COPY b.txt /b.txt
RUN cp /b.txt /b.out
FROM ${base} AS unused
RUN exit 1
FROM ${base}
COPY --from=a /a.out /a.out
COPY --from=1 /b.out /b.out
COPY --from=${base} /bin/busybox /copied-busybox
RUN cat /a.out /b.out > /ab.out
`;
    const r = await buildIt(root, ctx, df, { tags: ['multi:1'] });
    expect(read(r.rootfs, 'ab.out')).toBe('A\nB\n');
    expect(statSync(join(r.rootfs, 'copied-busybox')).size).toBeGreaterThan(100_000);
    expect(ranSteps(r.events).some((n) => n.includes('exit 1'))).toBe(false);
    expect(r.tags).toEqual(['docker.io/library/multi:1']);
    expect(r.digest).toMatch(/^sha256:[0-9a-f]{64}$/);

    const t = await buildIt(root, ctx, df, { target: 'b' });
    expect(read(t.rootfs, 'b.out')).toBe('B\n');
    expect(() => read(t.rootfs, 'a.txt')).toThrow();
  });

  it('carries every instruction into the image config and history as BuildKit does', async () => {
    const ctx = makeContext({ 'f.txt': 'f' });
    const df = `FROM ${base}
ARG VERSION=1.0
ENV APP_HOME=/srv/app PATH=/custom:$PATH
LABEL org.example.version=$VERSION maintainer=me
MAINTAINER someone@example.com
WORKDIR $APP_HOME
COPY --chown=app:staff --chmod=640 f.txt ./
RUN echo "v=$VERSION" > version.txt
USER app
EXPOSE 8080 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGQUIT
HEALTHCHECK --interval=30s --timeout=3s CMD wget -q -O- localhost:8080 || exit 1
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT ["/bin/sh"]
CMD echo hi
ONBUILD RUN echo child
`;
    const fsTar = join(mkdtempSync(join(tmpdir(), 'tsb-e2e-fs-')), 'fs.tar');
    const r = await buildIt(root, ctx, df, { outputs: ['type=image', `type=tar,dest=${fsTar}`] });
    const c = r.cfg.config!;
    expect(c.Env).toContain('APP_HOME=/srv/app');
    expect(c.Env?.find((e) => e.startsWith('PATH='))).toMatch(/^PATH=\/custom:/);
    expect(c.Labels).toEqual({ 'org.example.version': '1.0', maintainer: 'me' });
    expect(r.cfg.author).toBe('someone@example.com');
    expect(c.WorkingDir).toBe('/srv/app');
    expect(c.User).toBe('app');
    expect(c.ExposedPorts).toEqual({ '8080/tcp': {}, '53/udp': {} });
    expect(c.Volumes).toEqual({ '/data': {} });
    expect(c.StopSignal).toBe('SIGQUIT');
    expect(c.Healthcheck?.Test).toEqual(['CMD-SHELL', 'wget -q -O- localhost:8080 || exit 1']);
    expect(c.Healthcheck?.Interval).toBe(30e9);
    expect(c.Entrypoint).toEqual(['/bin/sh']);
    expect(c.Cmd).toEqual(['/bin/sh', '-ec', 'echo hi']);
    expect(c.OnBuild).toEqual(['RUN echo child']);
    expect(c.Shell).toEqual(['/bin/sh', '-ec']);
    expect(ownerInTar(fsTar, 'srv/app/f.txt')).toBe('1000:50');
    expect(lstatSync(join(r.rootfs, 'srv/app/f.txt')).mode & 0o777).toBe(0o640);
    expect(read(r.rootfs, 'srv/app/version.txt')).toBe('v=1.0\n');
    // Go's RFC3339Nano, as BuildKit writes times: no trailing zeros in a fraction
    const goTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/;
    for (const t of [r.cfg.created, ...r.cfg.history!.map((h) => h.created)]) expect(t).toMatch(goTime);
    const hist = r.cfg.history!.map((h) => h.created_by);
    expect(hist).toContain('ARG VERSION=1.0');
    expect(hist).toContain(
      'ENV APP_HOME=/srv/app PATH=/custom:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    );
    expect(hist).toContain('WORKDIR /srv/app');
    expect(hist).toContain('COPY f.txt ./ # buildkit');
    expect(hist).toContain('RUN |1 VERSION=1.0 /bin/sh -c echo "v=$VERSION" > version.txt # buildkit');
    expect(hist).toContain('CMD ["/bin/sh" "-ec" "echo hi"]');
    expect(r.cfg.history!.filter((h) => !h.empty_layer)).toHaveLength(r.cfg.rootfs.diff_ids.length);
  });

  it('runs ONBUILD triggers of a base stage, resets CMD on ENTRYPOINT, keeps symlinks', async () => {
    const ctx = makeContext({ 'dir/x': 'x', 'dir/link': '->x' });
    const df = `FROM ${base} AS parent
CMD ["old"]
ONBUILD RUN echo triggered > /onbuild.txt
FROM parent
ENTRYPOINT ["/bin/echo"]
COPY dir /dest/
`;
    const r = await buildIt(root, ctx, df);
    expect(read(r.rootfs, 'onbuild.txt')).toBe('triggered\n');
    expect(r.cfg.config?.Cmd ?? null).toBeNull();
    expect(readlinkSync(join(r.rootfs, 'dest/link'))).toBe('x');
    expect(r.cfg.config?.OnBuild ?? null).toBeNull();
  });
});

describe('the cache', () => {
  it('reuses every step on a no-op rebuild; content busts, mtime and unseen ARGs do not', async () => {
    const root2 = mkdtempSync(join(tmpdir(), 'tsb-e2e-cache-'));
    const ctx = makeContext({ 'app.txt': 'one', 'other.txt': 'x' });
    const df = `FROM ${base}
ARG USED=1
RUN echo used=$USED > /used
COPY app.txt /app.txt
RUN cat /app.txt > /copy.txt
`;
    const first = await buildIt(root2, ctx, df);
    expect(first.stepsRun).toBe(4); // FROM (layers applied) + 3 steps
    const again = await buildIt(root2, ctx, df);
    expect(again.stepsRun).toBe(0);
    // As with BuildKit, a fully cached rebuild is the same image (times come from the snapshots).
    expect(again.configDigest).toBe(first.configDigest);
    expect(again.digest).toBe(first.digest);
    expect(again.config).toEqual({
      ...(first.config as object),
      created: (again.config as { created: string }).created,
      history: (again.config as { history: unknown }).history,
    });

    // touch without content change: cached
    utimesSync(join(ctx, 'app.txt'), new Date(), new Date(Date.now() + 60_000));
    expect((await buildIt(root2, ctx, df)).stepsRun).toBe(0);
    // an ARG the Dockerfile does not declare: cached
    expect((await buildIt(root2, ctx, df, { buildArgs: { UNSEEN: 'x' } })).stepsRun).toBe(0);
    // a file not selected by any COPY: cached
    writeFileSync(join(ctx, 'other.txt'), 'changed');
    expect((await buildIt(root2, ctx, df)).stepsRun).toBe(0);
    // same size, same mtime, new content: busts the COPY and what follows
    const t = new Date('2021-05-05T00:00:00Z');
    utimesSync(join(ctx, 'app.txt'), t, t);
    await buildIt(root2, ctx, df);
    writeFileSync(join(ctx, 'app.txt'), 'two');
    utimesSync(join(ctx, 'app.txt'), t, t);
    const changed = await buildIt(root2, ctx, df);
    expect(changed.stepsRun).toBe(2);
    expect(read(changed.rootfs, 'copy.txt')).toBe('two');
    // a used ARG: busts from the RUN that sees it
    const arg = await buildIt(root2, ctx, df, { buildArgs: { USED: '2' } });
    expect(arg.stepsRun).toBe(3);
    expect(read(arg.rootfs, 'used')).toBe('used=2\n');
    // --no-cache runs everything
    expect((await buildIt(root2, ctx, df, { noCache: true })).stepsRun).toBe(3);
  });

  it('uses a base image already in the store without the registry; --pull asks it again', async () => {
    const root4 = mkdtempSync(join(tmpdir(), 'tsb-e2e-local-'));
    const ctx = makeContext({});
    const df = `FROM ${base}\nRUN echo hi > /hi\n`;
    const events = (r: { events: { type: string; name?: string }[] }) =>
      r.events.filter((e) => e.type === 'bytes').length;
    const first = await buildIt(root4, ctx, df);
    expect(events(first)).toBeGreaterThan(0);
    const local = await buildIt(root4, ctx, df);
    expect(events(local)).toBe(0);
    expect(local.stepsRun).toBe(0);
    const pulled = await buildIt(root4, ctx, df, { pull: true });
    expect(events(pulled)).toBeGreaterThan(0);
    expect(pulled.stepsRun).toBe(0);
  });

  it('two builds of the same project at once share the cache safely', async () => {
    const root3 = mkdtempSync(join(tmpdir(), 'tsb-e2e-conc-'));
    const ctx = makeContext({ 'a.txt': 'a' });
    const df = `FROM ${base}\nCOPY a.txt /a.txt\nRUN sleep 0.3 && cat /a.txt > /b.txt\n`;
    const [x, y] = await Promise.all([buildIt(root3, ctx, df), buildIt(root3, ctx, df)]);
    expect(read(x.rootfs, 'b.txt')).toBe('a');
    expect(read(y.rootfs, 'b.txt')).toBe('a');
    expect((await buildIt(root3, ctx, df)).stepsRun).toBe(0);
  });
});

describe('context and COPY/ADD semantics', () => {
  it('honours .dockerignore (and <Dockerfile>.dockerignore) with exceptions', async () => {
    const ctx = makeContext({
      '.dockerignore': 'secret*\nlogs\n!logs/keep.log\n',
      'secret.txt': 's',
      'app.txt': 'a',
      'logs/drop.log': 'd',
      'logs/keep.log': 'k',
    });
    const r = await buildIt(root, ctx, `FROM ${base}\nCOPY . /ctx/\n`);
    expect(read(r.rootfs, 'ctx/app.txt')).toBe('a');
    expect(read(r.rootfs, 'ctx/logs/keep.log')).toBe('k');
    expect(() => read(r.rootfs, 'ctx/secret.txt')).toThrow();
    expect(() => read(r.rootfs, 'ctx/logs/drop.log')).toThrow();
    await expect(buildIt(root, ctx, `FROM ${base}\nCOPY secret.txt /\n`)).rejects.toThrow(/not found/);
  });

  it('wildcards, directory contents, trailing slashes, symlinked destinations, heredocs, ADD tar', async () => {
    const ctx = makeContext({ 'a.js': '1', 'b.js': '2', 'c.txt': '3', 'src/x/y.txt': 'y' });
    execFileSync('sh', [
      '-c',
      `mkdir -p ${ctx}/t/inner && echo t > ${ctx}/t/inner/f && tar -C ${ctx}/t -czf ${ctx}/arch.tar.gz inner && rm -rf ${ctx}/t`,
    ]);
    const df = `FROM ${base}
RUN mkdir -p /real && ln -s /real /linkdir
COPY *.js /js/
COPY src /srcdir
COPY c.txt /renamed.txt
COPY c.txt /linkdir/
ADD arch.tar.gz /unpacked/
COPY arch.tar.gz /kept/
COPY <<EOF /inline.txt
hello \${HOME:-x}
EOF
`;
    const r = await buildIt(root, ctx, df);
    expect(read(r.rootfs, 'js/a.js') + read(r.rootfs, 'js/b.js')).toBe('12');
    expect(read(r.rootfs, 'srcdir/x/y.txt')).toBe('y');
    expect(read(r.rootfs, 'renamed.txt')).toBe('3');
    expect(read(r.rootfs, 'real/c.txt')).toBe('3');
    expect(read(r.rootfs, 'unpacked/inner/f')).toBe('t\n');
    expect(statSync(join(r.rootfs, 'kept/arch.tar.gz')).isFile()).toBe(true);
    expect(read(r.rootfs, 'inline.txt')).toMatch(/^hello /);
  });

  it('COPY --parents keeps source directories (from the root or a /./ pivot)', async () => {
    const ctx = makeContext({ 'a/b/one.txt': '1', 'a/c/two.txt': '2', 'x/y/z.txt': 'z' });
    const r = await buildIt(
      root,
      ctx,
      `FROM ${base}\nCOPY --parents a/*/*.txt /out/\nCOPY --parents x/./y/z.txt /piv/\n`,
    );
    expect(read(r.rootfs, 'out/a/b/one.txt')).toBe('1');
    expect(read(r.rootfs, 'out/a/c/two.txt')).toBe('2');
    expect(read(r.rootfs, 'piv/y/z.txt')).toBe('z');
  });

  it('ADD <url>: a server that says the ETag still holds is asked with HEAD only; a new ETag downloads again', async () => {
    const { createServer } = await import('node:http');
    let version = 1;
    const methods: string[] = [];
    const srv = createServer((q, res) => {
      methods.push(q.method ?? '');
      const etag = `"v${version}"`;
      res.setHeader('etag', etag);
      if (q.headers['if-none-match'] === etag) {
        res.statusCode = 304;
        res.end();
      } else res.end(q.method === 'HEAD' ? undefined : `content ${version}`);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/f`;
      const df = `FROM ${base}\nADD ${url} /dl/\nRUN cat /dl/f > /seen\n`;
      await buildIt(root, makeContext({}), df);
      const again = await buildIt(root, makeContext({}), df);
      expect(methods).toEqual(['GET', 'HEAD']);
      expect(ranSteps(again.events)).toEqual([]);
      version = 2;
      const changed = await buildIt(root, makeContext({}), df);
      expect(methods.slice(2)).toEqual(['HEAD', 'GET']);
      expect(read(changed.rootfs, 'seen')).toBe('content 2');
    } finally {
      srv.close();
    }
  });

  it('ADD <url> with --checksum: downloaded, not extracted, mode 0600, Last-Modified or the epoch as mtime; a wrong checksum fails', async () => {
    const { createServer } = await import('node:http');
    const { gzipSync } = await import('node:zlib');
    const body = gzipSync(Buffer.from('not extracted'));
    const srv = createServer((q, res) => {
      if (q.url?.startsWith('/lm/')) res.setHeader('last-modified', 'Wed, 21 Oct 2015 07:28:00 GMT');
      res.end(body);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const sum = `sha256:${(await import('node:crypto')).createHash('sha256').update(body).digest('hex')}`;
    try {
      const ctx = makeContext({});
      const url = `http://127.0.0.1:${port}/files/data.gz`;
      const r = await buildIt(root, ctx, `FROM ${base}\nADD --checksum=${sum} ${url} /dl/\n`);
      const st = lstatSync(join(r.rootfs, 'dl/data.gz'));
      expect(st.mode & 0o777).toBe(0o600);
      expect(st.size).toBe(body.length);
      // BuildKit's http source: mtime from Last-Modified, else 0 (never the time of the download)
      expect(st.mtimeMs).toBe(0);
      const lm = await buildIt(root, ctx, `FROM ${base}\nADD http://127.0.0.1:${port}/lm/f /dl/\n`);
      expect(lstatSync(join(lm.rootfs, 'dl/f')).mtimeMs).toBe(Date.parse('2015-10-21T07:28:00Z'));
      await expect(
        buildIt(root, ctx, `FROM ${base}\nADD --checksum=sha256:${'0'.repeat(64)} ${url} /dl/\n`),
      ).rejects.toThrow(/digest mismatch|checksum/);
    } finally {
      srv.close();
    }
  });

  it('ADD <url>: redirects followed, a port fetch() refuses (6665-6669) reached, a failure names the URL and its cause', async () => {
    const { createServer: httpServer } = await import('node:http');
    const agents = new Set<string | undefined>();
    const srv = httpServer((q, res) => {
      agents.add(q.headers['user-agent']);
      if (q.url === '/a') res.writeHead(302, { location: '/b' }).end();
      else if (q.url === '/b') res.writeHead(307, { location: `http://127.0.0.1:${port}/data` }).end();
      else if (q.url === '/data') res.end('after two redirects');
      else res.writeHead(404).end();
    });
    // The Fetch standard's bad ports (IRC's 6665-6669): BuildKit's Go client connects to them.
    let port = 0;
    for (const p of [6665, 6666, 6667, 6668, 6669]) {
      const ok = await new Promise<boolean>((r) => {
        srv.once('error', () => r(false));
        srv.listen(p, '127.0.0.1', () => r(true));
      });
      if (ok) {
        port = p;
        break;
      }
    }
    expect(port, 'no free port in 6665-6669').toBeGreaterThan(0);
    try {
      const ctx = makeContext({});
      const r = await buildIt(root, ctx, `FROM ${base}\nADD http://127.0.0.1:${port}/a /dl\n`);
      expect(read(r.rootfs, 'dl')).toBe('after two redirects');
      expect([...agents]).toEqual(['tsbuild/0.1']);
      await expect(
        buildIt(root, ctx, `FROM ${base}\nADD http://127.0.0.1:${port}/missing /x\n`),
      ).rejects.toThrow(`failed to load http://127.0.0.1:${port}/missing: HTTP 404`);
    } finally {
      srv.close();
    }
    const refused = buildIt(root, makeContext({}), `FROM ${base}\nADD http://127.0.0.1:${port}/gone /x\n`);
    await expect(refused).rejects.toThrow(
      `failed to load http://127.0.0.1:${port}/gone: connect ECONNREFUSED`,
    );
  });

  it('a big directory COPY gives the same tree on the fast (new dest) and the per-entry path', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 600; i++) files[`big/d${i % 7}/f${i}.txt`] = `file ${i}`;
    files['big/link'] = '->d1/f1.txt';
    const ctx = makeContext(files);
    execFileSync('chmod', ['4755', join(ctx, 'big/d2/f2.txt')]);
    execFileSync('chmod', ['0700', join(ctx, 'big/d3')]);
    // hard links among what one source copies stay links (BuildKit's fsutil copier)
    execFileSync('ln', [join(ctx, 'big/d4/f4.txt'), join(ctx, 'big/d5/hard')]);
    const r = await buildIt(
      root,
      ctx,
      `FROM ${base} AS s\nRUN mkdir /t && for i in $(seq 600); do echo $i > /t/f$i; done && ln /t/f1 /t/h1\n` +
        `FROM ${base}\nRUN mkdir /existing /existing2\nCOPY big /fresh\nCOPY big /existing\n` +
        'COPY --from=s /t /fresh2\nCOPY --from=s /t /existing2\n',
    );
    const list = (d: string) =>
      execFileSync(
        'sh',
        ['-c', `cd ${join(r.rootfs, d)} && find . -mindepth 1 -printf '%p %M %U:%G %s %T@ %n %l\\n' | sort`],
        {
          encoding: 'utf8',
        },
      );
    const fresh = list('fresh');
    expect(fresh.split('\n').length).toBeGreaterThan(600);
    expect(fresh).toBe(list('existing'));
    expect(fresh).toContain('./d2/f2.txt -rwsr-xr-x 0:0');
    expect(fresh).toContain('./link lrwxrwxrwx 0:0');
    expect(fresh).toMatch(/^\.\/d5\/hard -rw-r--r-- 0:0 \d+ \S+ 2 $/m);
    const fresh2 = list('fresh2');
    expect(fresh2).toBe(list('existing2'));
    expect(fresh2).toMatch(/^\.\/h1 -rw-r--r-- 0:0 2 \S+ 2 $/m);
    expect(statSync(join(r.rootfs, 'fresh2/h1')).ino).toBe(statSync(join(r.rootfs, 'fresh2/f1')).ino);
  });

  it('hostile archives and paths stay inside the rootfs', async () => {
    requireBinary('python3');
    const { existsSync } = await import('node:fs');
    const marker = `tsb-pwned-${process.pid}-${Date.now()}`;
    const ctx = makeContext({ 'ok.txt': 'ok' });
    // evil -> / then evil/tmp/<marker>; and a member named ../../<marker>-2 (python: GNU tar refuses to make these).
    execFileSync('python3', [
      '-c',
      `import tarfile, io
t = tarfile.open('${ctx}/evil.tar', 'w')
s = tarfile.TarInfo('evil'); s.type = tarfile.SYMTYPE; s.linkname = '/'; t.addfile(s)
d = b'x'
f = tarfile.TarInfo('evil/tmp/${marker}'); f.size = 1; t.addfile(f, io.BytesIO(d))
g = tarfile.TarInfo('../../${marker}-2'); g.size = 1; t.addfile(g, io.BytesIO(d))
t.close()`,
    ]);
    const r = await buildIt(
      root,
      ctx,
      `FROM ${base}\nRUN mkdir -p /tmp\nADD evil.tar /x/\nCOPY ok.txt ../../../../${marker}-3\n`,
    );
    expect(existsSync(`/tmp/${marker}`)).toBe(false);
    expect(existsSync(`/${marker}-2`)).toBe(false);
    expect(existsSync(`/${marker}-3`)).toBe(false);
    // As BuildKit's chrooted untar: the archive's `/` is the destination, `..` stops there.
    expect(read(r.rootfs, `x/tmp/${marker}`)).toBe('x');
    expect(existsSync(join(r.rootfs, `tmp/${marker}`))).toBe(false);
    expect(read(r.rootfs, `x/${marker}-2`)).toBe('x');
    expect(read(r.rootfs, `${marker}-3`)).toBe('ok');
  });

  it('an archive with an oversized metadata entry or a huge skipped entry is refused or skipped in bounded memory', async () => {
    const ctx = makeContext({});
    // a 2 MiB PAX header (Go's archive/tar stops at 1 MiB): refused before it is read whole
    writeFileSync(
      join(ctx, 'pax.tar'),
      rawTar([{ path: 'f', body: 'x', pax: { comment: 'c'.repeat(2 << 20) } }]),
    );
    await expect(buildIt(root, ctx, `FROM ${base}\nADD pax.tar /p/\n`)).rejects.toThrow(/limit 1 MiB/);
    // a hard link to nothing: moby's wording, names inside the destination (no host temp paths)
    writeFileSync(join(ctx, 'dangling.tar'), rawTar([{ path: 'd', type: 'Link', linkpath: 'b' }]));
    await expect(buildIt(root, ctx, `FROM ${base}\nADD dangling.tar /p/\n`)).rejects.toMatchObject({
      code: 'ADD_BAD_TAR',
      message: 'error processing tar file dangling.tar: link /b /d: no such file or directory',
    });
    // a symlink entry claiming 96 MiB of data (a gzip bomb's worth of zeros): skipped, never buffered
    // (node-tar writes no size for a symlink: the typeflag and checksum are patched by hand)
    const linkHeader = Buffer.alloc(512);
    new Header({
      path: 'l',
      linkpath: 'target',
      type: 'File',
      size: 96 << 20,
      mode: 0o755,
      mtime: new Date(0),
    }).encode(linkHeader, 0);
    linkHeader.write('2', 156);
    linkHeader.fill(' ', 148, 156);
    const sum = linkHeader.reduce((a, b) => a + b, 0);
    linkHeader.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    expect(new Header(linkHeader)).toMatchObject({ type: 'SymbolicLink', size: 96 << 20, cksumValid: true });
    execFileSync(
      'sh',
      ['-c', `(cat; head -c ${(96 << 20) + 1024} /dev/zero) | gzip -1 > ${join(ctx, 'bomb.tar.gz')}`],
      {
        input: linkHeader,
      },
    );
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
    }, 5);
    const r = await buildIt(root, ctx, `FROM ${base}\nADD bomb.tar.gz /b/\n`).finally(() =>
      clearInterval(sampler),
    );
    expect(peak).toBeLessThan(48 << 20);
    expect(readlinkSync(join(r.rootfs, 'b/l'))).toBe('target');
  });

  it('a file never replaces a directory a lower layer has (BuildKit: "cannot replace to directory")', async () => {
    const ctx = makeContext({ a: 'a', b: 'b' });
    for (const first of ['RUN mkdir -p /t/a', 'COPY b /t/a/', 'RUN mkdir -p /t/a/x'])
      for (const copy of ['COPY a /t/', 'COPY b a /t/'])
        await expect(buildIt(root, ctx, `FROM ${base}\n${first}\n${copy}\n`)).rejects.toMatchObject({
          code: 'COPY_TYPE_CONFLICT',
          message: 'cannot replace to directory /t/a with file',
        });
    // into the directory itself it goes, as BuildKit copies it
    const into = await buildIt(root, ctx, `FROM ${base}\nRUN mkdir -p /t/a\nCOPY a /t/a\n`);
    expect(read(into.rootfs, 't/a/a')).toBe('a');
  });

  it('fails loudly: a failing RUN names the command and exit code', async () => {
    const ctx = makeContext({});
    await expect(buildIt(root, ctx, `FROM ${base}\nRUN echo boom && exit 3\n`)).rejects.toThrow(
      /exit code 3|exit.*3/,
    );
  });
});

describe('cancellation', () => {
  it('an aborted build stops its RUN, leaves no mounts, and the next build works', async () => {
    const ctx = makeContext({});
    const ctl = new AbortController();
    const started = Date.now();
    const p = buildIt(root, ctx, `FROM ${base}\nRUN sleep 30\n`, { signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('stop now')), 1500);
    await expect(p).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(15_000);
    const { readFileSync } = await import('node:fs');
    expect(readFileSync('/proc/self/mounts', 'utf8')).not.toContain(`${root}/tmp/`);
    const ok = await buildIt(root, ctx, `FROM ${base}\nRUN echo fine > /fine\n`);
    expect(read(ok.rootfs, 'fine')).toBe('fine\n');
  });

  it('a cancelled RUN is killed at once, not left to finish its command (a shell as PID 1 ignores SIGTERM)', async () => {
    const ctx = makeContext({});
    const id = `late-${process.pid}-${Date.now()}`;
    const ctl = new AbortController();
    const p = build({
      root,
      context: ctx,
      dockerfileText: `FROM ${base}\nRUN --mount=type=cache,target=/c,id=${id} sleep 1 && echo late > /c/late\n`,
      signal: ctl.signal,
      progress: {
        emit: (e) => {
          if (e.type === 'vertex' && e.status === 'started' && e.name.includes('sleep 1'))
            setTimeout(() => ctl.abort(new Error('superseded')), 300);
        },
      },
    });
    await expect(p).rejects.toThrow();
    // the cache mount outlives the step: had the command gone on, `late` would be in it by now
    await new Promise((r) => setTimeout(r, 1500));
    const after = await buildIt(
      root,
      ctx,
      `FROM ${base}\nRUN --mount=type=cache,target=/c,id=${id} ls /c > /seen && echo >> /seen\n`,
    );
    expect(read(after.rootfs, 'seen')).toBe('\n');
  });
});

describe('RUN --mount', () => {
  it('cache persists across builds; bind from a stage and the context; secrets; tmpfs', async () => {
    const ctx = makeContext({ 'ctx.txt': 'from-context' });
    const secret = join(makeContext({ s: 'hunter2' }), 's');
    const df = (n: string) => `FROM ${base} AS data
RUN mkdir /d && echo staged > /d/f
FROM ${base}
RUN --mount=type=cache,target=/cache echo ${n} >> /cache/log && cat /cache/log > /cache-seen
RUN --mount=type=bind,from=data,source=/d,target=/mnt cat /mnt/f > /bound
RUN --mount=type=bind,target=/c cat /c/ctx.txt > /ctxbound
RUN --mount=type=secret,id=tok cat /run/secrets/tok > /dev/null && echo ok > /secret-ok
RUN --mount=type=tmpfs,target=/scratch touch /scratch/x && test ! -e /scratch-left
`;
    const a = await buildIt(root, ctx, df('one'), { secrets: [`id=tok,src=${secret}`] });
    expect(read(a.rootfs, 'cache-seen')).toBe('one\n');
    expect(read(a.rootfs, 'bound')).toBe('staged\n');
    expect(read(a.rootfs, 'ctxbound')).toBe('from-context');
    expect(read(a.rootfs, 'secret-ok')).toBe('ok\n');
    expect(() => read(a.rootfs, 'run/secrets/tok')).toThrow();
    expect(() => read(a.rootfs, 'cache/log')).toThrow();
    const b = await buildIt(root, ctx, df('two'), { secrets: [`id=tok,src=${secret}`] });
    expect(read(b.rootfs, 'cache-seen')).toBe('one\ntwo\n');
  });

  it('needs no target where BuildKit needs none: ssh (ssh_agent.N), a secret as env=; secrets are nosuid,nodev,noexec', async () => {
    const ctx = makeContext({});
    const dir = makeContext({ s: 'hunter2' });
    const sock = join(dir, 'agent.sock');
    const server = createServer(() => {}).listen(sock);
    await new Promise((r) => server.once('listening', r));
    try {
      const df = `FROM ${base}
RUN --mount=type=ssh --mount=type=ssh,id=two (ls /run/buildkit; echo "$SSH_AUTH_SOCK"; test -S /run/buildkit/ssh_agent.1 && echo socket) > /ssh
RUN --mount=type=secret,id=tok,env=TOK echo "\${#TOK} $(test -e /run/secrets/tok && echo file || echo nofile)" > /env
RUN --mount=type=secret,id=tok grep ' /run/secrets/tok ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1-4 > /opts
`;
      const r = await buildIt(root, ctx, df, {
        secrets: [`id=tok,src=${join(dir, 's')}`],
        ssh: [`default=${sock}`, `two=${sock}`],
      });
      expect(read(r.rootfs, 'ssh')).toBe('ssh_agent.0\nssh_agent.1\n/run/buildkit/ssh_agent.0\nsocket\n');
      expect(read(r.rootfs, 'env')).toBe('7 nofile\n');
      expect(read(r.rootfs, 'opts')).toBe('ro,nosuid,nodev,noexec\n');
      // Without --ssh the caller's own agent is not forwarded (BuildKit forwards only --ssh), and
      // SSH_AUTH_SOCK is set all the same.
      const saved = process.env.SSH_AUTH_SOCK;
      process.env.SSH_AUTH_SOCK = sock;
      try {
        const df2 = `FROM ${base}\nRUN --mount=type=ssh (echo "$SSH_AUTH_SOCK"; test -S "$SSH_AUTH_SOCK" && echo socket || echo none) > /o\n`;
        const none = await buildIt(root, ctx, df2);
        expect(read(none.rootfs, 'o')).toBe('/run/buildkit/ssh_agent.0\nnone\n');
      } finally {
        if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = saved;
      }
    } finally {
      server.close();
    }
  });

  it('--ssh ID=KEYFILE,KEYFILE serves the keys to the step, as docker build does', async () => {
    // The host's ssh-add and the libraries it loads, copied into the context: a real agent client
    // in the step lists what the build's agent holds.
    requireBinary('ssh-keygen', 'openssh-client');
    const ctx = makeContext({});
    const ssh = requireBinary('ssh-add', 'openssh-client');
    const libs = execFileSync('ldd', [ssh], { encoding: 'utf8' }).match(/\/[^\s]+/g) ?? [];
    for (const f of [ssh, ...libs]) {
      mkdirSync(join(ctx, 'bin', f, '..'), { recursive: true });
      copyFileSync(f, join(ctx, 'bin', f));
    }
    const keys = makeContext({});
    for (const t of ['ed25519', 'ecdsa'])
      execFileSync('ssh-keygen', ['-q', '-t', t, '-N', '', '-f', join(keys, t)]);
    const df = `FROM ${base}\nCOPY bin/ /\nRUN --mount=type=ssh,id=deploy ssh-add -L > /keys\n`;
    const r = await buildIt(root, ctx, df, {
      ssh: [`deploy=${join(keys, 'ed25519')},${join(keys, 'ecdsa')}`],
    });
    const pub = (t: string) =>
      readFileSync(join(keys, `${t}.pub`), 'utf8')
        .split(' ')
        .slice(0, 2)
        .join(' ');
    expect(read(r.rootfs, 'keys')).toBe(`${pub('ed25519')} \n${pub('ecdsa')} \n`);
    // A key file that is not one fails the build before it starts, with docker's words.
    const bad = `deploy=${join(keys, 'ed25519.pub')}`;
    await expect(buildIt(root, ctx, df, { ssh: [bad] })).rejects.toThrow(
      `could not parse ssh: [${bad}]: failed to parse ${join(keys, 'ed25519.pub')}: ssh: no key found`,
    );
  });
});

describe('failure', () => {
  it('a failing stage cancels a parallel one and reports its own error', async () => {
    const ctx = makeContext({});
    const started = Date.now();
    const df = `FROM ${base} AS slow\nRUN sleep 30\nFROM ${base} AS bad\nRUN sleep 1 && exit 5\nFROM ${base}\nCOPY --from=slow /bin/sh /a\nCOPY --from=bad /bin/sh /b\n`;
    await expect(buildIt(root, ctx, df)).rejects.toThrow(/exit code: 5/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});

describe('outputs', () => {
  it('writes oci and docker archives skopeo reads and pushes to a registry', async () => {
    requireBinary('skopeo');
    const ctx = makeContext({ 'x.txt': 'x' });
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-outs-'));
    const r = await buildIt(root, ctx, `FROM ${base}\nCOPY x.txt /x.txt\n`, {
      tags: [`${reg.host}/test/pushed:1`],
      outputs: [
        `type=oci,dest=${out}/img.oci.tar`,
        `type=docker,dest=${out}/img.docker.tar`,
        `type=tar,dest=${out}/fs.tar`,
        'type=registry',
      ],
      iidfile: `${out}/iid`,
      metadataFile: `${out}/meta.json`,
    });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(`${out}/iid`, 'utf8')).toBe(r.configDigest);
    const meta = JSON.parse(readFileSync(`${out}/meta.json`, 'utf8'));
    expect(meta['containerimage.digest']).toBe(r.digest);
    expect(meta['containerimage.config.digest']).toBe(r.configDigest);
    expect(meta['containerimage.descriptor'].size).toBeLessThan(2000);
    expect(meta.size).toBe(r.size);
    const oci = JSON.parse(
      execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${out}/img.oci.tar`], { encoding: 'utf8' }),
    );
    expect(oci.layers.length).toBeGreaterThanOrEqual(2);
    execFileSync('skopeo', ['inspect', `docker-archive:${out}/img.docker.tar`]);
    expect(execFileSync('tar', ['-tf', `${out}/fs.tar`], { encoding: 'utf8' })).toMatch(/x\.txt/);
    const pushed = JSON.parse(
      execFileSync(
        'skopeo',
        ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/test/pushed:1`],
        { encoding: 'utf8' },
      ),
    );
    expect(pushed.config.digest).toBe(r.configDigest);
  });

  it('type=tar and type=local keep FIFOs, device nodes and hard links, as BuildKit exports them', async () => {
    const ctx = makeContext({});
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-outs-'));
    await buildIt(
      root,
      ctx,
      `FROM ${base}\nRUN mkdir /s && mkfifo /s/fifo && mknod /s/nul c 1 3 && echo x > /s/a && ln /s/a /s/b && chown 3:4 /s/a && chmod 4755 /s/a\n`,
      { outputs: [`type=tar,dest=${out}/fs.tar`, `type=local,dest=${out}/dir`] },
    );
    const listing = execFileSync('tar', ['-tvf', `${out}/fs.tar`, 's/'], { encoding: 'utf8' });
    expect(listing).toMatch(/^p.* s\/fifo$/m);
    expect(listing).toMatch(/^c.* 1,3 .*s\/nul$/m);
    expect(listing).toMatch(/^h.* s\/b link to s\/a$/m);
    expect(lstatSync(join(out, 'dir/s/fifo')).isFIFO()).toBe(true);
    expect(lstatSync(join(out, 'dir/s/nul')).isCharacterDevice()).toBe(true);
    expect(lstatSync(join(out, 'dir/s/b')).ino).toBe(lstatSync(join(out, 'dir/s/a')).ino);
    // The tar keeps owners; the local dir is the builder's own (setuid kept), as BuildKit's exporters.
    expect(ownerInTar(`${out}/fs.tar`, 's/a')).toBe('3:4');
    const a = lstatSync(join(out, 'dir/s/a'));
    expect([a.uid, a.gid, a.mode & 0o7777]).toEqual([process.getuid!(), process.getgid!(), 0o4755]);
  });

  it('type=local makes a missing dest 0700 and merges into an existing one, as BuildKit', async () => {
    const out = mkdtempSync(join(tmpdir(), 'tsb-e2e-local-'));
    mkdirSync(join(out, 'kept'));
    writeFileSync(join(out, 'kept/mine'), 'mine');
    const df = `FROM ${base}\nRUN mkdir -p /kept && echo new > /kept/theirs\n`;
    await buildIt(root, makeContext({}), df, {
      outputs: [`type=local,dest=${out}`, `type=local,dest=${out}/new/dir`],
    });
    expect(readFileSync(join(out, 'kept/mine'), 'utf8')).toBe('mine');
    expect(readFileSync(join(out, 'kept/theirs'), 'utf8')).toBe('new\n');
    expect(lstatSync(join(out, 'new/dir')).mode & 0o777).toBe(0o700);
    expect(lstatSync(join(out, 'new')).mode & 0o777).toBe(0o700);
  });
});
