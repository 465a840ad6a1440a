/**
 * The public API: `import { parseLitmus, check } from 'pagelab'` (package.json `exports`; the
 * only entry besides the `pagelab` command). docs/api.md shows it in use, docs/writing-a-scheme.md
 * builds a scheme from the scheme-author half below. Everything here is a contract: extend it,
 * never rename. It sits at the top beside cli (it imports explore, litmus, schemes, fs, mm, sync)
 * and nothing in src/ imports it.
 */

export type { Finding } from './check/oracles.js';
export { builtinScenarios, findBuiltin } from './explore/builtin.js';
// Scenarios, checks, the matrix, replays.
export type { CheckOptions, CheckResult, Coverage, StrategyName, Verdict } from './explore/check.js';
export { checkScenario as check, checkScenario, STRATEGY_NAMES } from './explore/check.js';
export type { Matrix, MatrixOptions, MatrixRow } from './explore/matrix.js';
export { measureMatrix as matrix } from './explore/matrix.js';
export type { RunReport } from './explore/run.js';
export { parseReplayString, replaySchedule, replayString } from './explore/run.js';
// The scheme registry, and schemes from files.
export {
  isSchemeFile,
  loadSchemeFile,
  resolveSchemeRef as loadScheme,
  SchemeRefError,
} from './explore/schemefile.js';
export { fallocateLocked, truncateLocked } from './fs/fallocate.js';
// What a scheme author composes: the objects an entry point receives, the generic paths (each
// named after the kernel function it models), and the locks.
export type { FallocMode, FileOperations } from './fs/fs.js';
export { Inode, inodeDioBegin, inodeDioEnd, inodeDioWait } from './fs/fs.js';
export type { PinnedWritebackAction, WritepagesHooks } from './fs/iomap/buffered-io.js';
export {
  iomapFileBufferedWrite,
  iomapPageMkwrite,
  iomapWritepages,
  iomapZeroRange,
} from './fs/iomap/buffered-io.js';
export type { DioFlags } from './fs/iomap/direct-io.js';
export { dioWarnStalePagecache, iomapDioRw } from './fs/iomap/direct-io.js';
export { directWriteFallback, filemapRead, writeChecksZeroEof } from './fs/read_write.js';
export { genericFsync } from './fs/sync.js';
export type { FindingKind, Op, Scenario } from './litmus/ast.js';
export { formatScenario, LitmusError, parseLitmus } from './litmus/parse.js';
export type { VmFault, WritebackControl } from './mm/filemap.js';
export {
  filemapFault,
  filemapWriteAndWaitRange,
  invalidateInodePages2Range,
  truncatePagecache,
  truncatePagecacheRange,
  unmapMappingPages,
} from './mm/filemap.js';
export { findScheme, SCHEMES } from './schemes/index.js';
export type { BlockMapSites } from './schemes/locks.js';
export {
  exclusiveWrite,
  ext4FallocateFn,
  fallocateUnderInvalidateLock,
  fsPrivateOf,
  invalidateLockOf,
  rangeLockOf,
  truncateSites,
  withInodeAndInvalidateLock,
  withInvalidateLockShared,
  withIRwsemExcl,
  withIRwsemShared,
} from './schemes/locks.js';
export type { Scheme } from './schemes/scheme.js';
export type { Task } from './sim/task.js';
export { Completion, Mutex, RangeLock, RwSemaphore } from './sync/index.js';
