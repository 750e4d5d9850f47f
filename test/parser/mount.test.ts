import { describe, expect, it } from 'vitest';
import { DockerfileSyntaxError } from '../../src/errors.js';
import { lookupFrom, parseMount } from '../../src/parser/index.js';

describe('parseMount', () => {
  it('defaults: bind is read-only, cache is writable and shared with id = target', () => {
    expect(parseMount('target=/src')).toMatchObject({ type: 'bind', readOnly: true, target: '/src' });
    expect(parseMount('type=cache,target=/c')).toMatchObject({
      readOnly: false,
      sharing: 'shared',
      id: '/c',
    });
    expect(parseMount('type=tmpfs,dst=/t,size=1g')).toMatchObject({ readOnly: false, size: 1024 ** 3 });
  });

  it('keys are case-insensitive, values are not', () => {
    expect(parseMount('TYPE=Cache,Target=/X,ID=MyId,Sharing=LOCKED')).toMatchObject({
      type: 'cache',
      target: '/X',
      id: 'MyId',
      sharing: 'locked',
    });
  });

  it('secret: id from source or target, default target /run/secrets/<id>, env instead of a file', () => {
    expect(parseMount('type=secret,id=tok')).toMatchObject({ id: 'tok', target: '/run/secrets/tok' });
    expect(parseMount('type=secret,target=/etc/pw')).toMatchObject({ id: 'pw', target: '/etc/pw' });
    expect(parseMount('type=secret,id=tok,env=TOKEN')).toMatchObject({ env: 'TOKEN' });
    expect(parseMount('type=secret,id=tok,env=TOKEN').target).toBeUndefined();
    expect(parseMount('type=secret,id=x,required=false').required).toBe(false);
  });

  it('ssh: id default, uid/gid/mode allowed', () => {
    expect(parseMount('type=ssh,uid=1000,gid=100,mode=0600')).toMatchObject({
      id: 'default',
      uid: 1000,
      gid: 100,
      mode: 0o600,
    });
  });

  it('quoted CSV fields keep commas', () => {
    expect(parseMount('type=bind,"target=/a,b",ro').target).toBe('/a,b');
  });

  it('expands values with a lookup (dispatch time), not without', () => {
    const lookup = lookupFrom({ DIR: '/cache', UID: '42' });
    expect(parseMount('type=cache,target=$DIR,uid=$UID')).toMatchObject({ target: '$DIR' });
    expect(parseMount('type=cache,target=$DIR,uid=$UID').uid).toBeUndefined();
    expect(parseMount('type=cache,target=$DIR,uid=$UID', lookup)).toMatchObject({
      target: '/cache',
      uid: 42,
    });
  });

  it.each([
    ['type=nfs,target=/x', /unsupported mount type/],
    ['type=bind,target=/x,mode=0755', /mode not allowed/],
    ['type=tmpfs,target=/x,uid=1', /uid not allowed/],
    ['type=bind', /requires a target/],
    ['type=cache,target=/x,sharing=sometimes', /unrecognized sharing/],
    ['type=secret,id=a,source=b', /both source and id/],
    ['type=secret,id=a,from=x', /should not have a from/],
    ['type=secret', /one of id, source or target/],
    ['type=cache,target=/x,uid=abc', /invalid value for uid/],
    ['type=tmpfs,target=/x,size=lots', /invalid value for size/],
    ['type=bind,target=/x,ro=maybe', /invalid value for ro/],
    ['type=bind,target=/x,nonsense', /must be a key=value pair/],
    ['type=bind,target="/x', /failed to parse mount/],
    ['type=cache,target=/x,env=A', /unexpected key 'env'/],
  ])('%s fails', (spec, re) => {
    expect(() => parseMount(spec)).toThrow(DockerfileSyntaxError);
    expect(() => parseMount(spec)).toThrow(re);
  });
});
