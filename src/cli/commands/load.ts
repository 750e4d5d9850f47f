import { createReadStream, type ReadStream, type Stats, statSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { errnoText, TsbuildError } from '../../errors.js';
import { decompressedArchive, loadArchive } from '../../exporter/index.js';
import { familiarReference, parseReference } from '../../oci/index.js';
import { openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

export default class Load extends BaseCommand {
  static override description =
    'Load images from a docker archive or OCI archive (plain, gzip, bzip2, xz or zstd) into the local store';
  static override examples = [
    '<%= config.bin %> load -i app.tar',
    'docker save app:1 | <%= config.bin %> load',
    'skopeo copy docker://alpine oci-archive:alpine.tar:alpine:3 && <%= config.bin %> load -i alpine.tar',
  ];
  static override flags = {
    input: Flags.string({ char: 'i', description: 'archive to read (default: stdin)' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing but errors', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Load);
    const store = await openStore(this.rootDir(flags.root));
    if (!flags.input && process.stdin.isTTY)
      throw new TsbuildError('USAGE', 'requested load from stdin, but stdin is a terminal', {
        hint: 'give -i FILE or pipe an archive in',
      });
    const source = flags.input ? openInput(flags.input) : process.stdin;
    const images = await loadArchive(store, await decompressedArchive(source));
    if (flags.quiet) return;
    // docker load's lines: each name in its familiar form, else the image ID.
    for (const img of images) {
      if (img.names.length === 0) process.stdout.write(`Loaded image ID: ${img.id}\n`);
      for (const n of img.names)
        process.stdout.write(`Loaded image: ${familiarReference(parseReference(n))}\n`);
    }
  }
}

/** The archive, checked before anything reads it, so a bad path is docker's `open PATH: …` error. */
function openInput(path: string): ReadStream {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (e) {
    throw new TsbuildError('ARCHIVE_UNREADABLE', `open ${path}: ${errnoText(e)}`, { cause: e });
  }
  if (st.isDirectory()) throw new TsbuildError('ARCHIVE_UNREADABLE', `read ${path}: is a directory`);
  return createReadStream(path);
}
