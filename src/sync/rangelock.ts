/**
 * A reader/writer range lock over byte ranges [start, end): Davidlohr Bueso's "locking: Introduce
 * range reader/writer lock" (v2, April 2017; LWN 724502), itself after Jan Kara's 2013 mapping
 * range lock, and the lock Dave Chinner wanted for XFS inode locks (seed 004).
 *
 * Modelled exactly as Bueso's algorithm:
 * - Every request, granted or waiting, is a node in one interval tree.
 * - On lock, the request counts the nodes already in the tree that overlap it and conflict with
 *   it (a shared request counts only exclusive ones) into `blocking`, and is inserted with a
 *   sequence number. blocking == 0: granted at once. Otherwise it sleeps.
 * - On unlock, the node leaves the tree and every later overlapping conflicting node has its
 *   `blocking` decremented; those reaching 0 are granted (woken in arrival order).
 * So each request waits for exactly the earlier conflicting requests: FIFO among conflicting
 * requests, no lock stealing, disjoint ranges in parallel. Consequences worth knowing, which the
 * model shows: a shared request waits behind an earlier *queued* overlapping exclusive one (no
 * reader starvation of writers), hence a recursive shared lock deadlocks if a writer queued in
 * between, as with rwsems.
 * - trylock succeeds only if no node (granted or waiting) overlaps in a conflicting way, as
 *   Bueso's range_*_trylock does.
 *
 * Lock contexts (Chinner): lock() takes a LockContext (default: the task's own, `t.lockContext`).
 * A request made with a context that cannot be granted at once, and that would wait for a range
 * the context holds in this lock (directly, or through earlier waiting requests that wait for it),
 * returns -EDEADLK without being queued: "we terminate the page fault, back out of the IO and
 * return EDEADLOCK". The transitive check is exact within the lock, because in Bueso's lock a
 * waiting request can only be granted after every earlier conflicting request.
 *
 * Chain walk (opt-in, `{ chainWalk: true }`): the check above sees a cycle only inside one lock.
 * A task may hold a range of one lock and wait in another (pagelab: an O_DIRECT write holds
 * "block" on its file while GUP faults its buffer in, taking "add" on the file the buffer maps),
 * so two such tasks can wait for each other across locks, or across two ranges of one lock through
 * each other's waits. With the chain walk, the search also goes from a granted blocker of another
 * task to the request that task is sleeping on (in any range lock), as rt_mutex's
 * rt_mutex_adjust_prio_chain() follows owner -> pi_blocked_on -> lock -> owner and returns
 * -EDEADLK to the task whose wait would close the chain (kernel/locking/rtmutex.c). A range
 * request may wait for several owners, so it is a graph search, not a chain: bounded by the
 * number of requests in the trees. It is exact: a wait-for edge between range requests appears only
 * when a request is made (an earlier request never starts waiting for a later one), and that is
 * when the walk runs, so the request that would close a cycle is the one refused.
 *
 * Departures from the proposal: no spinlock (one task runs at a time); no signals, so the seqnum
 * is only the FIFO tie-break, not the un-accounting of an interrupted waiter. Each waiting request
 * is its own Waitable (named with its range), so the deadlock report says which range waits for
 * which tasks instead of "the whole lock". The lock checks the owner on unlock (the proposal does
 * not track owners).
 */
import { assert } from '../sim/assert.js';
import { objectId } from '../sim/footprint.js';
import type { Task, Waitable } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';
import {
  attrs,
  EXCLUSIVE,
  EXCLUSIVE_TRY,
  type LockAttrs,
  noteAcquired,
  noteReleased,
  uniqueTasks,
} from './held.js';
import { IntervalTree } from './intervaltree.js';
import { type CtxHold, type LockContext, resolveCtx } from './lockctx.js';

/**
 * 'shared'/'excl': a reader/writer range lock. 'add'/'block': a two-state range lock (bcachefs's
 * pagecache add/block, range-granular): any number of holders of one state may overlap, the two
 * states exclude each other. Use one family per lock.
 */
export type RangeMode = 'shared' | 'excl' | 'add' | 'block';

export interface RangeHandle {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  readonly mode: RangeMode;
  readonly owner: Task;
}

/** Same non-exclusive mode (shared+shared, add+add, block+block): compatible; else overlapping conflicts. */
function conflicts(a: RangeHandle, b: RangeHandle): boolean {
  return a.mode === 'excl' || a.mode !== b.mode;
}

function lockdepAttrs(mode: RangeMode, trylock: boolean): LockAttrs {
  // Shared ranges queue behind an earlier overlapping writer: non-recursive reads for lockdep.
  if (mode !== 'excl') return attrs(1, mode, trylock);
  return trylock ? EXCLUSIVE_TRY : EXCLUSIVE;
}

/** One request: a node of the tree; while it waits, the Waitable its task sleeps on. */
class RangeRequest implements RangeHandle, Waitable {
  blocking = 0;
  granted = false;
  released = false;
  ctxHold: CtxHold | null = null;
  ctxOwner: LockContext | null = null;

  constructor(
    readonly lock: RangeLock,
    readonly owner: Task,
    readonly start: number,
    readonly end: number,
    readonly mode: RangeMode,
    readonly seq: number,
  ) {}

  get name(): string {
    return `${this.lock.name} ${this.modeText}`;
  }

  get lockClass(): string {
    return this.lock.lockClass;
  }

  get modeText(): string {
    return `${this.mode} [${this.start},${this.end})`;
  }

  /** Owners of the earlier conflicting requests this one waits for (granted or queued). */
  holders(): readonly Task[] {
    return uniqueTasks(this.lock.blockersOf(this).map((r) => r.owner));
  }
}

/**
 * Footprint granules of a range lock (src/sim/footprint.ts): a request touches the granules its
 * range covers, so requests on disjoint ranges commute — Bueso's FIFO order binds conflicting
 * (overlapping) requests only, and the interval tree's shape is not observable. A range of more
 * than RANGE_GRANULES granules writes the whole lock instead, which every request reads.
 */
const RANGE_GRANULE = 64;
const RANGE_GRANULES = 64;

export class RangeLock implements Waitable {
  readonly lockClass: string;
  readonly ownFootprint = true;
  private readonly tree = new IntervalTree<RangeRequest>();
  private readonly wq = new WaitQueue();
  private seq = 0;
  private readonly chainWalk: boolean;

  constructor(
    readonly name: string,
    lockClass = 'range_lock',
    opts: { chainWalk?: boolean } = {},
  ) {
    this.lockClass = lockClass;
    this.chainWalk = opts.chainWalk ?? false;
  }

  /** Owners of granted ranges. */
  holders(): readonly Task[] {
    return uniqueTasks(this.held().map((r) => r.owner));
  }

  /** Granted ranges, in arrival order. */
  held(): readonly RangeHandle[] {
    return this.requests().filter((r) => r.granted);
  }

  /** Waiting requests, in arrival order. */
  waiting(): readonly RangeHandle[] {
    return this.requests().filter((r) => !r.granted);
  }

  /**
   * range_read_lock / range_write_lock. Returns the handle once granted, or -EDEADLK if the
   * request would wait for its own lock context (see the file comment).
   */
  async lock(
    t: Task,
    start: number,
    end: number,
    mode: RangeMode,
    site: string,
    ctx?: LockContext | null,
  ): Promise<RangeHandle | number> {
    const c = resolveCtx(t, ctx);
    const r = this.newRequest(t, start, end, mode);
    this.touch(t, start, end);
    const blockers = this.blockersOf(r);
    if (blockers.length > 0 && c) {
      const through = this.waitsForCtx(t, blockers, c);
      if (through !== null) return c.refuse(t, this, r.modeText, site, through);
    }
    r.ctxOwner = c;
    r.blocking = blockers.length;
    r.granted = r.blocking === 0;
    this.tree.insert(r);
    while (!r.granted) await this.wq.wait(t, r, site);
    this.note(r, site, c, false);
    return r;
  }

  /** range_*_trylock: the handle, or null if any overlapping request conflicts. */
  trylock(
    t: Task,
    start: number,
    end: number,
    mode: RangeMode,
    site: string,
    ctx?: LockContext | null,
  ): RangeHandle | null {
    const c = resolveCtx(t, ctx);
    const r = this.newRequest(t, start, end, mode);
    this.touch(t, start, end);
    if (this.blockersOf(r).length > 0) return null;
    r.ctxOwner = c;
    r.granted = true;
    this.tree.insert(r);
    this.note(r, site, c, true);
    return r;
  }

  /** range_*_unlock: releases `h`, granting the waiters it was the last blocker of. */
  unlock(t: Task, h: RangeHandle): void {
    assert(
      h instanceof RangeRequest && h.lock === this,
      () => `range_unlock: ${t} passes a handle not of ${this.name}`,
    );
    assert(h.granted && !h.released, () => `range_unlock: ${t} unlocks ${this.name} ${h.modeText}, not held`);
    assert(h.owner === t, () => `range_unlock: ${t} unlocks ${this.name} ${h.modeText} held by ${h.owner}`);
    h.released = true;
    this.touch(t, h.start, h.end);
    this.tree.remove(h);
    noteReleased(t, this, 'range_unlock', t, h.modeText);
    if (h.ctxOwner && h.ctxHold) h.ctxOwner.forget(h.ctxHold);
    const ready: RangeRequest[] = [];
    this.tree.overlapping(h.start, h.end, (n) => {
      if (n.seq > h.seq && !n.granted && conflicts(h, n) && --n.blocking === 0) ready.push(n);
    });
    ready.sort((a, b) => a.seq - b.seq);
    for (const n of ready) {
      n.granted = true;
      this.wq.wakeTask(n.owner);
    }
  }

  /** The requests in the tree that `r` must wait for: earlier, overlapping, conflicting. */
  blockersOf(r: RangeRequest): RangeRequest[] {
    const out: RangeRequest[] = [];
    this.tree.overlapping(r.start, r.end, (n) => {
      if (n.seq < r.seq && conflicts(r, n)) out.push(n);
    });
    return out.sort((a, b) => a.seq - b.seq);
  }

  // --- internals ---

  /** The step's footprint: the granules of [start, end), or the whole lock. */
  private touch(t: Task, start: number, end: number, write = true): void {
    if (!t.sim.recording) return;
    const first = Math.floor(start / RANGE_GRANULE);
    const last = Math.ceil(end / RANGE_GRANULE);
    if (last - first > RANGE_GRANULES) {
      t.touch(objectId(this.name), write);
      return;
    }
    t.touch(objectId(this.name), false);
    for (let g = first; g < last; g++) t.touch(objectId(`${this.name}@${g}`), write);
  }

  private newRequest(t: Task, start: number, end: number, mode: RangeMode): RangeRequest {
    assert(
      Number.isFinite(start) && start >= 0 && end > start,
      () => `range lock ${this.name}: bad range [${start},${end}) from ${t}`,
    );
    return new RangeRequest(this, t, start, end, mode, ++this.seq);
  }

  private note(r: RangeRequest, site: string, ctx: LockContext | null, trylock: boolean): void {
    if (ctx) r.ctxHold = ctx.record(this, r.modeText, r.start, r.end);
    noteAcquired(r.owner, this, r.modeText, site, lockdepAttrs(r.mode, trylock));
  }

  /**
   * Would a request blocked by `blockers` wait, directly or transitively, for a range of `ctx`?
   * Returns what it would wait for (for the refusal's trace line), or null. With the chain walk,
   * the search crosses from another task's granted range to the request that task sleeps on.
   */
  private waitsForCtx(t: Task, blockers: RangeRequest[], ctx: LockContext): string | null {
    const walk = this.chainWalk && holdsRange(ctx);
    // The walk's result depends on other tasks' waits in other locks: every task that waits while
    // holding a range writes one object, so two such steps are never taken as independent.
    if (walk) t.touch(objectId(`${this.lockClass} chain`), true);
    const seen = new Set<RangeRequest>();
    const todo = blockers.map((n) => ({ n, via: '' }));
    while (todo.length > 0) {
      const { n, via } = todo.pop() as { n: RangeRequest; via: string };
      if (seen.has(n)) continue;
      seen.add(n);
      if (n.granted && n.ctxOwner === ctx) return `a range${via}`;
      if (!n.granted) todo.push(...n.lock.blockersOf(n).map((b) => ({ n: b, via })));
      else if (walk) {
        const next = sleepingRequest(n.owner, t);
        if (next === null) continue;
        next.lock.touch(t, next.start, next.end, false);
        const hop = ` through ${n.owner}'s wait for ${next.name}`;
        todo.push(...next.lock.blockersOf(next).map((b) => ({ n: b, via: via + hop })));
      }
    }
    return null;
  }

  private requests(): RangeRequest[] {
    return this.tree.items().sort((a, b) => a.seq - b.seq);
  }
}

/** Does the context hold a range of some range lock? */
function holdsRange(ctx: LockContext): boolean {
  return ctx.holds.some((h) => h.lock instanceof RangeLock);
}

/** The range request `owner` sleeps on, if it is one and `owner` is not `self`. */
function sleepingRequest(owner: Task, self: Task): RangeRequest | null {
  const on = owner.blockedOn;
  return owner !== self && on instanceof RangeRequest && !on.granted ? on : null;
}
