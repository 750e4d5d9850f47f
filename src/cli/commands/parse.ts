import { existsSync, readFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { DockerfileSyntaxError, errnoText, TsbuildError } from '../../errors.js';
import { DOCKERFILE_NAMES } from '../../parser/dockerfile-names.js';
import { type Instruction, type StagesResult, toStages, type Warning } from '../../parser/index.js';
import { BaseCommand } from '../base-command.js';
import { renderError } from '../render-error.js';

/** Version of the `--json` document; bump only on incompatible changes (docs/architecture.md). */
export const PARSE_JSON_VERSION = 1;

export default class Parse extends BaseCommand {
  static override description = 'Parse a Dockerfile and print its stages and instructions';
  static override examples = [
    '<%= config.bin %> parse',
    '<%= config.bin %> parse -f Containerfile --json',
    'cat Dockerfile | <%= config.bin %> parse -f -',
  ];
  static override flags = {
    file: Flags.string({
      char: 'f',
      description:
        'the Dockerfile; - reads stdin (default: ./Dockerfile, else ./dockerfile, else ./Containerfile)',
    }),
    json: Flags.boolean({
      description: 'print the parse result as JSON (stable, documented format)',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Parse);
    this.debugMode = flags.debug;
    const file = flags.file ?? defaultFile();
    const source = readSource(file);
    let result: ReturnType<typeof toStages>;
    try {
      result = toStages(source);
    } catch (e) {
      if (!(e instanceof DockerfileSyntaxError)) throw e;
      // Rendered here, not in BaseCommand, because only this command has the source for the excerpt.
      process.stderr.write(`${renderError(e, { debug: flags.debug, source, file: displayName(file) })}\n`);
      process.exitCode = 1;
      return;
    }
    const { value, warnings } = result;
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ version: PARSE_JSON_VERSION, ...value, warnings }, null, 2)}\n`,
      );
      return;
    }
    for (const w of warnings) process.stderr.write(`${formatWarning(w, displayName(file))}\n`);
    process.stdout.write(formatHuman(value));
  }
}

/** As a build picks it (DOCKERFILE_NAMES). */
function defaultFile(): string {
  return DOCKERFILE_NAMES.find((n) => existsSync(n)) ?? 'Dockerfile';
}

function displayName(file: string): string {
  return file === '-' ? '<stdin>' : file;
}

function readSource(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TsbuildError('DOCKERFILE_READ', `cannot read ${displayName(file)}: ${errnoText(e)}`, {
      hint: code === 'ENOENT' ? 'give the Dockerfile with -f PATH (or -f - for stdin)' : undefined,
      cause: e,
    });
  }
}

export function formatWarning(w: Warning, file: string): string {
  return `warning: ${file}:${w.range.start.line}: ${w.code}: ${w.message}`;
}

function summary(ins: Instruction): string {
  const flat = ins.original.replace(/\s+/g, ' ');
  return flat.length > 100 ? `${flat.slice(0, 97)}...` : flat;
}

/** Human output: one block per stage, one line per instruction with its line number. */
export function formatHuman(r: StagesResult): string {
  const out: string[] = [];
  const width = 4;
  if (r.directives.length > 0)
    out.push(`directives: ${r.directives.map((d) => `${d.name}=${d.value}`).join(', ')}`);
  for (const a of r.metaArgs) out.push(`${String(a.range.start.line).padStart(width)}  ${summary(a)}`);
  for (const s of r.stages) {
    const name = s.name === undefined ? '' : ` "${s.name}"`;
    const platform = s.platform === undefined ? '' : ` platform ${s.platform}`;
    out.push(`stage ${s.index}${name}: from ${s.base}${platform}`);
    out.push(`${String(s.from.range.start.line).padStart(width)}  ${summary(s.from)}`);
    for (const ins of s.instructions) {
      out.push(`${String(ins.range.start.line).padStart(width)}    ${summary(ins)}`);
      if ('heredocs' in ins) {
        for (const h of ins.heredocs)
          out.push(`${' '.repeat(width)}      <<${h.name} (${h.content.length} bytes)`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}
