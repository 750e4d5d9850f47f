import { describe, expect, it } from 'vitest';
import { parseOutput, parseOutputs } from '../../src/exporter/index.js';

describe('--output parsing (buildx syntax)', () => {
  it.each([
    ['type=oci,dest=out.tar', { type: 'oci', dest: 'out.tar', tar: true, push: false }],
    ['type=oci,dest=dir,tar=false', { type: 'oci', dest: 'dir', tar: false }],
    ['type=docker,dest=img.tar', { type: 'docker', dest: 'img.tar' }],
    ['type=local,dest=rootfs', { type: 'local', dest: 'rootfs' }],
    ['type=registry', { type: 'registry', push: true }],
    ['type=image,name=a:1,push=true', { type: 'image', names: ['a:1'], push: true }],
    ['type=image,"name=a:1,b:2"', { type: 'image', names: ['a:1', 'b:2'] }],
    [
      'type=oci,dest=x,compression=zstd,compression-level=19,force-compression=true',
      { compression: 'zstd', compressionLevel: 19, forceCompression: true },
    ],
    [
      'type=oci,dest=x,compression=uncompressed,oci-mediatypes=false',
      { compression: 'uncompressed', ociMediaTypes: false },
    ],
    ['type=image,name=a,rewrite-timestamp=true', { type: 'image', rewriteTimestamp: true }],
    ['out-dir', { type: 'local', dest: 'out-dir' }],
    ['-', { type: 'tar', dest: '-' }],
  ])('%s', (spec, want) => expect(parseOutput(spec)).toMatchObject(want));

  it.each([
    ['type=nope', /unknown type/],
    ['dest=x', /type= is required/],
    ['type=oci', /needs dest/],
    ['type=oci,dest=x,compression=lz4', /compression must be/],
    ['type=oci,dest=x,compression=gzip,compression-level=12', /out of range/],
    ['type=oci,dest=x,compression-level=abc', /integer/],
    ['type=oci,dest=x,tar=maybe', /true or false/],
    ['type=image,rewrite-timestamp=yes', /rewrite-timestamp must be true or false/],
    ['type=oci,dest=x,frobnicate=1', /unknown or unsupported key "frobnicate"/],
    ['type=oci,dest=x,dest=y', /given twice/],
    ['type=local,dest=-', /stdout/],
    ['type=oci,"dest=x', /unterminated quote/],
  ])('rejects %s', (spec, why) => {
    expect(() => parseOutput(spec)).toThrow(why);
  });

  it('parses several', () => {
    expect(parseOutputs(['type=image', 'type=oci,dest=a.tar']).map((o) => o.type)).toEqual(['image', 'oci']);
  });
});
