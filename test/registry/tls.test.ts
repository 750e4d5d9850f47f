import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
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
});
