import { Flags } from '@oclif/core';
import { TsbuildError } from '../../errors.js';
import { openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

export default class Fsck extends BaseCommand {
  static override description =
    "Verify every blob's digest and every snapshot's record; --repair removes what is broken";
  static override examples = ['<%= config.bin %> fsck', '<%= config.bin %> fsck --repair'];
  static override flags = {
    repair: Flags.boolean({ description: 'remove broken blobs, records and leftovers', default: false }),
    json: Flags.boolean({ description: 'print JSON', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Fsck);
    this.debugMode = flags.debug;
    const store = await openStore(this.rootDir(flags.root));
    const r = await store.fsck({ repair: flags.repair });
    if (flags.json) this.log(JSON.stringify(r, null, 2));
    else {
      for (const p of r.problems) {
        const tag = p.repaired ? 'repaired' : p.garbage ? 'leftover' : 'BROKEN';
        this.log(`${tag}: ${p.kind} ${p.id}: ${p.problem}`);
      }
      this.log(
        `checked ${r.checkedBlobs} blobs, ${r.checkedSnapshots} snapshots: ${r.ok ? 'ok' : 'problems found'}`,
      );
    }
    if (!r.ok) {
      throw new TsbuildError('STORE_CORRUPT', 'the store has broken content', {
        hint: 'run `tsbuild fsck --repair` to remove it',
      });
    }
  }
}
