import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requireBinary, requireRoot } from '../helpers/require.js';
import { buildIt, makeContext, useBusyboxRegistry } from './helpers.js';

requireRoot();
requireBinary('runc');

const registryBase = useBusyboxRegistry();

// BuildKit's own tests of COPY --parents (frontend/dockerfile/dockerfile_parents_test.go:
// testCopyParents, testCopyRelativeParents, testCopyParentsMissingDirectory) with their Dockerfiles,
// alpine swapped for the test registry's busybox. Each target checks its result in a RUN.

const RELATIVE = (BASE: string) => `FROM ${BASE} AS base
WORKDIR /test
RUN <<eot
	set -ex
	mkdir -p a/b/c/d/e
	mkdir -p a/b2/c/d/e
	mkdir -p a/b/c2/d/e
	mkdir -p a/b/c2/d/e2
	touch a/b/c/d/foo
	touch a/b/c/d/e/bay
	touch a/b2/c/d/e/bar
	touch a/b/c2/d/e/baz
	touch a/b/c2/d/e2/baz
eot

FROM ${BASE} AS middle
COPY --from=base --parents /test/a/b/./c/d /out/
RUN <<eot
	set -ex
	[ -d /out/c/d/e ]
	[ -f /out/c/d/foo ]
	[ ! -d /out/a ]
	[ ! -d /out/e ]
eot

FROM ${BASE} AS end
COPY --from=base --parents /test/a/b/c/d/. /out/
RUN <<eot
	set -ex
	[ -d /out/test/a/b/c/d/e ]
	[ -f /out/test/a/b/c/d/foo ]
eot

FROM ${BASE} AS start
COPY --from=base --parents ./test/a/b/c/d /out/
RUN <<eot
	set -ex
	[ -d /out/test/a/b/c/d/e ]
	[ -f /out/test/a/b/c/d/foo ]
eot

FROM ${BASE} AS double
COPY --from=base --parents /test/a/./b/./c /out/
RUN <<eot
	set -ex
	[ -d /out/b/c/d/e ]
	[ -f /out/b/c/d/foo ]
eot

FROM ${BASE} AS wildcard
COPY --from=base --parents /test/a/./*/c /out/
RUN <<eot
	set -ex
	[ -d /out/b/c/d/e ]
	[ -f /out/b2/c/d/e/bar ]
eot

FROM ${BASE} AS doublewildcard
COPY --from=base --parents /test/a/b*/./c/**/e /out/
RUN <<eot
	set -ex
	[ -d /out/c/d/e ]
	[ -f /out/c/d/e/bay ] # via b
	[ -f /out/c/d/e/bar ] # via b2
eot

FROM ${BASE} AS doubleinputs
COPY --from=base --parents /test/a/b/c*/./d/**/baz /test/a/b*/./c/**/bar /out/
RUN <<eot
	set -ex
	[ -f /out/d/e/baz ]
	[ ! -f /out/d/e/bay ]
	[ -f /out/d/e2/baz ]
	[ -f /out/c/d/e/bar ] # via b2
eot

`;

const MISSING = (BASE: string) => `FROM ${BASE} AS base
WORKDIR /test
RUN <<eot
	set -ex
	mkdir -p a/b/c/d/e
	touch a/b/c/d/foo
	touch a/b/c/d/e/bay
eot

FROM ${BASE} AS normal
COPY --from=base --parents /test/a/b/c/d /out/
RUN <<eot
	set -ex
	[ -d /out/test/a/b/c/d/e ]
	[ -f /out/test/a/b/c/d/e/bay ]
	[ ! -d /out/e ]
	[ ! -d /out/a ]
eot

FROM ${BASE} AS withpivot
COPY --from=base --parents /test/a/b/./c/d /out/
RUN <<eot
	set -ex
	[ -d /out/c/d/e ]
	[ -f /out/c/d/foo ]
	[ ! -d /out/a ]
	[ ! -d /out/e ]
eot

FROM ${BASE} AS nonexistentfile
COPY --from=base --parents /test/nonexistent-file /out/

FROM ${BASE} AS wildcard-nonexistent
COPY --from=base --parents /test/a/b2*/c /out/
RUN <<eot
	set -ex
	[ -d /out ]
	[ ! -d /out/a ]
eot

FROM ${BASE} AS wildcard-afterpivot
COPY --from=base --parents /test/a/b/./c2* /out/
RUN <<eot
	set -ex
	[ -d /out ]
	[ ! -d /out/a ]
	[ ! -d /out/c* ]
eot
`;

async function buildTarget(df: string, target: string) {
  const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-parents-bk-'));
  return buildIt(root, makeContext({}), df, { target });
}

describe('COPY --parents: BuildKit testCopy*Parents*', () => {
  it('testCopyParents: from the context, to / and into a WORKDIR', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tsb-e2e-parents-bk-'));
    const ctx = makeContext({ 'foo1/foo2/bar': 'testing', 'foo1/foo2/baz': 'testing2' });
    const df =
      'FROM scratch\nCOPY --parents foo1/foo2/bar /\n\nWORKDIR /test\nCOPY --parents foo1/foo2/ba* .\n';
    const r = await buildIt(root, ctx, df);
    expect(readFileSync(join(r.rootfs, 'foo1/foo2/bar'), 'utf8')).toBe('testing');
    expect(readFileSync(join(r.rootfs, 'test/foo1/foo2/bar'), 'utf8')).toBe('testing');
    expect(readFileSync(join(r.rootfs, 'test/foo1/foo2/baz'), 'utf8')).toBe('testing2');
  });

  for (const target of ['middle', 'end', 'start', 'double', 'wildcard', 'doublewildcard', 'doubleinputs'])
    it(`testCopyRelativeParents: ${target}`, async () => {
      await buildTarget(RELATIVE(registryBase()), target);
    });

  for (const target of ['normal', 'withpivot', 'wildcard-nonexistent', 'wildcard-afterpivot'])
    it(`testCopyParentsMissingDirectory: ${target}`, async () => {
      await buildTarget(MISSING(registryBase()), target);
    });

  it('testCopyParentsMissingDirectory: nonexistentfile', async () => {
    await expect(buildTarget(MISSING(registryBase()), 'nonexistentfile')).rejects.toThrow(
      /"\/test\/nonexistent-file": not found/,
    );
  });
});
