import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/oci/index.js';
import { type PullResult, pullImage, pushImage, RegistryClient, resolve } from '../../src/registry/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { pushBusyboxImage, startRegistry, type TestRegistry } from '../helpers/registry.js';

/** A non-loopback address: registries there are spoken to over HTTPS (loopback ones over plain HTTP). */
function externalIPv4(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this test needs a non-loopback IPv4 address to serve a TLS registry on');
}

describe('HTTPS registries', () => {
  let tlsReg: TestRegistry;
  let plain: TestRegistry;
  let store: Store;
  let pulled: PullResult;
  beforeAll(async () => {
    tlsReg = await startRegistry({ tls: true, listen: externalIPv4() });
    plain = await startRegistry();
    const bb = pushBusyboxImage(plain, 'library/busybox:1');
    store = await openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));
    pulled = await pullImage(new RegistryClient(), store, parseReference(bb.ref));
  });
  afterAll(async () => {
    await tlsReg?.stop();
    await plain?.stop();
  });

  it('a certificate from an unknown CA is refused with a clear error', async () => {
    const client = new RegistryClient({ certsDir: mkdtempSync(join(tmpdir(), 'tsb-nocerts-')) });
    await expect(resolve(client, parseReference(`${tlsReg.host}/x/y:1`))).rejects.toMatchObject({
      code: 'REGISTRY_UNREACHABLE',
      message: expect.stringMatching(/certificate/i),
    });
  });

  it('trusts a private CA from certs.d/<host>/ca.crt: push, resolve, and skopeo agrees', async () => {
    const client = new RegistryClient({ certsDir: tlsReg.certsDir! });
    expect(client.endpoint(tlsReg.host).protocol).toBe('https:');
    const r = await pushImage(
      client,
      store,
      pulled.manifestDescriptor,
      parseReference(`${tlsReg.host}/secure/bb:1`),
    );
    expect(r.uploaded).toBe(2);
    expect((await resolve(client, parseReference(`${tlsReg.host}/secure/bb:1`))).digest).toBe(
      pulled.manifestDescriptor.digest,
    );
    const out = execFileSync(
      'skopeo',
      ['inspect', '--cert-dir', join(tlsReg.certsDir!, tlsReg.host), `docker://${tlsReg.host}/secure/bb:1`],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out).Digest).toBe(pulled.manifestDescriptor.digest);
  });

  it('an --insecure-registry that speaks TLS is reached over HTTPS without certificate checks (as Docker)', async () => {
    const client = new RegistryClient({
      insecureRegistries: [tlsReg.host],
      certsDir: mkdtempSync(join(tmpdir(), 'tsb-nocerts-')),
    });
    const r = await pushImage(
      client,
      store,
      pulled.manifestDescriptor,
      parseReference(`${tlsReg.host}/insecure/bb:1`),
    );
    expect(r.digest).toBe(pulled.manifestDescriptor.digest);
    expect(client.endpoint(tlsReg.host).protocol).toBe('https:');
    // a plain registry named insecure stays on plain HTTP
    const plainClient = new RegistryClient({ insecureRegistries: [plain.host] });
    await resolve(plainClient, parseReference(`${plain.host}/library/busybox:1`));
    expect(plainClient.endpoint(plain.host).protocol).toBe('http:');
  });

  it('the tsbuild command trusts NODE_EXTRA_CA_CERTS, which bin/run.js hides from Node at start-up', async () => {
    await pushImage(
      new RegistryClient({ certsDir: tlsReg.certsDir! }),
      store,
      pulled.manifestDescriptor,
      parseReference(`${tlsReg.host}/extra/bb:1`),
    );
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
    const root = mkdtempSync(join(tmpdir(), 'tsb-extra-ca-'));
    // An empty certs.d path would not do: the CLI reads /etc/docker/certs.d, which has no entry for this host.
    const pull = (env: NodeJS.ProcessEnv) =>
      spawnSync(bin, ['pull', '--root', root, '-q', `${tlsReg.host}/extra/bb:1`], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
      });
    const without = pull({ NODE_EXTRA_CA_CERTS: '' });
    expect(without.status).not.toBe(0);
    expect(without.stderr).toMatch(/certificate/i);
    const withCa = pull({ NODE_EXTRA_CA_CERTS: join(tlsReg.certsDir!, tlsReg.host, 'ca.crt') });
    expect(withCa.stderr).toBe('');
    expect(withCa.status).toBe(0);
    // and bin/run.js's two-line header really takes the variable away from Node, to tsbuild's own
    const probe = join(root, 'probe.js');
    const header = readFileSync(bin, 'utf8').split('\n').slice(0, 2).join('\n');
    writeFileSync(
      probe,
      `${header}\nconsole.log(process.env.NODE_EXTRA_CA_CERTS ?? '-', process.env.TSBUILD_EXTRA_CA_CERTS);\n`,
      { mode: 0o755 },
    );
    const env = spawnSync(probe, [], {
      encoding: 'utf8',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: '/x.pem' },
    });
    expect(env.stdout.trim()).toBe('- /x.pem');
  });
});
