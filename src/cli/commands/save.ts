import { existsSync, type Stats, statSync } from 'node:fs';
import { dirname, normalize } from 'node:path';
import { Args, Flags } from '@oclif/core';
import { TsbuildError } from '../../errors.js';
import { exportArchive, exportImage, parseOutput, saveTargets } from '../../exporter/index.js';
import { parsePlatform } from '../../oci/index.js';
import { RegistryClient } from '../../registry/index.js';
import { openStore } from '../../store/index.js';
import { BaseCommand } from '../base-command.js';

export default class Save extends BaseCommand {
  static override description = 'Write a local image as a docker archive, OCI archive or other --output kind';
  static override examples = [
    '<%= config.bin %> save app:1 -o app.tar',
    '<%= config.bin %> save app:1 base:2 -o both.tar   # several images in one archive, as docker save',
    '<%= config.bin %> save app:1 --format oci -o app-oci.tar',
    '<%= config.bin %> save app:1 --output type=oci,dest=dir,tar=false',
  ];
  // `docker save IMAGE [IMAGE...]`: more names follow the first.
  static override strict = false;
  static override args = {
    ref: Args.string({ description: 'image (name[:tag], digest or id); more may follow', required: true }),
  };
  static override flags = {
    output: Flags.string({
      char: 'o',
      description: 'file to write (default: stdout), or a buildx --output spec (type=…)',
      default: '-',
    }),
    format: Flags.string({
      description: 'archive kind when -o is a file',
      options: ['docker', 'oci'],
      default: 'docker',
    }),
    platform: Flags.string({ description: 'platform to save from a multi-platform image' }),
    'insecure-registry': Flags.string({
      description: 'registry to reach over plain HTTP (type=registry)',
      multiple: true,
      multipleNonGreedy: true,
    }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Save);
    const refs = argv as string[];
    const store = await openStore(this.rootDir(flags.root));
    const spec = flags.output.includes('=') ? flags.output : `type=${flags.format},dest=${flags.output}`;
    const output = parseOutput(spec);
    if (output.dest === '-' && process.stdout.isTTY) {
      throw new TsbuildError(
        'USAGE',
        'cowardly refusing to save to a terminal. Use the -o flag or redirect',
        {
          hint: 'redirect stdout or give -o FILE',
        },
      );
    }
    if (!flags.output.includes('=') && output.dest !== '-') validateOutputPath(output.dest!);
    const ctx = {
      registry: new RegistryClient({ insecureRegistries: flags['insecure-registry'] ?? [] }),
      ...(flags.platform ? { platform: parsePlatform(flags.platform) } : {}),
    };
    const images = [];
    for (const ref of refs) images.push(...(await saveTargets(store, ref)));
    if (images.length === 1)
      await exportImage(store, images[0]!.source, output, { ...ctx, tags: images[0]!.names });
    else await exportArchive(store, images, output, ctx);
  }
}

/**
 * `docker save -o PATH`'s check (docker/cli command.ValidateOutputPath): the directory must exist, and
 * the path, if it exists, be a file or a directory. A buildx `--output` spec makes what it needs.
 */
function validateOutputPath(path: string): void {
  const dir = dirname(normalize(path));
  const fail = (why: string) =>
    new TsbuildError('USAGE', `failed to save image: invalid output path: ${why}`);
  if (dir !== '.' && !existsSync(dir)) throw fail(`directory ${JSON.stringify(dir)} does not exist`);
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  // ValidateOutputPathFileMode refuses only devices (Go has no other irregular kind on Linux).
  if (st.isCharacterDevice() || st.isBlockDevice())
    throw fail(`${JSON.stringify(path)} must be a directory or a regular file: got a device`);
}
