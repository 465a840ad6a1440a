/** src/sync: the kernel's lock primitives on the deterministic runtime. */

export { PageLock } from './bitlock.js';
export { Completion } from './completion.js';
export {
  EXCLUSIVE,
  heldAttrs,
  type LockAttrs,
  noteAcquired,
  noteReleased,
  type SyncHeldLock,
} from './held.js';
export { type Interval, IntervalTree } from './intervaltree.js';
export { type CtxHold, currentLockContext, LockContext } from './lockctx.js';
export { formatLockdepReport, Lockdep, type LockdepEdge, type LockdepReport } from './lockdep.js';
export { Mutex } from './mutex.js';
export { type RangeHandle, RangeLock, type RangeMode } from './rangelock.js';
export { MAX_READERS_WAKEUP, RwSemaphore } from './rwsem.js';
export { TWO_STATE_NAMES, type TwoState, type TwoStateFairness, TwoStateLock } from './twostate.js';
