import { Args, Flags } from '@oclif/core';
import { type LocalImage, listImages } from '../../exporter/index.js';
import { familiarReference, parseReference } from '../../oci/index.js';
import { formatSize, openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';
import { createdSince, goTimeString, parseTime } from '../docker-units.js';
import { formatImages, type ImageRow, imageFilter } from '../image-format.js';

export default class Images extends BaseCommand {
  static override description = 'List images in the local store';
  static override args = {
    repository: Args.string({ description: 'only this repository (NAME or NAME:TAG)' }),
  };
  static override flags = {
    quiet: Flags.boolean({ char: 'q', description: 'only image ids', default: false }),
    json: Flags.boolean({ description: 'JSON lines, one image each', default: false }),
    digests: Flags.boolean({ description: 'show manifest digests', default: false }),
    all: Flags.boolean({
      char: 'a',
      description: 'accepted for docker images (there are no intermediate images)',
    }),
    'no-trunc': Flags.boolean({ description: 'full image ids', default: false }),
    format: Flags.string({
      description:
        "as docker's: 'table', 'json', or a template of {{.ID}} {{.Repository}} {{.Tag}} {{.Digest}} {{.CreatedSince}} {{.CreatedAt}} {{.Size}}",
    }),
    filter: Flags.string({
      char: 'f',
      multiple: true,
      description: 'dangling=true|false, reference=PATTERN',
    }),
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
    const keep = imageFilter(flags.filter ?? []);
    const rows = list.map((i) => ({ image: i, row: toRow(i, flags['no-trunc']) })).filter((x) => keep(x.row));
    if (flags.json) {
      for (const { image } of rows) process.stdout.write(`${JSON.stringify(image)}\n`);
      return;
    }
    if (flags.quiet) {
      for (const id of new Set(rows.map((x) => x.row.ID))) process.stdout.write(`${id}\n`);
      return;
    }
    // docker's default columns (`--digests` adds one): also what a bare `--format table` shows
    const digest = flags.digests ? '\t{{.Digest}}' : '';
    const table = `table {{.Repository}}\t{{.Tag}}${digest}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`;
    const format = flags.format === undefined || flags.format === 'table' ? table : flags.format;
    for (const line of formatImages(
      format,
      rows.map((x) => x.row),
    ))
      process.stdout.write(`${line}\n`);
  }
}

function toRow(i: LocalImage, full: boolean): ImageRow {
  const repo =
    i.name === '<none>' ? i.name : familiarReference(parseReference(`${i.name}:x`)).replace(/:x$/, '');
  return {
    ID: full ? i.id : i.id.slice(7, 19),
    Repository: repo,
    Tag: i.tag ?? '<none>',
    // docker's: the digest in the repository's registry, `<none>` for an image never pushed or pulled
    Digest: i.repoDigest ?? '<none>',
    CreatedSince: createdSince(parseTime(i.created)),
    CreatedAt: goTimeString(parseTime(i.created)),
    Size: formatSize(i.unpackedSize),
    VirtualSize: formatSize(i.unpackedSize, 4),
  };
}
