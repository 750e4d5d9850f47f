#!/usr/bin/env node
// Entry point of the `tsbuild` command. `build` is the default command: when the first argument is
// a flag or names a path rather than a command (`tsbuild -t app .`), it is inserted in front.
import { existsSync, readdirSync, statSync } from 'node:fs';
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

// Fast path for `build` (the hot command: a no-op rebuild must start quickly). oclif's Config.load
// imports every command module to learn its flags (~0.13 s); `build` needs none of that, only its
// own class and oclif's flag parser. Anything that may print help or the version goes through oclif.
const end = argv.indexOf('--');
const beforeDashes = end < 0 ? argv : argv.slice(0, end);
const fastBuild = argv[0] === 'build' && !beforeDashes.some((a) => passThrough.has(a));
// Plainly well-formed build arguments do not even load oclif (dist/cli/fast-build.js decides).
// `npm run build` also bundles that module with everything a build imports into one file: loading
// ~160 ES modules one by one costs ~0.1 s, a third of a no-op rebuild. The bundle is used only when
// it is at least as new as the tsc output it was made from, so a bare `tsc` never runs stale code.
const done = fastBuild && (await (await import(fastBuildModule())).runFastBuild(argv.slice(1)));
if (done) {
  // built (or the build's error rendered, exit code set)
} else if (fastBuild) {
  const [{ default: Build }, { handle }, { flush }] = await Promise.all([
    import('../dist/cli/commands/build.js'),
    import('@oclif/core/handle'),
    import('@oclif/core/flush'),
  ]);
  Build.id = 'build';
  // What Command and its parser read of a Config; no hooks are registered in package.json.
  const config = {
    bin: 'tsbuild',
    root,
    userAgent: `tsbuild node-${process.version}`,
    pjson: { oclif: {} },
    runHook: async () => ({ successes: [], failures: [] }),
    scopedEnvVar: () => undefined,
    scopedEnvVarKey: (k) => `TSBUILD_${k}`,
    scopedEnvVarKeys: (k) => [`TSBUILD_${k}`],
  };
  try {
    await new Build(argv.slice(1), config)._run();
    flush();
  } catch (e) {
    await handle(e);
  }
} else {
  const { execute } = await import('@oclif/core');
  await execute({ args: argv, dir: import.meta.url });
}

function fastBuildModule() {
  try {
    const bundle = statSync(join(root, 'dist', 'fast-build.bundle.js')).mtimeMs;
    if (bundle >= statSync(join(root, 'dist', 'cli', 'fast-build.js')).mtimeMs) return '../dist/fast-build.bundle.js';
  } catch {
    // no bundle (tsc only): the module graph works the same, a little slower to load
  }
  return '../dist/cli/fast-build.js';
}
