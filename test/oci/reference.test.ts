import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { familiarReference, formatReference, parseReference } from '../../src/oci/index.js';

const H = 'a'.repeat(64);

describe('parseReference: Docker normalization', () => {
  it.each([
    ['alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['alpine:3.20', 'docker.io/library/alpine:3.20', 'alpine:3.20'],
    ['library/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['index.docker.io/user/app:1', 'docker.io/user/app:1', 'user/app:1'],
    ['user/app', 'docker.io/user/app:latest', 'user/app:latest'],
    ['localhost/x', 'localhost/x:latest', 'localhost/x:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest', 'localhost:5000/x:latest'],
    ['127.0.0.1:5000/a/b/c:d', '127.0.0.1:5000/a/b/c:d', '127.0.0.1:5000/a/b/c:d'],
    ['host.example/ns/repo:tag', 'host.example/ns/repo:tag', 'host.example/ns/repo:tag'],
    [
      `host/ns/repo:tag@sha256:${H}`,
      `docker.io/host/ns/repo:tag@sha256:${H}`,
      `host/ns/repo:tag@sha256:${H}`,
    ],
    [`alpine@sha256:${H}`, `docker.io/library/alpine@sha256:${H}`, `alpine@sha256:${H}`],
    [
      'Host.Example:443/a_b/c-d__e.f:T_1.x-y',
      'Host.Example:443/a_b/c-d__e.f:T_1.x-y',
      'Host.Example:443/a_b/c-d__e.f:T_1.x-y',
    ],
    ['[::1]:5000/x:1', '[::1]:5000/x:1', '[::1]:5000/x:1'],
  ])('%s → %s', (input, full, familiar) => {
    const r = parseReference(input);
    expect(formatReference(r)).toBe(full);
    expect(familiarReference(r)).toBe(familiar);
  });

  it('digest-only references carry no tag', () => {
    const r = parseReference(`localhost:5000/app@sha256:${H}`);
    expect(r).toEqual({ registry: 'localhost:5000', repository: 'app', digest: `sha256:${H}` });
  });

  it.each([
    ['', /empty/],
    ['UPPER', /must be lowercase/],
    ['docker.io/Library/alpine', /must be lowercase/],
    [H, /64-byte hexadecimal/],
    ['alpine:', /tag/],
    ['alpine::1', /invalid/],
    ['-alpine', /invalid repository/],
    ['a//b', /invalid repository/],
    ['alpine@sha256:abc', /invalid/],
    [`alpine@sha256:${'a'.repeat(40)}`, /64 lowercase hex/],
    [`alpine@sha512:${'a'.repeat(128)}`, /only sha256/],
    [`alpine@sha256:${'A'.repeat(64)}`, /invalid/],
    [`alpine:${'t'.repeat(129)}`, /invalid/],
    ['alpine:-x', /invalid/],
    ['bad_host:5000/x', /invalid/],
    [`${'a'.repeat(250)}/bbbbbbb`, /longer than 255/],
    ['foo/../bar', /invalid/],
    ['a b', /invalid/],
  ])('rejects %j with a clear error', (input, why) => {
    expect(() => parseReference(input)).toThrow(why);
    try {
      parseReference(input);
    } catch (e) {
      expect((e as { code: string }).code).toBe('INVALID_REFERENCE');
      expect((e as { hint?: string }).hint).toBeTruthy();
    }
  });

  it('round-trips: parsing a formatted reference gives the same reference', () => {
    const comp = fc
      .stringMatching(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/)
      .filter((s) => s.length > 0 && s.length < 30);
    fc.assert(
      fc.property(
        fc.array(comp, { minLength: 1, maxLength: 3 }),
        fc.option(fc.stringMatching(/^\w[\w.-]{0,20}$/)),
        (path, tag) => {
          const s = `${path.join('/')}${tag ? `:${tag}` : ''}`;
          const r = parseReference(s);
          expect(parseReference(formatReference(r))).toEqual(r);
          expect(parseReference(familiarReference(r))).toEqual(r);
        },
      ),
    );
  });
});
