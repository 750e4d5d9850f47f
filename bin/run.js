#!/usr/bin/env node
// Entry point of the `tsbuild` command. `build` is the default command: when the first argument is
// a flag or names a path rather than a command (`tsbuild -t app .`), it is inserted in front.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const commandsDir = join(root, 'dist', 'cli', 'commands');
if (!existsSync(commandsDir)) {
  process.stderr.write(`tsbuild: ${commandsDir} is missing; run \`npm run build\` (or \`npm ci\`) first\n`);
  process.exit(1);
}

const commandIds = new Set(
  readdirSync(commandsDir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3)),
);
const argv = process.argv.slice(2);
const first = argv[0];
const passThrough = new Set(['--help', '-h', '--version', '-v', 'help']);
if (first !== undefined && !passThrough.has(first) && !commandIds.has(first)) {
  if (first.startsWith('-') || existsSync(first) || first === '.' || first.includes('/')) argv.unshift('build');
}

const { execute } = await import('@oclif/core');
await execute({ args: argv, dir: import.meta.url });
