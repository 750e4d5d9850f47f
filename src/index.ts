// The library entry point: `import { build } from 'tsbuild'`. Each module re-exports its public surface
// from its own index; this file only gathers them.
export * from './build.js';
export * from './context/index.js';
export * from './errors.js';
export * from './exporter/index.js';
export * from './oci/index.js';
export * from './parser/index.js';
export { defaultRoot } from './paths.js';
export * from './progress/index.js';
export * from './registry/index.js';
export * from './runner/index.js';
export * from './solver/index.js';
export * from './store/index.js';
export * from './watch/index.js';
