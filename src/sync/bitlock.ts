/**
 * The folio lock: PG_locked with its waiters (mm/filemap.c: folio_lock, folio_trylock,
 * folio_unlock, folio_wait_locked; wake_page_function and folio_wait_bit_common since Linus's
 * 5.9/5.10 rewrite).
 *
 * Modelled:
 * - folio_trylock()/folio_lock() fast path: test_and_set of the bit.
 * - folio_lock() slow path: an EXCLUSIVE waiter at the tail of the folio's wait queue.
 * - folio_wait_locked(): a non-exclusive waiter at the tail; it waits for the bit to clear and
 *   does not take it.
 * - folio_unlock(): clears the bit and walks the queue in order, as wake_page_function() does:
 *   non-exclusive waiters are woken one after the other until the first exclusive waiter; that one
 *   is handed the bit (the waker sets it on its behalf, WQ_FLAG_DONE) and the walk stops. So a
 *   folio_wait_locked() queued behind a locker sleeps until that locker unlocks too.
 * - The bit has no owner in Linux: any context may unlock (the read completion unlocks a folio
 *   the submitter locked). The model remembers who locked it, for the wait-for graph and the
 *   held-lock list, and lets any task unlock it: the entry leaves the locker's held list.
 *
 * Departure from Linux and why: Linux hands off only to a waiter that already lost the race
 * sysctl_page_lock_unfairness (5) times (WQ_FLAG_CUSTOM); before that a woken waiter re-races
 * and a new folio_trylock() can steal the bit. The model always hands off, as for the other
 * sleeping locks: stealing reorders who goes first, it does not decide whether tasks deadlock.
 * The hashed page_wait_table is one queue per folio here (hash sharing only causes spurious
 * wake-ups, which Linux filters with wake_page_match()).
 */

import { assert } from '../sim/assert.js';
import { objectId } from '../sim/footprint.js';
import type { Task, Waitable } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';
import { EXCLUSIVE, EXCLUSIVE_TRY, noteAcquired, noteReleased } from './held.js';

interface FolioWaiter {
  readonly task: Task;
  /** EXCLUSIVE (folio_lock) vs SHARED (folio_wait_locked) in folio_wait_bit_common terms. */
  readonly exclusive: boolean;
  woken: boolean;
}

export class PageLock implements Waitable {
  readonly lockClass: string;
  private holder: Task | null = null;
  private readonly queue: FolioWaiter[] = [];
  private readonly wq = new WaitQueue();

  constructor(
    readonly name: string,
    lockClass = 'folio_lock',
  ) {
    this.lockClass = lockClass;
  }

  get locked(): boolean {
    return this.holder !== null;
  }

  /** The task that locked it (Linux does not track this; the model does for reports). */
  get owner(): Task | null {
    return this.holder;
  }

  /** PG_waiters: somebody sleeps on the bit. */
  get hasWaiters(): boolean {
    return this.queue.length > 0;
  }

  holders(): readonly Task[] {
    return this.holder ? [this.holder] : [];
  }

  /** folio_lock() / lock_page(). */
  async lock(t: Task, site: string): Promise<void> {
    if (this.holder === null) {
      this.holder = t;
    } else {
      const w: FolioWaiter = { task: t, exclusive: true, woken: false };
      this.queue.push(w);
      while (!w.woken) await this.wq.wait(t, this, site);
      assert(this.holder === t, () => `folio_lock: ${t} woken for ${this.name} without the hand-off`);
    }
    noteAcquired(t, this, 'excl', site, EXCLUSIVE);
  }

  /** folio_trylock() / trylock_page(). */
  trylock(t: Task, site: string): boolean {
    t.touch(objectId(this.name), true);
    if (this.holder !== null) return false;
    this.holder = t;
    noteAcquired(t, this, 'excl', site, EXCLUSIVE_TRY);
    return true;
  }

  /** folio_unlock() / unlock_page(): any task may unlock (bio completion, for instance). */
  unlock(t: Task): void {
    const holder = this.holder;
    assert(holder !== null, () => `folio_unlock: ${t} unlocks ${this.name}, which is not locked`);
    noteReleased(t, this, 'folio_unlock', holder);
    this.holder = null;
    this.wakeWalk();
  }

  /** folio_wait_locked() / wait_on_page_locked(): sleeps until unlocked; does not take it. */
  async waitUnlocked(t: Task, site: string): Promise<void> {
    if (this.holder === null) return;
    const w: FolioWaiter = { task: t, exclusive: false, woken: false };
    this.queue.push(w);
    while (!w.woken) await this.wq.wait(t, this, site);
  }

  /** folio_wake_bit() -> wake_page_function() for each queued entry, in order. */
  private wakeWalk(): void {
    while (this.queue.length > 0) {
      const w = this.queue.shift() as FolioWaiter;
      w.woken = true;
      if (w.exclusive) this.holder = w.task;
      this.wq.wakeTask(w.task);
      if (w.exclusive) return;
    }
  }
}
