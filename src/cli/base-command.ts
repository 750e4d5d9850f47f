import { Command, Flags } from '@oclif/core';
import { defaultRoot } from '../paths.js';
import { goBooleans } from './docker-compat.js';
import { renderError } from './render-error.js';

/**
 * Every tsbuild command: `--root` chooses the store, `--debug` shows stack traces.
 * Errors are rendered here once; exit code 1 for build/user errors, 2 for usage (oclif's parser).
 */
export abstract class BaseCommand extends Command {
  static override baseFlags = {
    root: Flags.string({
      description: 'state directory (store, cache, tags)',
      env: 'TSBUILD_ROOT',
      helpValue: 'DIR',
      helpGroup: 'GLOBAL',
    }),
    debug: Flags.boolean({
      description: 'show stack traces and internal detail',
      default: false,
      helpGroup: 'GLOBAL',
    }),
  };

  protected debugMode = false;

  override async init(): Promise<void> {
    // `--pull=false`, `--no-cache=true`: docker's (Go's) boolean spelling, which oclif refuses.
    const ctor = this.constructor as typeof BaseCommand;
    this.argv = goBooleans(this.argv, { ...ctor.baseFlags, ...ctor.flags } as never);
    await super.init();
  }

  protected rootDir(flag: string | undefined): string {
    return flag ?? defaultRoot();
  }

  protected override async catch(
    err: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    const debug = this.debugMode || this.argv.includes('--debug');
    // oclif's own parse errors (unknown flag, missing arg) are usage errors: exit 2.
    if (err.oclif?.exit !== undefined && err.constructor.name !== 'TsbuildError') {
      if (err.oclif.exit === 0) return;
      process.stderr.write(`${renderError(err, { debug })}\n`);
      this.exit(err.oclif.exit === 1 ? 1 : 2);
    }
    process.stderr.write(`${renderError(err, { debug })}\n`);
    this.exit(1);
  }
}
