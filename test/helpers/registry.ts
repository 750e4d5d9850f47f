import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { makeBusyboxRootfs } from './busybox.js';
import { requireBinary } from './require.js';
import { startTokenServer, type TokenServer } from './token-server.js';

const execFileAsync = promisify(execFile);

export interface TestRegistry {
  /** `127.0.0.1:PORT` */
  host: string;
  url: string;
  dir: string;
  /** Users (name → password) for htpasswd/token variants. */
  users: Record<string, string>;
  token?: TokenServer;
  /** With `tls`: a certs.d directory trusting this registry's CA. */
  certsDir?: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  users?: Record<string, string>;
  /** Token variant: anonymous clients may pull. */
  anonymousPull?: boolean;
  tokenExpiresIn?: number;
  /**
   * Serve HTTPS with a certificate from a private CA, on `listen` (default 127.0.0.1). The CA is in
   * `<dir>/certs.d/<host>/ca.crt`, the layout Docker and RegistryOptions.certsDir read.
   */
  tls?: boolean;
  listen?: string;
}

/** A free ephemeral port on 127.0.0.1 (never 5000: that one belongs to the peers' registry). */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer();
      s.on('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    if (port !== 5000) return port;
  }
}

function makeServerCert(dir: string, ip: string): { cert: string; key: string; ca: string } {
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  o([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=tsbuild-test-ca',
  ]);
  o([
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    `/CN=${ip}`,
  ]);
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=IP:${ip}\n`);
  o([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  return { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') };
}

function probe(url: string, ca?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.get(`${url}/v2/`, ca ? { ca: readFileSync(ca) } : {}, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

async function waitReady(url: string, proc: ChildProcess, log: () => string, ca?: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited (${proc.exitCode}): ${log()}`);
    try {
      const status = await probe(url, ca);
      if (status === 200 || status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not start: ${log()}`);
}

/**
 * Starts Debian's `docker-registry serve` (distribution v2) on 127.0.0.1 with a temp storage dir:
 * anonymous, htpasswd basic auth, or token auth behind our own token server.
 */
export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  // The free port can be taken between probing and binding (parallel test files): try again.
  for (let attempt = 0; ; attempt++) {
    try {
      return await startRegistryOnce(opts);
    } catch (e) {
      if (attempt >= 3 || !/address already in use/.test((e as Error).message)) throw e;
    }
  }
}

async function startRegistryOnce(opts: RegistryOptions): Promise<TestRegistry> {
  const bin = requireBinary('docker-registry');
  const dir = mkdtempSync(join(tmpdir(), 'tsb-registry-'));
  mkdirSync(join(dir, 'data'));
  const users = opts.users ?? { alice: 'wonderland' };
  const port = await freePort();
  let auth = '';
  let token: TokenServer | undefined;
  if (opts.auth === 'htpasswd') {
    requireBinary('htpasswd', 'apache2-utils');
    const lines = Object.entries(users).map(([u, p]) =>
      execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim(),
    );
    writeFileSync(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    auth = `auth:\n  htpasswd:\n    realm: tsbuild-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (opts.auth === 'token') {
    token = await startTokenServer(dir, {
      users,
      ...(opts.anonymousPull ? { anonymousPull: true } : {}),
      ...(opts.tokenExpiresIn ? { expiresIn: opts.tokenExpiresIn } : {}),
    });
    auth = `auth:\n  token:\n    realm: ${token.realm}\n    service: ${token.service}\n    issuer: ${token.issuer}\n    rootcertbundle: ${token.certPath}\n`;
  }
  const listen = opts.listen ?? '127.0.0.1';
  let tls = '';
  let certsDir: string | undefined;
  let ca: string | undefined;
  if (opts.tls) {
    mkdirSync(join(dir, 'tls'));
    const c = makeServerCert(join(dir, 'tls'), listen);
    ca = c.ca;
    tls = `  tls:\n    certificate: ${c.cert}\n    key: ${c.key}\n`;
    certsDir = join(dir, 'certs.d');
    mkdirSync(join(certsDir, `${listen}:${port}`), { recursive: true });
    copyFileSync(c.ca, join(certsDir, `${listen}:${port}`, 'ca.crt'));
  }
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: ${listen}:${port}
  secret: tsbuild-test-secret
${tls}${auth}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const proc = spawn(bin, ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' },
  });
  let log = '';
  proc.stderr!.on('data', (d) => {
    log = (log + d).slice(-4000);
  });
  const url = `${opts.tls ? 'https' : 'http'}://${listen}:${port}`;
  try {
    await waitReady(url, proc, () => log, ca);
  } catch (e) {
    proc.kill('SIGKILL');
    await token?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    host: `${listen}:${port}`,
    url,
    dir,
    users,
    ...(certsDir ? { certsDir } : {}),
    ...(token ? { token } : {}),
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      await token?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface BusyboxImage {
  /** OCI image layout dir holding the image (tag `latest`). */
  layoutDir: string;
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  diffId: string;
}

let busyboxLayout: BusyboxImage | undefined;

function sha256File(path: string): string {
  return `sha256:${execFileSync('sha256sum', [path], { encoding: 'utf8' }).split(' ')[0]}`;
}

/**
 * A one-layer busybox image (the busybox-static rootfs from busybox.ts) as an OCI layout, built with
 * GNU tar and gzip only (independent of tsbuild's own code), cached per test process.
 */
export function busyboxImageLayout(): BusyboxImage {
  if (busyboxLayout) return busyboxLayout;
  const work = mkdtempSync(join(tmpdir(), 'tsb-bbimg-'));
  const rootfs = makeBusyboxRootfs(join(work, 'rootfs'));
  const layout = join(work, 'layout');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  const tarPath = join(work, 'layer.tar');
  execFileSync('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    rootfs,
    '-cf',
    tarPath,
    '.',
  ]);
  const diffId = sha256File(tarPath);
  execFileSync('gzip', ['-n', '-6', tarPath]);
  const layerDigest = sha256File(`${tarPath}.gz`);
  const layerSize = Number(execFileSync('stat', ['-c', '%s', `${tarPath}.gz`], { encoding: 'utf8' }).trim());
  execFileSync('mv', [`${tarPath}.gz`, join(layout, 'blobs', 'sha256', layerDigest.slice(7))]);
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const config = Buffer.from(
    JSON.stringify({
      created: '1970-01-01T00:00:00Z',
      architecture: arch,
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'COPY busybox / # test helper' }],
    }),
  );
  const put = (b: Buffer) => {
    const p = join(work, 'blob');
    writeFileSync(p, b);
    const d = sha256File(p);
    execFileSync('mv', [p, join(layout, 'blobs', 'sha256', d.slice(7))]);
    return d;
  };
  const configDigest = put(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layerSize },
      ],
    }),
  );
  const manifestDigest = put(manifest);
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    }),
  );
  busyboxLayout = { layoutDir: layout, manifestDigest, configDigest, layerDigest, diffId };
  return busyboxLayout;
}

function skopeoPushArgs(
  registry: TestRegistry,
  repoTag: string,
  creds: string | undefined,
): { args: string[]; img: BusyboxImage; ref: string } {
  requireBinary('skopeo');
  const img = busyboxImageLayout();
  const ref = `${registry.host}/${repoTag}`;
  const user =
    creds ??
    (Object.keys(registry.users).length && (registry.token || existsSync(join(registry.dir, 'htpasswd')))
      ? `${Object.keys(registry.users)[0]}:${Object.values(registry.users)[0]}`
      : undefined);
  const args = [
    'copy',
    '--quiet',
    '--dest-tls-verify=false',
    ...(user ? ['--dest-creds', user] : []),
    `oci:${img.layoutDir}:latest`,
    `docker://${ref}`,
  ];
  return { args, img, ref };
}

/**
 * Pushes the busybox image to `registry` as `repo:tag` with skopeo (so tests of tsbuild's pull do not
 * depend on tsbuild's push). Returns the image's digests; the ref is `HOST/REPO:TAG`. Synchronous:
 * not for token-auth registries, whose token server runs in this process (use the async variant).
 */
export function pushBusyboxImage(
  registry: TestRegistry,
  repoTag = 'library/busybox:latest',
  creds?: string,
): BusyboxImage & { ref: string } {
  const { args, img, ref } = skopeoPushArgs(registry, repoTag, creds);
  execFileSync('skopeo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return { ...img, ref };
}

/** pushBusyboxImage without blocking the event loop (needed with the in-process token server). */
export async function pushBusyboxImageAsync(
  registry: TestRegistry,
  repoTag = 'library/busybox:latest',
  creds?: string,
): Promise<BusyboxImage & { ref: string }> {
  const { args, img, ref } = skopeoPushArgs(registry, repoTag, creds);
  await execFileAsync('skopeo', args);
  return { ...img, ref };
}

/**
 * The busybox image with one more layer on top (`layerTar`: an uncompressed tar, written as given),
 * pushed with skopeo as `repo:tag`: for base images a test wants hostile or odd (`editConfig` may
 * change the image config JSON too).
 */
export function pushBusyboxWithLayer(
  registry: TestRegistry,
  repoTag: string,
  layerTar: Buffer,
  editConfig: (config: Record<string, unknown>) => void = () => {},
): string {
  requireBinary('skopeo');
  const bb = busyboxImageLayout();
  const work = mkdtempSync(join(tmpdir(), 'tsb-img-plus-'));
  const layout = join(work, 'layout');
  execFileSync('cp', ['-a', bb.layoutDir, layout]);
  const blobs = join(layout, 'blobs', 'sha256');
  const put = (b: Buffer) => {
    const d = createHash('sha256').update(b).digest('hex');
    writeFileSync(join(blobs, d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const read = (d: string) => JSON.parse(readFileSync(join(blobs, d.slice(7)), 'utf8'));
  const manifest = read(bb.manifestDigest);
  const config = read(bb.configDigest);
  const layer = put(gzipSync(layerTar));
  config.rootfs.diff_ids.push(`sha256:${createHash('sha256').update(layerTar).digest('hex')}`);
  config.history.push({ created: '1970-01-01T00:00:00Z', created_by: 'extra layer # test helper' });
  editConfig(config);
  manifest.layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer });
  manifest.config = { ...manifest.config, ...put(Buffer.from(JSON.stringify(config))) };
  const m = put(Buffer.from(JSON.stringify(manifest)));
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
  index.manifests[0] = { ...index.manifests[0], ...m };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  const ref = `${registry.host}/${repoTag}`;
  execFileSync(
    'skopeo',
    ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${ref}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  return ref;
}
