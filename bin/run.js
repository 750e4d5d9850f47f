#!/bin/sh
':' //; [ -z "$NODE_EXTRA_CA_CERTS" ] || { export TSBUILD_EXTRA_CA_CERTS="$NODE_EXTRA_CA_CERTS"; unset NODE_EXTRA_CA_CERTS; }; exec node "$0" "$@"
// The two lines above are both shell and JavaScript (to node, a string and a comment). Run as a
// command, the shell starts node without NODE_EXTRA_CA_CERTS: Node 20 parses that bundle at start-up
// (~60 ms here, a third of a no-op rebuild), and the registry client reads it only when it opens a
// TLS connection (TSBUILD_EXTRA_CA_CERTS, src/registry/http.ts). `node bin/run.js` works as well.
// CommonJS (bin/package.json says so): Node starts a CommonJS entry without its ESM loader, ~10 ms
// of a ~85 ms no-op rebuild here (hyperfine, 40 runs each); dist/ stays ESM, imported on demand.
// Entry point of the `tsbuild` command. `build` is the default command: when the first argument is
// a flag or names a path rather than a command (`tsbuild -t app .`), it is inserted in front.
'use strict';
const { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

// process.exit() below drops what process.stdout or process.stderr still has queued: on a pipe (or
// socket) their fd is non-blocking, and a write the reader has no room for yet waits in libuv.
// The streams this process made are noted as they are made (without making the others: that loads
// Node's stream modules), and exit waits for them to drain.
const madeStreams = [];
for (const name of ['stdout', 'stderr']) {
  const d = Object.getOwnPropertyDescriptor(process, name);
  if (!d?.get || !d.configurable) continue;
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: d.enumerable,
    get() {
      const s = d.get.call(process);
      if (!madeStreams.includes(s)) madeStreams.push(s);
      return s;
    },
  });
}

/** Exits once the stdio streams made have written everything queued (see madeStreams). */
function exitWhenWritten() {
  const pending = madeStreams.filter((s) => s.writableLength > 0);
  if (pending.length === 0) process.exit();
  let left = pending.length;
  for (const s of pending)
    s.write('', () => {
      if (--left === 0) process.exit();
    });
}

const root = join(__dirname, '..');
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
// Global flags may come before the command, as with docker (`tsbuild --root /r images`): the
// command named after them moves to the front, where oclif looks for it.
let lead = 0;
while (argv[lead] === '--debug' || argv[lead] === '--root' || argv[lead]?.startsWith('--root=')) {
  lead += argv[lead] === '--root' ? 2 : 1;
}
// `--version` / `--help` after them too (`tsbuild --root /r --version`), as docker takes them.
const HELP_OR_VERSION = ['--help', '-h', '--version', '-v'];
if (lead > 0 && (commandIds.has(argv[lead]) || HELP_OR_VERSION.includes(argv[lead]))) {
  argv.unshift(...argv.splice(lead, 1));
}
const first = argv[0];
const passThrough = new Set(['--help', '-h', '--version', '-v', 'help']);
if (first !== undefined && !passThrough.has(first) && !commandIds.has(first)) {
  if (first.startsWith('-') || existsSync(first) || first === '.' || first.includes('/')) argv.unshift('build');
}

// `--version` as oclif prints it (its user agent), without loading oclif (~0.4 s) to say it.
if (argv.length === 1 + lead && (first === '--version' || first === '-v')) {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  process.stdout.write(`tsbuild/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
  process.exit(0);
}

// Fast path for `build` (the hot command: a no-op rebuild must start quickly). oclif's Config.load
// imports every command module to learn its flags (~0.13 s); `build` needs none of that, only its
// own class and oclif's flag parser. Anything that may print help or the version goes through oclif.
const end = argv.indexOf('--');
const beforeDashes = end < 0 ? argv : argv.slice(0, end);
const fastBuild = argv[0] === 'build' && !beforeDashes.some((a) => passThrough.has(a));
// Any other command, when it cannot print help or the version, is run the same way as a build
// that left the fast path: its class alone, without oclif's Config.load (which imports every
// command module and globs for plugins: ~0.15 s of a ~0.5 s `tsbuild images`).
const direct = commandIds.has(argv[0]) && !beforeDashes.some((a) => passThrough.has(a));
// Plainly well-formed build arguments do not even load oclif (dist/cli/fast-build.js decides).
// `npm run build` also bundles that module with everything a build imports into one CommonJS file
// (scripts/bundle.mjs), loaded with a V8 code cache (see loadBundle).
// A build whose inputs have not changed since the last one prints that result without loading the
// builder at all (dist/cli/noop-replay.js says when that is sound).
main().catch((e) => {
  process.exitCode = 1;
  throw e;
});

async function main() {
  const done = fastBuild && ((await replayNoop(argv.slice(1))) || (await runFastBuild(argv.slice(1))));
  if (done) {
    // Built (or the build's error rendered, exit code set), and everything it started awaited:
    // exit now rather than let Node tear the isolate down (~20 ms after a build that ran: a
    // bundle's worth of heap to unmap), once what is written has gone out.
    exitWhenWritten();
  } else if (direct) {
    const [{ default: Cmd }, { handle }, { flush }] = await Promise.all([
      import(`../dist/cli/commands/${argv[0]}.js`),
      import('@oclif/core/handle'),
      import('@oclif/core/flush'),
    ]);
    Cmd.id = argv[0];
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
      await new Cmd(argv.slice(1), config)._run();
      flush();
    } catch (e) {
      await handle(e);
    }
  } else {
    const { execute } = await import('@oclif/core');
    await execute({ args: argv, dir: root });
  }
}

async function replayNoop(args) {
  if (process.env.TSBUILD_NO_FAST_NOOP === '1') return false;
  try {
    const bundle = freshBundle('noop.bundle.cjs');
    const m = bundle ? require(bundle) : await import('../dist/cli/noop-fast-path.js');
    return m.replayNoopArgv(args);
  } catch {
    return false;
  }
}

async function runFastBuild(args) {
  const bundle = freshBundle('fast-build.bundle.cjs');
  if (!bundle) return (await import('../dist/cli/fast-build.js')).runFastBuild(args);
  const loaded = loadBundle(bundle);
  const ran = await loaded.exports.runFastBuild(args);
  if (ran) loaded.saveCache();
  return ran;
}

/**
 * The bundle, when it is at least as new as the tsc output it was made from (so a bare `tsc` never
 * runs stale code); otherwise the module graph, which works the same, a little slower to load.
 */
function freshBundle(name) {
  const bundle = join(root, 'dist', name);
  try {
    if (statSync(bundle).mtimeMs >= statSync(join(root, 'dist', 'cli', 'fast-build.js')).mtimeMs) return bundle;
  } catch {
    // no bundle (tsc only)
  }
  return undefined;
}

/**
 * Compiles the CommonJS bundle with vm.Script and V8's code cache: compiling ~0.5 MB of JavaScript
 * is a large part of a no-op rebuild's start-up, and the cache (taken after a build, so it holds
 * every function that build compiled) removes most of it. V8 checks its own version and flags but
 * identifies the source only by its length, so the cache starts with the source's sha256 and is
 * used only for that exact text. Written once (tmp + rename: concurrent builds race harmlessly);
 * a read-only install simply runs without it.
 */
function loadBundle(file) {
  const cacheFile = file.replace(/\.cjs$/, '.cache');
  const bytes = readFileSync(file);
  // Loaded here, not at the top: the no-op fast path runs without node:crypto (~8 ms to load).
  const { createHash } = require('node:crypto');
  // The bytes are hashed, not the string (which update() would encode back to UTF-8 first). The
  // bundle is ASCII (scripts/bundle.mjs checks), so V8 keeps it as one-byte text.
  const digest = createHash('sha256').update(bytes).digest();
  const source = bytes.toString('utf8');
  let cachedData;
  try {
    const c = readFileSync(cacheFile);
    if (c.subarray(0, 32).equals(digest)) cachedData = c.subarray(32);
  } catch {
    // none yet
  }
  // Node's own CommonJS wrapper, kept on the first line so stack traces keep their line numbers.
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new Script(wrapped, { filename: file, ...(cachedData ? { cachedData } : {}) });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  const saveCache = () => {
    if (cachedData && !script.cachedDataRejected) return;
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, Buffer.concat([digest, script.createCachedData()]));
      renameSync(tmp, cacheFile);
    } catch {
      // not writable: no cache
      rmSync(tmp, { force: true });
    }
  };
  return { exports: module.exports, saveCache };
}
