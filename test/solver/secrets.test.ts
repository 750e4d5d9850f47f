import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSecrets, parseSsh } from '../../src/solver/secrets.js';

// docker 20.10's CLI words (checked against it): each spec is checked before the build starts.
describe('--secret specs, as docker build parses them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsb-secret-'));
  const file = join(dir, 's.txt');
  writeFileSync(file, 'shh');
  afterEach(() => {
    delete process.env.TSB_SECRET_T;
  });

  it('takes a file, an env var, or the id as either', () => {
    expect(parseSecrets([`id=a,src=${file}`, `id=b,source=${file}`, 'id=c,env=HOME'])).toEqual({
      a: { src: file },
      b: { src: file },
      c: { env: 'HOME' },
    });
    expect(parseSecrets([`ID=d,Type=env,src=HOME`])).toEqual({ d: { env: 'HOME' } });
    process.env.TSB_SECRET_T = 'x';
    expect(parseSecrets(['id=TSB_SECRET_T'])).toEqual({ TSB_SECRET_T: { env: 'TSB_SECRET_T' } });
    // no env var of that name: the id is a file path
    expect(() => parseSecrets(['id=TSB_SECRET_NONE'])).toThrow(
      'could not parse secrets: [id=TSB_SECRET_NONE]: failed to stat TSB_SECRET_NONE: stat TSB_SECRET_NONE: no such file or directory',
    );
  });

  it('refuses what docker refuses, in its words', () => {
    const bad = (s: string) => () => parseSecrets([s]);
    expect(bad('id=x,src=/no/such')).toThrow(
      'could not parse secrets: [id=x,src=/no/such]: failed to stat /no/such: stat /no/such: no such file or directory',
    );
    // docker names every spec given, not just the one that failed
    expect(() => parseSecrets([`id=a,src=${file}`, 'id=b,src=/no/such'])).toThrow(
      `could not parse secrets: [id=a,src=${file} id=b,src=/no/such]: failed to stat /no/such`,
    );
    expect(bad('id=x,foo=1')).toThrow("unexpected key 'foo' in 'foo=1'");
    expect(bad('id=z,src')).toThrow("invalid field 'src' must be a key=value pair");
    expect(bad(`id=z,type=dir,src=${file}`)).toThrow('unsupported secret type "dir"');
    expect(bad(`src=${file}`)).toThrow('secret missing ID');
    const big = join(dir, 'big');
    writeFileSync(big, Buffer.alloc(500 * 1024 + 1));
    expect(bad(`id=big,src=${big}`)).toThrow('secret big too big. max size 500KB');
  });
});

// docker 20.10's CLI and BuildKit's sshprovider (checked against them); the key files themselves are
// tested in test/runner/ssh-agent.test.ts.
describe('--ssh specs, as docker build parses them', () => {
  const saved = process.env.SSH_AUTH_SOCK;
  afterEach(() => {
    if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = saved;
  });

  it('needs SSH_AUTH_SOCK for an id without a path, and refuses a duplicate id', () => {
    delete process.env.SSH_AUTH_SOCK;
    for (const s of ['default', 'default=', 'x']) {
      expect(() => parseSsh([s])).toThrow(
        `could not parse ssh: [${s}]: invalid empty ssh agent socket, make sure SSH_AUTH_SOCK is set`,
      );
    }
    process.env.SSH_AUTH_SOCK = '/no/such.sock';
    expect(() => parseSsh(['default'])).toThrow(
      'could not parse ssh: [default]: stat /no/such.sock: no such file or directory',
    );
    const key = join(mkdtempSync(join(tmpdir(), 'tsb-ssh-')), 'k');
    writeFileSync(key, generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }));
    expect(Object.keys(parseSsh([`a=${key}`, `b=${key},${key}`]))).toEqual(['a', 'b']);
    expect(() => parseSsh([`a=${key}`, `a=${key}`])).toThrow(
      `could not parse ssh: [a=${key} a=${key}]: invalid duplicate ID a`,
    );
    expect(() => parseSsh(['=/x'])).toThrow('stat /x');
  });
});
