// Prints every difference between tsbuild's result and the golden file of each case (or the named
// cases): `npx tsx test/conformance/diff-report.ts [case...]`. The test asserts equality; this explains it.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../../src/build.js';
import { CASES } from './cases.js';
import { makeCaseContext } from './context.js';
import { explain } from './explain.js';
import { normalizeDockerArchive } from './normalize.js';

const root = mkdtempSync(join(tmpdir(), 'tsb-confd-'));
const only = process.argv.slice(2);
for (const k of CASES) {
  if (only.length && !only.includes(k.name)) continue;
  const g = join(import.meta.dirname, 'golden', `${k.name}.json`);
  if (!existsSync(g)) continue;
  const out = join(mkdtempSync(join(tmpdir(), 'o-')), 'i.tar');
  try {
    await build({
      root,
      context: makeCaseContext(k),
      outputs: [`type=docker,dest=${out}`],
      ...(k.buildArgs ? { buildArgs: k.buildArgs } : {}),
      ...(k.target ? { target: k.target } : {}),
    });
  } catch (e) {
    process.stdout.write(`${k.name}: BUILD FAILED ${(e as Error).message}\n`);
    continue;
  }
  const a = explain(normalizeDockerArchive(out), k.dockerfile);
  const b = explain(JSON.parse(readFileSync(g, 'utf8')), k.dockerfile);
  const diffs: string[] = [];
  for (const key of ['architecture', 'os', 'author', 'layers'])
    if (
      JSON.stringify((a as unknown as Record<string, unknown>)[key]) !==
      JSON.stringify((b as unknown as Record<string, unknown>)[key])
    )
      diffs.push(
        `${key}: ours=${JSON.stringify((a as unknown as Record<string, unknown>)[key])} theirs=${JSON.stringify((b as unknown as Record<string, unknown>)[key])}`,
      );
  const ck = new Set([...Object.keys(a.config), ...Object.keys(b.config)]);
  for (const key of ck)
    if (JSON.stringify(a.config[key]) !== JSON.stringify(b.config[key]))
      diffs.push(
        `config.${key}: ours=${JSON.stringify(a.config[key])} theirs=${JSON.stringify(b.config[key])}`,
      );
  const n = Math.max(a.history.length, b.history.length);
  for (let i = 0; i < n; i++)
    if (JSON.stringify(a.history[i]) !== JSON.stringify(b.history[i]))
      diffs.push(
        `history[${i}]: ours=${JSON.stringify(a.history[i])} theirs=${JSON.stringify(b.history[i])}`,
      );
  const fa = new Map(a.files.map((f) => [f.path, JSON.stringify(f)]));
  const fb = new Map(b.files.map((f) => [f.path, JSON.stringify(f)]));
  for (const [p, v] of fa)
    if (fb.get(p) !== v) diffs.push(`file ${p}: ours=${v} theirs=${fb.get(p) ?? 'none'}`);
  for (const [p, v] of fb) if (!fa.has(p)) diffs.push(`file ${p}: ours=none theirs=${v}`);
  process.stdout.write(`${k.name}: ${diffs.length ? `\n  ${diffs.join('\n  ')}` : 'OK'}\n`);
}
