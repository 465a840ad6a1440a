/**
 * bcachefs two_state_shared_lock (fs/bcachefs/two_state_shared_lock.{h,c}, Linux 6.7-6.17): the
 * pagecache lock of seed 000. Two states, "add" (0: bch2_pagecache_add_get, taken by buffered
 * I/O and faults: may add pages) and "block" (1: bch2_pagecache_block_get, taken by DIO writes,
 * fallocate, truncate: keeps pages from being added). Each state is shared within itself, the two
 * exclude each other. One counter `v`: <0 is -(number of add holders), >0 the number of block
 * holders, 0 free.
 *
 * 'original' fairness, exactly as the kernel code:
 *   bch2_two_state_trylock: fails iff the other state is held (no look at waiters);
 *   bch2_two_state_lock:    trylock, else __wait_event(lock->wait, trylock()): a non-exclusive
 *                           sleeper that re-checks when woken;
 *   bch2_two_state_unlock:  if the count drops to 0, wake_up_all(); woken waiters re-race.
 * No queueing and no fairness: as long as one holder of a state overlaps the next, the count
 * never reaches 0 and a waiter for the other state is never even woken. A stream of faults
 * ("add") starves a DIO writer ("block") forever (Jan Kara, seed 000). The upside: recursive
 * acquisition of a held state never waits, so add-inside-add (a fault during a buffered write of
 * the same inode) cannot deadlock; lockdep treats these acquisitions as recursive-read.
 *
 * 'deadline' fairness, Jan Kara's proposal in seed 000 ("some kind of deadline for a waiter after
 * which it will block acquisitions of the other lock state"), never merged; the precise rule here
 * is ours. The first waiter in arrival order (the one with the oldest claim: like rwsem's handoff
 * bit only the first waiter may set it) that has waited `deadlineTicks` of virtual time since it
 * first asked (re-sleeps after losing a re-race do not restart its clock) refuses every new
 * acquisition of the other state, trylock included, until it has acquired. Its own state stays
 * open to everyone (it is compatible). Holders of the other state drain within one hold time, the
 * count reaches 0, wake_up_all, and only the gate's state can win the re-race. So a waiter's wait
 * is bounded by deadline + the longest hold of the other state (plus the waits of older waiters,
 * which are themselves bounded). The cost: an acquisition of a state the task already holds can
 * now be refused, so add-inside-add deadlocks once a block waiter is past its deadline: the
 * deadline makes the lock non-recursive (lockdep treats it as a plain shared lock then), and
 * lockCtx() returns -EDEADLK for it.
 *
 * Lock contexts: lockCtx() takes a LockContext (default: the task's own). An acquisition that
 * would sleep while the context holds this lock in any state returns -EDEADLK: the other state is
 * ours to release, and the same state can only be refused because of a waiter that waits for us.
 */

import { assert } from '../sim/assert.js';
import { type Task, type Waitable, waitableObj } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';
import { attrs, type LockAttrs, noteAcquired, noteReleased, uniqueTasks } from './held.js';
import { type CtxHold, type LockContext, resolveCtx } from './lockctx.js';

/** 0 = "add" (bch2_pagecache_add_get), 1 = "block" (bch2_pagecache_block_get). */
export type TwoState = 0 | 1;

export type TwoStateFairness = { kind: 'original' } | { kind: 'deadline'; deadlineTicks: number };

export const TWO_STATE_NAMES = ['add', 'block'] as const;

interface TwoStateHold {
  readonly task: Task;
  readonly state: TwoState;
  readonly ctx: CtxHold | null;
  readonly ctxOwner: LockContext | null;
}

interface TwoStateWaiter {
  readonly task: Task;
  readonly state: TwoState;
  /** Virtual time of the first failed attempt: the deadline runs from here. */
  readonly since: number;
}

export class TwoStateLock implements Waitable {
  readonly lockClass: string;
  private v = 0;
  private readonly holds: TwoStateHold[] = [];
  /** Sleepers in arrival order (the kernel's wait list is unordered for wake_up_all; ours is FIFO). */
  private readonly sleepers: TwoStateWaiter[] = [];
  private readonly wq = new WaitQueue();
  /** Acquisitions refused because of an expired waiter (deadline fairness at work). */
  refusals = 0;

  constructor(
    readonly name: string,
    readonly fairness: TwoStateFairness,
    lockClass = 'two_state_lock',
  ) {
    this.lockClass = lockClass;
    assert(fairness.kind === 'original' || fairness.deadlineTicks >= 0, 'two_state_lock: negative deadline');
  }

  /** <0: -(add holders), >0: block holders, 0: free. */
  get value(): number {
    return this.v;
  }

  /** Tasks sleeping for the lock, with the state they want (arrival order). */
  get waiters(): readonly { readonly task: Task; readonly state: TwoState; readonly since: number }[] {
    return this.sleepers;
  }

  holders(): readonly Task[] {
    return uniqueTasks(this.holds.map((h) => h.task));
  }

  /** bch2_two_state_lock(). */
  async lock(t: Task, s: TwoState, site: string): Promise<void> {
    await this.acquire(t, s, site, null);
  }

  /** bch2_two_state_lock() under a lock context: 0, or -EDEADLK instead of a self-deadlock. */
  lockCtx(t: Task, s: TwoState, site: string, ctx?: LockContext | null): Promise<number> {
    return this.acquire(t, s, site, resolveCtx(t, ctx));
  }

  /** bch2_two_state_trylock(). */
  trylock(t: Task, s: TwoState, site: string): boolean {
    // Succeeding or not, it looks at whether the other state is held: a group access of `s`.
    if (!this.mayTake(t, s)) {
      t.touchGroup(waitableObj(this), s);
      return false;
    }
    this.take(t, s, site, null, true);
    return true;
  }

  /** bch2_two_state_unlock(): wake_up_all() when the count reaches 0. */
  unlock(t: Task, s: TwoState): void {
    let i = this.holds.length - 1;
    while (i >= 0 && !(this.holds[i].task === t && this.holds[i].state === s)) i--;
    assert(i >= 0, () => `bch2_two_state_unlock: ${t} does not hold ${this.name} ${TWO_STATE_NAMES[s]}`);
    const [h] = this.holds.splice(i, 1);
    // With sleepers, whether this release wakes them depends on the other holders of `s` (the
    // count reaches 0 at the last one): it does not commute with their acquisitions and releases.
    if (this.wq.length > 0) t.touch(waitableObj(this), true);
    noteReleased(t, this, 'bch2_two_state_unlock', t, TWO_STATE_NAMES[s]);
    if (h.ctxOwner && h.ctx) h.ctxOwner.forget(h.ctx);
    this.v -= s ? 1 : -1;
    if (this.v === 0) this.wq.wakeAll();
  }

  // --- internals ---

  private async acquire(t: Task, s: TwoState, site: string, ctx: LockContext | null): Promise<number> {
    if (this.mayTake(t, s)) {
      this.take(t, s, site, ctx, false);
      return 0;
    }
    if (ctx?.holdsLock(this)) {
      // The refusal looked at the other state's holders, as a failed trylock does.
      t.touchGroup(waitableObj(this), s);
      return ctx.refuse(t, this, TWO_STATE_NAMES[s], site, this.blockerText(s));
    }
    const w: TwoStateWaiter = { task: t, state: s, since: t.time };
    this.sleepers.push(w);
    // __wait_event(lock->wait, bch2_two_state_trylock(lock, s)): woken by wake_up_all, re-checks.
    do await this.wq.wait(t, this, site);
    while (!this.mayTake(t, s));
    // Leaving the sleepers changes what the deadline gate sees (the first sleeper).
    t.touch(waitableObj(this), true);
    this.sleepers.splice(this.sleepers.indexOf(w), 1);
    this.take(t, s, site, ctx, false);
    return 0;
  }

  /** The trylock condition, plus the deadline gate. */
  private mayTake(t: Task, s: TwoState): boolean {
    if (s ? this.v < 0 : this.v > 0) return false;
    const gate = this.expiredWaiter(t.time);
    if (gate && gate.state !== s && gate.task !== t) {
      this.refusals++;
      return false;
    }
    return true;
  }

  /** Deadline fairness: the first waiter, if it has waited at least the deadline by `now`. */
  private expiredWaiter(now: number): TwoStateWaiter | null {
    if (this.fairness.kind !== 'deadline' || this.sleepers.length === 0) return null;
    const first = this.sleepers[0];
    return now - first.since >= this.fairness.deadlineTicks ? first : null;
  }

  private take(t: Task, s: TwoState, site: string, ctx: LockContext | null, trylock: boolean): void {
    this.v += s ? 1 : -1;
    const mode = TWO_STATE_NAMES[s];
    const ch = ctx ? ctx.record(this, mode) : null;
    this.holds.push({ task: t, state: s, ctx: ch, ctxOwner: ctx });
    noteAcquired(t, this, mode, site, this.lockdepAttrs(s, trylock));
  }

  /**
   * Recursive-read without a deadline (never waits while its state is held), shared with one. The
   * footprint: a group access of the state (src/sim/footprint.ts): two acquisitions or releases of
   * one state commute — each moves the count the same way and neither can make the other wait —
   * except a release with sleepers (unlock writes the lock then).
   */
  private lockdepAttrs(s: TwoState, trylock: boolean): LockAttrs {
    return attrs(this.fairness.kind === 'original' ? 2 : 1, TWO_STATE_NAMES[s], trylock, s);
  }

  private blockerText(s: TwoState): string {
    const other = TWO_STATE_NAMES[s ? 0 : 1];
    return (s ? this.v < 0 : this.v > 0) ? `the ${other} holders` : `an expired ${other} waiter`;
  }
}
