import { Flags } from '@oclif/core';
import { classicFlags } from './docker-compat.js';

/**
 * `docker build` flags that shape every RUN's container: `--add-host`, `--ulimit`, `--shm-size`; and
 * the classic builder's `--rm` / `--force-rm`, which BuildKit accepts and ignores (it keeps no
 * intermediate containers), so scripts written for `docker build` run unchanged; so are buildx's
 * `--provenance`/`--sbom` (with a warning: no attestation is made) and `--load` (the local store).
 * `--cache-from`/`--cache-to` (registry and local caches) and `--annotation` are buildx's, done.
 */
export const runFlags = {
  'add-host': Flags.string({
    description: 'add a line to /etc/hosts of each RUN (host:ip or host=ip)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  ulimit: Flags.string({
    description: 'ulimit of each RUN (e.g. nofile=1024:2048)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'shm-size': Flags.string({ description: 'size of /dev/shm in each RUN (e.g. 128m; default 64m)' }),
  'cache-from': Flags.string({
    description:
      'import build cache: type=registry,ref=REF (or REF: a cache, or an image with an inline cache) | type=local,src=DIR',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'cache-to': Flags.string({
    description:
      'export build cache: type=registry,ref=REF | type=local,dest=DIR [,mode=min|max][,ignore-error=true] | type=inline (in the image)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  annotation: Flags.string({
    description: 'add an annotation to the image manifest ([manifest:|index:]KEY=VALUE)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  load: Flags.boolean({
    description: 'keep the image in the local store (buildx: load into docker); the default without -o',
    default: false,
  }),
  provenance: Flags.string({
    description: "accepted for buildx's sake: no attestation is made (false is silent)",
  }),
  sbom: Flags.string({ description: "accepted for buildx's sake: no attestation is made (false is silent)" }),
  rm: Flags.boolean({ description: 'ignored, as BuildKit does', hidden: true, default: true, allowNo: true }),
  'force-rm': Flags.boolean({ description: 'ignored, as BuildKit does', hidden: true, default: false }),
  ...classicFlags,
};
