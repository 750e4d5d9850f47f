import { DockerfileSyntaxError } from '../errors.js';
import type { BFlags } from './bflag.js';
import type { AstNode, CommandForm, KeyValue } from './types.js';

// Shared by the instruction builders. Module-level functions, not closures: they run once per
// instruction and closures cost (tsx adds a defineProperty to every one it creates).
export type Base = { range: AstNode['range']; original: string; comments: string[] };

export function failAt(node: AstNode, msg: string, hint?: string): never {
  throw new DockerfileSyntaxError(msg, node.range, hint ? { hint } : {});
}

/** `flags` undefined: the instruction's flags are never parsed, so any is ignored (buildkit's STOPSIGNAL). */
export function exactlyOne(node: AstNode, flags: BFlags | undefined): string {
  flags?.parse();
  if (node.args.length !== 1) failAt(node, `${node.keyword} requires exactly one argument`);
  return node.args[0]!;
}

export function atLeastOne(node: AstNode): void {
  if (node.args.length === 0) failAt(node, `${node.keyword} requires at least one argument`);
}

export function setOpt<T extends object>(o: T, k: string, v: string | undefined): void {
  if (v !== undefined) (o as Record<string, unknown>)[k] = v;
}
export type Fail = (msg: string, hint?: string) => never;

export function commandForm(node: AstNode): CommandForm {
  return node.json ? { form: 'exec', args: node.args } : { form: 'shell', command: node.args[0] ?? '' };
}

export function keyValues(node: AstNode, fail: Fail): KeyValue[] {
  const a = node.args;
  if (a.length === 0) fail(`${node.keyword} requires at least one argument`);
  const pairs: KeyValue[] = [];
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] === '') fail(`${node.keyword} names can not be blank`);
    pairs.push({ key: a[i]!, value: a[i + 1] ?? '' });
  }
  return pairs;
}
