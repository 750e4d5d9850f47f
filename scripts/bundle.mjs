// `npm run bundle` (after tsc): the build's fast path and the layer-extraction worker as single files.
// Loading ~160 ES modules one by one costs ~0.1 s per build; one file costs a fraction of that.
//
// The fast path is bundled as CommonJS, not ESM: bin/run.js compiles it with vm.Script, which takes
// a V8 code cache (dist/fast-build.bundle.cache, written by the first run that finds none). ESM
// source text modules cannot use one on Node 20 (module.enableCompileCache is Node 22), and even
// without a cache vm.Script loads this file in about half the time of import(). `import.meta.url`
// has no CJS form; the banner gives the bundle its own file URL, which is what the code uses it for
// (createRequire, the worker's path beside the bundle).
import { readFileSync, rmSync } from 'node:fs';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  // zstd-napi is a native addon; oclif is only loaded when the fast path gives up.
  external: ['zstd-napi', '@oclif/core'],
  legalComments: 'none',
  logLevel: 'warning',
};

rmSync('dist/fast-build.bundle.cache', { force: true });
const cjs = {
  ...common,
  format: 'cjs',
  define: { 'import.meta.url': '__tsbBundleUrl' },
  banner: { js: "var __tsbBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
};
await build({ ...cjs, entryPoints: ['dist/cli/fast-build.js'], outfile: 'dist/fast-build.bundle.cjs' });
// The no-op fast path (src/cli/noop-replay.ts), tried before the builder is loaded: small on purpose.
await build({ ...cjs, entryPoints: ['dist/cli/noop-fast-path.js'], outfile: 'dist/noop.bundle.cjs' });
await build({
  ...common,
  entryPoints: ['dist/store/layer/apply-worker.js'],
  format: 'esm',
  outfile: 'dist/store/layer/apply-worker.js',
  allowOverwrite: true,
});

// vm.Script on Node 20 has no loader for import(): a dynamic import of an external would throw
// ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING at run time. Bundled modules become require() calls.
// A single non-ASCII character (esbuild escapes those of strings, not of regex literals or kept
// comments) makes the whole source two-byte text: its UTF-8 decode at load went from ~0.5 to ~7 ms.
for (const f of ['dist/fast-build.bundle.cjs', 'dist/noop.bundle.cjs']) {
  const text = readFileSync(f, 'utf8');
  if (/\bimport\(/.test(text)) {
    throw new Error(`${f} contains import(): make it a static import or bundle it`);
  }
  const at = text.search(/[^\x00-\x7f]/);
  if (at >= 0) throw new Error(`${f} has a non-ASCII character: ${JSON.stringify(text.slice(at - 40, at + 10))}`);
}
