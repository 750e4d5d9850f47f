import type { BFlags } from './bflag.js';
import { parseGoDuration } from './durations.js';
import type { Base, Fail } from './instruction-helpers.js';
import type { AstNode, CommandForm, HealthcheckInstruction } from './types.js';

/** HEALTHCHECK NONE | [flags] CMD …: durations as Go's time.ParseDuration, at least 1ms unless 0. */
export function toHealthcheck(node: AstNode, flags: BFlags, base: Base, fail: Fail): HealthcheckInstruction {
  if (node.args.length === 0) fail('HEALTHCHECK requires at least one argument');
  const typ = node.args[0]!.toUpperCase();
  const rest = node.args.slice(1);
  if (typ === 'NONE') {
    // buildkit's parseHealthcheck never parses the flags of NONE: any (`--timeout=1s NONE`,
    // even `--bogus NONE`) is accepted and ignored, in every frontend version.
    if (rest.length !== 0) fail('HEALTHCHECK NONE takes no arguments');
    return { kind: 'HEALTHCHECK', ...base, test: 'NONE' };
  }
  for (const f of ['interval', 'timeout', 'start-period', 'start-interval', 'retries'])
    flags.define(f, 'string');
  flags.parse();
  if (typ !== 'CMD') fail(`Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  if (rest.length === 0 || (!node.json && rest[0] === '')) fail('Missing command after HEALTHCHECK CMD');
  const form: CommandForm = node.json ? { form: 'exec', args: rest } : { form: 'shell', command: rest[0]! };
  const testArgs = node.json ? ['CMD', ...rest] : ['CMD-SHELL', rest[0]!];
  const hc: HealthcheckInstruction = { kind: 'HEALTHCHECK', ...base, test: 'CMD', ...form, testArgs };
  const dur = (name: string): number | undefined => {
    const v = flags.string(name);
    if (v === undefined || v === '') return undefined;
    const ns = parseGoDuration(v);
    if (ns === undefined) return fail(`time: invalid duration ${JSON.stringify(v)}`);
    if (ns === 0) return undefined;
    if (ns < 1e6) fail(`Interval ${JSON.stringify(name)} cannot be less than 1ms`);
    return ns / 1e6;
  };
  const set = (k: 'interval' | 'timeout' | 'startPeriod' | 'startInterval', v: number | undefined) => {
    if (v !== undefined) (hc as unknown as Record<string, unknown>)[k] = v;
  };
  set('interval', dur('interval'));
  set('timeout', dur('timeout'));
  set('startPeriod', dur('start-period'));
  set('startInterval', dur('start-interval'));
  const retries = flags.string('retries');
  if (retries !== undefined && retries !== '') {
    if (!/^[+-]?\d+$/.test(retries))
      fail(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`);
    const n = Number.parseInt(retries, 10);
    if (n < 0) fail(`--retries cannot be negative (${n})`);
    (hc as unknown as Record<string, unknown>).retries = n;
  }
  return hc;
}
