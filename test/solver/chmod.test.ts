import { describe, expect, it } from 'vitest';
import { applyChmod } from '../../src/solver/ops/chmod.js';

describe('--chmod', () => {
  it('octal replaces the permission bits only; the source keeps its special bits (BuildKit)', () => {
    expect(applyChmod('640', 0o100644, false)).toBe(0o640);
    expect(applyChmod('4750', 0o100644, false)).toBe(0o750);
    expect(applyChmod('2775', 0o40755, true)).toBe(0o775);
    expect(applyChmod('755', 0o104755, false)).toBe(0o4755);
    expect(applyChmod('700', 0o43775, true)).toBe(0o3700);
  });

  it('symbolic clauses apply to the current mode (newer frontends)', () => {
    expect(applyChmod('u+x', 0o644, false)).toBe(0o744);
    expect(applyChmod('go-r,u+s', 0o644, false)).toBe(0o4600);
    expect(applyChmod('a+X', 0o644, true)).toBe(0o755);
    expect(() => applyChmod('q+z', 0o644, false)).toThrow(/invalid chmod/);
  });
});
