import { Args, Flags } from '@oclif/core';
import { listImages } from '../../exporter/index.js';
import { familiarReference, parseReference } from '../../oci/index.js';
import { formatSize, openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

function ago(iso: string | undefined): string {
  if (!iso) return 'N/A';
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return 'N/A';
  if (s < 60) return 'Less than a minute ago';
  const [n, u] =
    s < 3600
      ? [s / 60, 'minute']
      : s < 86400
        ? [s / 3600, 'hour']
        : s < 86400 * 365
          ? [s / 86400, 'day']
          : [s / 86400 / 365, 'year'];
  const k = Math.floor(n);
  return `${k} ${u}${k === 1 ? '' : 's'} ago`;
}

export default class Images extends BaseCommand {
  static override description = 'List images in the local store';
  static override args = {
    repository: Args.string({ description: 'only this repository (NAME or NAME:TAG)' }),
  };
  static override flags = {
    quiet: Flags.boolean({ char: 'q', description: 'only image ids', default: false }),
    json: Flags.boolean({ description: 'JSON lines, one image each', default: false }),
    digests: Flags.boolean({ description: 'show manifest digests', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Images);
    const store = await openStore(this.rootDir(flags.root));
    let list = await listImages(store);
    if (args.repository) {
      const want = parseReference(args.repository, { defaultTag: false });
      const name = `${want.registry}/${want.repository}`;
      list = list.filter((i) => i.name === name && (want.tag === undefined || i.tag === want.tag));
    }
    if (flags.json) {
      for (const i of list) process.stdout.write(`${JSON.stringify(i)}\n`);
      return;
    }
    if (flags.quiet) {
      for (const id of new Set(list.map((i) => i.id.slice(7, 19)))) process.stdout.write(`${id}\n`);
      return;
    }
    const rows = [['REPOSITORY', 'TAG', ...(flags.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE']];
    for (const i of list) {
      const repo =
        i.name === '<none>' ? i.name : familiarReference(parseReference(`${i.name}:x`)).replace(/:x$/, '');
      rows.push([
        repo,
        i.tag ?? '<none>',
        ...(flags.digests ? [i.digest] : []),
        i.id.slice(7, 19),
        ago(i.created),
        formatSize(i.size),
      ]);
    }
    const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows)
      process.stdout.write(`${r.map((v, c) => (c === r.length - 1 ? v : v.padEnd(w[c]! + 3))).join('')}\n`);
  }
}
