import { Flags } from '@oclif/core';
import { TsbuildError } from '../../errors.js';
import { dropUntagged } from '../../exporter/index.js';
import { formatBytes, openStore, parseDuration, parseSize } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

export default class Prune extends BaseCommand {
  static override description = 'Remove build cache and content nothing uses (like `docker builder prune`)';
  static override examples = [
    '<%= config.bin %> prune',
    '<%= config.bin %> prune --all',
    '<%= config.bin %> prune --keep-storage 10GB',
    '<%= config.bin %> prune --filter until=24h',
  ];
  static override flags = {
    all: Flags.boolean({
      char: 'a',
      description: 'remove all build cache, not only unreferenced content',
      default: false,
    }),
    'keep-storage': Flags.string({
      description: 'keep at most this much (least recently used goes first)',
      helpValue: 'SIZE',
    }),
    filter: Flags.string({
      description: 'only cache unused for longer than DURATION',
      helpValue: 'until=DURATION',
      multiple: true,
    }),
    force: Flags.boolean({ char: 'f', description: 'do not prompt (tsbuild never prompts)', default: false }),
    'dry-run': Flags.boolean({ description: 'say what would go, remove nothing', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Prune);
    this.debugMode = flags.debug;
    let olderThanMs: number | undefined;
    for (const f of flags.filter ?? []) {
      const [k, v] = f.split('=', 2);
      if (k !== 'until' || v === undefined) {
        throw new TsbuildError('USAGE', `unsupported filter ${JSON.stringify(f)}`, {
          hint: 'supported: --filter until=24h',
        });
      }
      olderThanMs = untilToAge(v);
    }
    const store = await openStore(this.rootDir(flags.root));
    // Like `docker system prune`: images a build left without a name go with the cache.
    const untagged = await dropUntagged(store, {
      ...(olderThanMs !== undefined ? { olderThanMs } : {}),
      dryRun: flags['dry-run'],
    });
    const r = await store.gc({
      all: flags.all,
      ...(olderThanMs !== undefined ? { olderThanMs } : {}),
      ...(flags['keep-storage'] !== undefined ? { keepBytes: parseSize(flags['keep-storage']) } : {}),
      dryRun: flags['dry-run'],
    });
    const verb = flags['dry-run'] ? 'Would remove' : 'Removed';
    this.log(
      `${verb}: ${r.cacheRecordsRemoved} cache records, ${r.snapshotsRemoved} snapshots, ${r.blobsRemoved} blobs, ${r.ingestsRemoved} stale ingests`,
    );
    if (untagged > 0) this.log(`${verb} untagged images: ${untagged}`);
    if (r.cacheMountsRemoved > 0) this.log(`${verb} cache mounts: ${r.cacheMountsRemoved}`);
    this.log(`Total reclaimed space: ${formatBytes(r.bytesFreed)}`);
  }
}

/** `until=` takes a duration (24h, 90m, 7d) or, as Docker does, a timestamp (RFC 3339 or Unix seconds). */
function untilToAge(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Math.max(0, Date.now() - Number(v) * 1000);
  if (/^\d{4}-\d{2}-\d{2}/.test(v)) {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return Math.max(0, Date.now() - t);
  }
  return parseDuration(v);
}
