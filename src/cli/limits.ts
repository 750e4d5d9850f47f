import { Flags } from '@oclif/core';

/** The resource flags of `build` and `watch`, named as in `docker build` / buildah. */
export const limitFlags = {
  memory: Flags.string({ char: 'm', description: 'memory limit of each RUN step (e.g. 512m, 2g)' }),
  'cpu-quota': Flags.integer({ description: 'CPU CFS quota of each RUN step (µs per period)', min: 1000 }),
  'cpu-period': Flags.integer({
    description: 'CPU CFS period (µs, default 100000)',
    min: 1000,
    max: 1_000_000,
  }),
  cpus: Flags.string({ description: 'number of CPUs for each RUN step (e.g. 1.5)' }),
  'pids-limit': Flags.integer({ description: 'maximum number of processes in each RUN step', min: 1 }),
  'insecure-registry': Flags.string({
    description: 'registry reached over plain HTTP or unverified TLS (host[:port])',
    multiple: true,
    multipleNonGreedy: true,
  }),
};
