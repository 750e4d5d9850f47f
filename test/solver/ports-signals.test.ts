import { describe, expect, it } from 'vitest';
import { isSignal, parsePorts } from '../../src/solver/frontend/ports-signals.js';

describe('EXPOSE ports and STOPSIGNAL values, as BuildKit checks them', () => {
  it('ports: ranges, protocols, and what go-connections/nat rejects', () => {
    expect(parsePorts('8000-8002/UDP')).toEqual(['8000/udp', '8001/udp', '8002/udp']);
    expect(parsePorts('80/')).toEqual(['80/tcp']);
    expect(parsePorts('0')).toEqual(['0/tcp']);
    expect(() => parsePorts('65536')).toThrow('Invalid containerPort: 65536');
    expect(() => parsePorts('80-70')).toThrow('Invalid containerPort: 80-70');
    expect(() => parsePorts('80/foo')).toThrow('Invalid proto: foo');
  });

  it('signals: names with or without SIG in any case, RT offsets, non-zero numbers', () => {
    for (const s of ['SIGTERM', 'sigterm', 'TERM', 'quit', 'SIGRTMIN+3', 'RTMAX-1', '9', '99', '-1'])
      expect(isSignal(s), s).toBe(true);
    for (const s of ['0', '["SIGTERM"]', 'SIGFOO', '', 'RTMIN+16']) expect(isSignal(s), s).toBe(false);
  });
});
