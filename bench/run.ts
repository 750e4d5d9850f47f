// `npm run bench`: runs every bench/*.bench.ts in name order, each printing its own table of ratios.
// Benchmarks never assert timings; they report them (this machine is shared and noisy).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const only = process.argv.slice(2);
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
for (const f of files) {
  console.log(`\n## ${f.replace(/\.bench\.ts$/, '')}`);
  await import(pathToFileURL(join(dir, f)).href);
}
