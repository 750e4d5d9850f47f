import { describe, expect, it } from 'vitest';
import { goTime } from '../../src/solver/frontend/image-config.js';

describe('goTime: times as Go writes them (RFC3339Nano), as in BuildKit image configs', () => {
  it('drops trailing zeros of the fraction, and the dot with them', () => {
    expect(goTime('2026-12-01T05:46:58.170Z')).toBe('2026-12-01T05:46:58.17Z');
    expect(goTime('2026-12-01T05:46:58.100Z')).toBe('2026-12-01T05:46:58.1Z');
    expect(goTime('2026-12-01T05:46:58.000Z')).toBe('2026-12-01T05:46:58Z');
    expect(goTime('2026-12-01T05:46:58.175Z')).toBe('2026-12-01T05:46:58.175Z');
    expect(goTime('1970-01-01T00:00:00Z')).toBe('1970-01-01T00:00:00Z');
    expect(goTime('2020-01-01T10:00:00.500000000+02:00')).toBe('2020-01-01T10:00:00.5+02:00');
    expect(goTime('2020-01-01T10:00:00.000-05:30')).toBe('2020-01-01T10:00:00-05:30');
  });
});
