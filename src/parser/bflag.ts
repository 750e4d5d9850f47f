import { DockerfileSyntaxError, type SourceRange } from '../errors.js';
import { suggest } from './suggest.js';
import type { AstFlag } from './types.js';

type FlagType = 'bool' | 'string' | 'strings';

/**
 * An instruction's flag set, parsed the way BuildKit's BFlags does: names are case-sensitive; a
 * string flag needs `=value` (empty allowed); a bool flag is `--x`, `--x=true` or `--x=false`;
 * only list flags (`--mount`, `--exclude`) may repeat.
 */
export class BFlags {
  private readonly defs = new Map<string, FlagType>();
  private readonly values = new Map<string, string[]>();

  constructor(
    private readonly keyword: string,
    private readonly flags: AstFlag[],
    private readonly range: SourceRange,
  ) {}

  define(name: string, type: FlagType): this {
    this.defs.set(name, type);
    return this;
  }

  parse(): this {
    for (const f of this.flags) {
      if (!f.original.startsWith('--')) this.fail(`arg should start with -- : ${f.original}`);
      const type = this.defs.get(f.name);
      if (type === undefined) {
        const s = suggest(f.name, [...this.defs.keys()]);
        this.fail(
          `unknown flag: ${f.name}${s ? ` (did you mean ${s}?)` : ''}`,
          `${this.keyword} accepts: ${[...this.defs.keys()].map((k) => `--${k}`).join(', ') || 'no flags'}`,
        );
      }
      if (this.values.has(f.name) && type !== 'strings') this.fail(`duplicate flag specified: ${f.name}`);
      const list = this.values.get(f.name) ?? [];
      if (type === 'bool') {
        if (f.value === '') this.fail(`missing a value on flag: ${f.name}`);
        const v = (f.value ?? 'true').toLowerCase();
        if (v !== 'true' && v !== 'false') {
          this.fail(`expecting boolean value for flag ${f.name}, not: ${f.value}`);
        }
        list.push(v);
      } else {
        if (f.value === null) this.fail(`missing a value on flag: ${f.name}`);
        list.push(f.value);
      }
      this.values.set(f.name, list);
    }
    return this;
  }

  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }
  strings(name: string): string[] {
    return this.values.get(name) ?? [];
  }
  bool(name: string): boolean {
    return this.values.get(name)?.[0] === 'true';
  }
  has(name: string): boolean {
    return this.values.has(name);
  }

  private fail(message: string, hint?: string): never {
    throw new DockerfileSyntaxError(message, this.range, hint ? { hint } : {});
  }
}
