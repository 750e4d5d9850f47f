import { defineConfig } from 'vitest/config';

// Tests run real containers, registries and mounts: long timeouts, and few files at once
// because the machine has 2 cores and runc/overlay tests contend for them.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One temp dir per run, removed at the end (see the file).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
