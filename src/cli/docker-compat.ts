import { Flags } from '@oclif/core';
import { TsbuildError } from '../errors.js';
import { parseGoBool } from '../parser/index.js';

// What `docker build` scripts pass that oclif would refuse. Go's flag package (pflag) takes a
// boolean as `--pull=true` or `--no-cache=false` too, and the classic builder's resource and
// security flags are accepted by `docker build` with BuildKit and do nothing there; failing on
// either would stop a CI script that runs unchanged under docker.

interface BoolFlag {
  type: string;
  char?: string;
  allowNo?: boolean;
}

/**
 * `--name=true` becomes `--name`, `--name=false` `--no-name` (or nothing, for a flag that is false
 * unless given) for the boolean flags in `flags`, and `-c=…` likewise for their short letters;
 * everything after `--` is left alone.
 */
export function goBooleans(argv: readonly string[], flags: Record<string, BoolFlag>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i] as string;
    if (tok === '--') {
      out.push(...argv.slice(i));
      break;
    }
    const m = /^--([^=]+)=(.*)$/.exec(tok) ?? shortBoolean(tok, flags);
    const flag = m ? flags[m[1] as string] : undefined;
    if (!m || flag?.type !== 'boolean') {
      out.push(tok);
      continue;
    }
    // pflag reads the value with strconv.ParseBool
    const value = parseGoBool(m[2]!);
    if (value === undefined)
      throw new TsbuildError(
        'INVALID_FLAG',
        `invalid argument "${m[2]}" for "--${m[1]}" flag: not a boolean`,
        {
          hint: `--${m[1]}, --${m[1]}=true or --${m[1]}=false`,
        },
      );
    if (value) out.push(`--${m[1]}`);
    else if (flag.allowNo) out.push(`--no-${m[1]}`);
  }
  return out;
}

/** `-c=value` as `--name=value` of the boolean flag whose letter is `c`. */
function shortBoolean(tok: string, flags: Record<string, BoolFlag>): [string, string, string] | null {
  const m = /^-([A-Za-z])=(.*)$/.exec(tok);
  const name = m && Object.keys(flags).find((k) => flags[k]?.char === m[1] && flags[k]?.type === 'boolean');
  return m && name ? [tok, name, m[2]!] : null;
}

/**
 * The classic builder's flags that `docker build` with BuildKit takes and ignores: accepted, hidden,
 * and named in a warning when given (`--disable-content-trust`, true by default, silently).
 */
export const classicFlags = {
  'cpu-shares': Flags.string({ hidden: true }),
  'cpuset-cpus': Flags.string({ hidden: true }),
  'cpuset-mems': Flags.string({ hidden: true }),
  'memory-swap': Flags.string({ hidden: true }),
  'cgroup-parent': Flags.string({ hidden: true }),
  isolation: Flags.string({ hidden: true }),
  'security-opt': Flags.string({ hidden: true, multiple: true, multipleNonGreedy: true }),
  compress: Flags.boolean({ hidden: true, default: false }),
  squash: Flags.boolean({ hidden: true, default: false }),
  'disable-content-trust': Flags.boolean({ hidden: true, default: true, allowNo: true }),
};
