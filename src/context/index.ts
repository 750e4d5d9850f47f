// The build context: ignore files, scanning with a persistent stat cache, COPY source selection and
// content checksums.
export {
  checksumSelection,
  contextPath,
  type SelectedSource,
  type SelectOptions,
  selectSources,
} from './checksum.js';
export { parseDockerignore, readDockerignore } from './dockerignore.js';
export { globToRegExp, hasWildcard, isBadGlob } from './glob.js';
export { hashFileSync, hashFiles } from './hash-files.js';
export { cleanPath, type MatchInfo, type Pattern, PatternError, PatternMatcher } from './pattern-matcher.js';
export {
  byteOrder,
  type ContextEntry,
  type ContextSnapshot,
  contextDirStat,
  type EntryType,
  type ObservedStat,
  resolveContextDir,
  type ScanOptions,
  scanContext,
} from './scan-context.js';
export { StatCache } from './stat-cache.js';
