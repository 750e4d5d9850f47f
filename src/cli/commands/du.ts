import { Flags } from '@oclif/core';
import { formatBytes, openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

export default class Du extends BaseCommand {
  static override description = 'Show what uses the space in the store, by kind';
  static override examples = ['<%= config.bin %> du', '<%= config.bin %> du --json'];
  static override flags = {
    json: Flags.boolean({ description: 'print JSON', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Du);
    this.debugMode = flags.debug;
    const store = await openStore(this.rootDir(flags.root));
    const rows = await store.du();
    if (flags.json) {
      this.log(JSON.stringify({ root: store.root, snapshotter: store.snapshots.kind, usage: rows }, null, 2));
      return;
    }
    const table = [
      ['KIND', 'COUNT', 'SIZE', 'RECLAIMABLE'],
      ...rows.map((r) => [r.kind, String(r.count), formatBytes(r.size), formatBytes(r.reclaimable)]),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table)
      this.log(
        row
          .map((c, i) => c.padEnd(widths[i]!))
          .join('   ')
          .trimEnd(),
      );
    const total = rows.filter((r) => r.kind !== 'cache').reduce((a, r) => a + r.size, 0);
    this.log(`\nTotal: ${formatBytes(total)} in ${store.root} (snapshotter: ${store.snapshots.kind})`);
  }
}
