import { afterEach, beforeEach } from 'vitest';

/**
 * The two implementations behind the native addon's interfaces (src/native.ts), for one shared
 * suite: the addon, and what runs where it was not built (TSBUILD_NO_NATIVE=1).
 */
export const NATIVE_IMPLEMENTATIONS = [
  { name: 'native addon', off: undefined },
  { name: 'child processes', off: '1' },
] as const;

/** Sets TSBUILD_NO_NATIVE to `off` around each test of the calling describe block. */
export function useNativeSetting(off: string | undefined): void {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.TSBUILD_NO_NATIVE;
    if (off) process.env.TSBUILD_NO_NATIVE = off;
    else delete process.env.TSBUILD_NO_NATIVE;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TSBUILD_NO_NATIVE;
    else process.env.TSBUILD_NO_NATIVE = saved;
  });
}
