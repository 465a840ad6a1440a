/**
 * The one place where a lock is recorded as taken or dropped. Every primitive in src/sync calls
 * noteAcquired / noteReleased (never touches `t.held` itself), so the held-lock stack shown in a
 * deadlock report, the 'acquire'/'release' trace events and the lock observer (the lockdep-like
 * validator) always agree.
 *
 * Mirrors what lock_acquire()/lock_release() do for kernel lockdep (kernel/locking/lockdep.c):
 * each acquisition pushes a held_lock with its class, its read-ness (0 exclusive, 1 shared, 2
 * recursive-read) and whether it was a trylock; each release pops it.
 *
 * Timing: a waiter that is handed a lock (FIFO hand-off on release) calls noteAcquired itself when
 * it next runs, not the releasing task on its behalf. Between the hand-off and that moment the
 * waiter is runnable, so no deadlock can be declared, and the primitive's own holders() already
 * names it in the wait-for graph.
 *
 * Footprints (src/sim/footprint.ts): an acquisition or release is a write of the lock, except that
 * rw_semaphore readers only read it — two down_read()s or up_read()s commute unless one of them
 * sleeps or wakes someone, and Sim.block/Sim.wake record those as writes. A mode lock's shared
 * modes ('add' and 'block', SH and DF: each shared within itself, exclusive across) are group
 * accesses when the acquisition says so (`fpGroup`: src/sim/footprint.ts), which the lock asks for
 * only where the step commutes with any other of the same mode; other shared modes are writes. A
 * lock with `ownFootprint` (the range lock) records its accesses itself.
 */
import { assert } from '../sim/assert.js';
import { type HeldLock, type Task, type Waitable, waitableObj } from '../sim/task.js';

/**
 * Lockdep's view of one acquisition. `read`: 0 exclusive; 1 shared but non-recursive (a new
 * shared acquirer can queue behind a waiting conflicting request: rwsem readers behind a writer,
 * range readers behind an overlapping writer); 2 recursive-read (a shared acquirer never waits
 * while the same state is held: bcachefs two-state lock without a deadline). `group`: shared
 * acquisitions are compatible only within a group ('add' and 'block' are both shared yet exclude
 * each other). `trylock`: cannot block, so it adds no dependency edge into its lock.
 */
export interface LockAttrs {
  readonly read: 0 | 1 | 2;
  readonly group: string;
  readonly trylock: boolean;
  /**
   * The footprint group (0 to GROUPS - 1) this shared acquisition and its release record, instead
   * of a write of the lock; absent: a write (or a read, for rwsem readers).
   */
  readonly fpGroup?: number;
}

export const EXCLUSIVE: LockAttrs = { read: 0, group: '', trylock: false };
export const EXCLUSIVE_TRY: LockAttrs = { read: 0, group: '', trylock: true };

/** A HeldLock recorded by src/sync: it also carries the lockdep attributes of the acquisition. */
export interface SyncHeldLock extends HeldLock, LockAttrs {}

/** HeldLock entries pushed by anyone else are treated as exclusive, blocking acquisitions. */
export function heldAttrs(h: HeldLock): LockAttrs {
  const s = h as Partial<SyncHeldLock>;
  return s.read === undefined ? EXCLUSIVE : (s as SyncHeldLock);
}

/** Builds the attributes of an acquisition (returns shared constants for the common cases). */
export function attrs(read: 0 | 1 | 2, group: string, trylock: boolean, fpGroup?: number): LockAttrs {
  if (read === 0) return trylock ? EXCLUSIVE_TRY : EXCLUSIVE;
  return fpGroup === undefined ? { read, group, trylock } : { read, group, trylock, fpGroup };
}

/** Records the acquisition or release of `lock` with attributes `a` in the running step's footprint. */
function touchLock(t: Task, lock: Waitable, a: LockAttrs): void {
  if (a.fpGroup !== undefined) t.touchGroup(waitableObj(lock), a.fpGroup);
  else t.touch(waitableObj(lock), a.group !== 'read');
}

/** Records that `t` now holds `lock` in `mode`, taken at `site` (the kernel call site). */
export function noteAcquired(
  t: Task,
  lock: Waitable,
  mode: string,
  site: string,
  a: LockAttrs = EXCLUSIVE,
): void {
  // Two literals, not a spread of an optional field (a spread copies through a runtime call on
  // every acquisition); the entry's fields are as before (the stateful search hashes them).
  const { read, group, trylock, fpGroup } = a;
  const h: SyncHeldLock =
    fpGroup === undefined
      ? { lock, mode, site, time: t.time, read, group, trylock }
      : { lock, mode, site, time: t.time, read, group, trylock, fpGroup };
  t.held.push(h);
  if (t.sim.recording && !lock.ownFootprint) touchLock(t, lock, a);
  if (t.sim.trace) t.sim.traceEvent(t, 'acquire', site, -1, `${lock.name} ${mode}`);
  t.sim.lockObserver?.acquired(t, lock, mode, site);
}

/**
 * Records that `t` released `lock` at `site` (the unlock function's kernel name). `holder` is the
 * task whose held stack loses the entry: `t` itself, except for locks Linux lets another context
 * release (a folio locked for read I/O is unlocked by the bio completion). `mode` picks one entry
 * when the holder has the lock several times (two ranges of one range lock, a recursive read);
 * without it the most recent acquisition is released. Misuse is an InvariantError.
 */
export function noteReleased(
  t: Task,
  lock: Waitable,
  site: string,
  holder: Task = t,
  mode?: string,
): HeldLock {
  const held = holder.held;
  let i = held.length - 1;
  while (i >= 0 && !(held[i].lock === lock && (mode === undefined || held[i].mode === mode))) i--;
  assert(i >= 0, () => `${t} releases ${lock.name}${mode ? ` ${mode}` : ''} not held by ${holder}`);
  const [h] = held.splice(i, 1);
  if (t.sim.recording && !lock.ownFootprint) touchLock(t, lock, heldAttrs(h));
  if (t.sim.trace) t.sim.traceEvent(t, 'release', site, -1, `${lock.name} ${h.mode}`);
  t.sim.lockObserver?.released(holder, lock);
  return h;
}

/**
 * downgrade_write(): the entry changes mode in place, keeping its position and acquisition site.
 * Like lockdep's lock_downgrade() it creates no new dependency (the observer is not told of an
 * acquisition: locks taken after the write lock must not look as if taken before the read lock).
 */
export function noteDowngraded(
  t: Task,
  lock: Waitable,
  from: string,
  to: string,
  site: string,
  a: LockAttrs,
): void {
  const held = t.held;
  let i = held.length - 1;
  while (i >= 0 && !(held[i].lock === lock && held[i].mode === from)) i--;
  assert(i >= 0, () => `${t} downgrades ${lock.name} ${from}, not held`);
  const old = held[i];
  const h: SyncHeldLock = {
    lock,
    mode: to,
    site: old.site,
    time: old.time,
    read: a.read,
    group: a.group,
    trylock: false,
  };
  held[i] = h;
  if (t.sim.trace) t.sim.traceEvent(t, 'acquire', site, -1, `${lock.name} ${to} (downgraded from ${from})`);
}

/** Distinct tasks of a holder list, in first-acquisition order (for Waitable.holders()). */
export function uniqueTasks(ts: Iterable<Task>): Task[] {
  const out: Task[] = [];
  for (const t of ts) if (!out.includes(t)) out.push(t);
  return out;
}
