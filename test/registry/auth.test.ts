import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReference } from '../../src/oci/index.js';
import {
  getCredentials,
  login,
  pullImage,
  pushImage,
  RegistryClient,
  removeCredentials,
  resolve,
} from '../../src/registry/index.js';
import { openStore } from '../../src/store/index.js';
import {
  pushBusyboxImage,
  pushBusyboxImageAsync,
  startRegistry,
  type TestRegistry,
} from '../helpers/registry.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

function configDir(cfg: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-dockercfg-'));
  if (cfg !== undefined) writeFileSync(join(dir, 'config.json'), JSON.stringify(cfg));
  return dir;
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('basic auth (htpasswd)', () => {
  let reg: TestRegistry;
  let img: ReturnType<typeof pushBusyboxImage>;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'htpasswd', users: { alice: 'wonderland' } });
    img = pushBusyboxImage(reg, 'app/bb:1', 'alice:wonderland');
  });
  afterAll(() => reg?.stop());

  it('uses base64 `auth` from config.json', async () => {
    const dir = configDir({ auths: { [reg.host]: { auth: b64('alice:wonderland') } } });
    const d = await resolve(
      new RegistryClient({ dockerConfigDir: dir }),
      parseReference(`${reg.host}/app/bb:1`),
    );
    expect(d.digest).toBe(img.manifestDigest);
  });

  it('without credentials: UNAUTHORIZED that says to log in', async () => {
    const p = resolve(
      new RegistryClient({ dockerConfigDir: configDir(undefined) }),
      parseReference(`${reg.host}/app/bb:1`),
    );
    await expect(p).rejects.toMatchObject({ code: 'UNAUTHORIZED', hint: expect.stringContaining('login') });
  });

  it('a wrong password is a clear UNAUTHORIZED, and login does not save it', async () => {
    const dir = configDir({ auths: { [reg.host]: { auth: b64('alice:wrong') } } });
    await expect(
      resolve(new RegistryClient({ dockerConfigDir: dir }), parseReference(`${reg.host}/app/bb:1`)),
    ).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    const fresh = configDir(undefined);
    await expect(
      login(new RegistryClient({ dockerConfigDir: fresh }), reg.host, {
        username: 'alice',
        password: 'nope',
      }),
    ).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(await getCredentials(reg.host, fresh)).toBeUndefined();
  });

  it('login writes config.json like docker, logout removes it', async () => {
    const dir = configDir({ auths: { 'other.example': { auth: b64('x:y') } }, detachKeys: 'ctrl-p' });
    await login(new RegistryClient({ dockerConfigDir: dir }), reg.host, {
      username: 'alice',
      password: 'wonderland',
    });
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg.auths[reg.host].auth).toBe(b64('alice:wonderland'));
    expect(cfg.auths['other.example'].auth).toBe(b64('x:y'));
    expect(cfg.detachKeys).toBe('ctrl-p');
    expect(await removeCredentials(reg.host, dir)).toBe(true);
    const after = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(after.auths[reg.host]).toBeUndefined();
    expect(after.auths['other.example']).toBeDefined();
  });
});

describe('bearer token auth', () => {
  let reg: TestRegistry;
  let img: ReturnType<typeof pushBusyboxImage>;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token', users: { bob: 's3cret' }, anonymousPull: true });
    img = await pushBusyboxImageAsync(reg, 'team/bb:1', 'bob:s3cret');
  });
  afterAll(() => reg?.stop());

  it('anonymous pull gets a pull-scoped token, cached across requests', async () => {
    const store = await openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));
    const before = reg.token!.requests.length;
    const r = await pullImage(
      new RegistryClient({ dockerConfigDir: configDir(undefined) }),
      store,
      parseReference(`${reg.host}/team/bb:1`),
    );
    expect(r.manifestDescriptor.digest).toBe(img.manifestDigest);
    const reqs = reg.token!.requests.slice(before);
    expect(reqs.length).toBe(1);
    expect(reqs[0]!.scopes).toEqual(['repository:team/bb:pull']);
    expect(reqs[0]!.authorized).toBe(false);
  });

  it('anonymous push is refused with the registry code and a hint', async () => {
    const store = await openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));
    const client = new RegistryClient({ dockerConfigDir: configDir(undefined) });
    const r = await pullImage(client, store, parseReference(`${reg.host}/team/bb:1`));
    const p = pushImage(client, store, r.manifestDescriptor, parseReference(`${reg.host}/team/other:1`));
    await expect(p).rejects.toMatchObject({
      code: expect.stringMatching(/^(UNAUTHORIZED|DENIED)$/),
      hint: expect.any(String),
    });
  });

  it('with credentials: push asks for pull,push on the target and pull on the mount source', async () => {
    const store = await openStore(mkdtempSync(join(tmpdir(), 'tsb-store-')));
    const dir = configDir({ auths: { [reg.host]: { auth: b64('bob:s3cret') } } });
    const client = new RegistryClient({ dockerConfigDir: dir });
    const r = await pullImage(client, store, parseReference(`${reg.host}/team/bb:1`));
    const before = reg.token!.requests.length;
    const res = await pushImage(
      client,
      store,
      r.manifestDescriptor,
      parseReference(`${reg.host}/team/copy:1`),
    );
    expect(res.mounted).toBe(2);
    const scopes = reg.token!.requests.slice(before).flatMap((q) => q.scopes);
    expect(scopes).toContain('repository:team/copy:pull,push');
    expect(scopes).toContain('repository:team/bb:pull');
    expect(reg.token!.requests.slice(before).every((q) => q.account === 'bob' && q.authorized)).toBe(true);
  });

  it('a wrong password fails at the token server with a clear error', async () => {
    const dir = configDir({ auths: { [reg.host]: { auth: b64('bob:wrong') } } });
    await expect(
      resolve(new RegistryClient({ dockerConfigDir: dir }), parseReference(`${reg.host}/team/bb:1`)),
    ).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      hint: expect.stringContaining('password'),
    });
  });

  it('credentials from a credential helper on PATH (credHelpers), and login through credsStore', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'tsb-credbin-'));
    const db = join(bin, 'db.json');
    writeFileSync(db, JSON.stringify({ [reg.host]: { Username: 'bob', Secret: 's3cret' } }));
    // A docker-credential-* helper: get/store/erase on a JSON file, as the protocol says.
    const script = `#!/usr/bin/env node
const fs = require('fs'); const db = ${JSON.stringify(db)};
let input = ''; process.stdin.on('data', d => input += d); process.stdin.on('end', () => {
  const m = JSON.parse(fs.readFileSync(db, 'utf8')); const a = process.argv[2];
  if (a === 'get') { const e = m[input.trim()]; if (!e) { process.stdout.write('credentials not found in native keychain'); process.exit(1); }
    process.stdout.write(JSON.stringify({ ServerURL: input.trim(), ...e })); }
  else if (a === 'store') { const j = JSON.parse(input); m[j.ServerURL] = { Username: j.Username, Secret: j.Secret }; fs.writeFileSync(db, JSON.stringify(m)); }
  else if (a === 'erase') { delete m[input.trim()]; fs.writeFileSync(db, JSON.stringify(m)); }
});`;
    writeFileSync(join(bin, 'docker-credential-tsbtest'), script);
    chmodSync(join(bin, 'docker-credential-tsbtest'), 0o755);
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    try {
      const dir = configDir({ credHelpers: { [reg.host]: 'tsbtest' } });
      const client = new RegistryClient({ dockerConfigDir: dir });
      const before = reg.token!.requests.length;
      expect((await resolve(client, parseReference(`${reg.host}/team/bb:1`))).digest).toBe(
        img.manifestDigest,
      );
      expect(reg.token!.requests.slice(before)[0]!.account).toBe('bob');

      const storeDir = configDir({ credsStore: 'tsbtest' });
      mkdirSync(storeDir, { recursive: true });
      await login(new RegistryClient({ dockerConfigDir: storeDir }), reg.host, {
        username: 'bob',
        password: 's3cret',
      });
      const saved = JSON.parse(readFileSync(db, 'utf8'));
      expect(saved[reg.host]).toEqual({ Username: 'bob', Secret: 's3cret' });
      // the password is in the helper, not in config.json
      expect(readFileSync(join(storeDir, 'config.json'), 'utf8')).not.toContain(b64('bob:s3cret'));
    } finally {
      process.env.PATH = oldPath;
    }
  });
});

describe('token expiry', () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  beforeAll(async () => {
    reg = await startRegistry({ auth: 'token', users: { bob: 's3cret' }, anonymousPull: true });
    await pushBusyboxImageAsync(reg, 'team/bb:1', 'bob:s3cret');
    proxy = await startFaultProxy(reg.host);
  });
  afterAll(async () => {
    await proxy?.stop();
    await reg?.stop();
  });

  it('a 401 for a cached token (expired, revoked) fetches a new one and replays the request', async () => {
    const client = new RegistryClient({ dockerConfigDir: configDir(undefined) });
    const ref = parseReference(`${proxy.host}/team/bb:1`);
    const first = await resolve(client, ref);
    const before = reg.token!.requests.length;
    let rejected = 0;
    proxy.rule = (req) => {
      if (req.url?.includes('/manifests/') && rejected === 0) {
        rejected++;
        const challenge = `Bearer realm="${reg.token!.realm}",service="${reg.token!.service}",scope="repository:team/bb:pull",error="invalid_token"`;
        return { kind: 'status', status: 401, headers: { 'www-authenticate': challenge } };
      }
      return { kind: 'pass' };
    };
    expect((await resolve(client, ref)).digest).toBe(first.digest);
    expect(rejected).toBe(1);
    expect(reg.token!.requests.length).toBe(before + 1);
  });
});
