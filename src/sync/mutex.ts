/**
 * struct mutex (kernel/locking/mutex.c): one owner, sleeping waiters in a FIFO wait list.
 *
 * Modelled: mutex_lock() takes a free mutex at once; otherwise the task queues at the tail of the
 * wait list and sleeps. mutex_unlock() hands the mutex straight to the first waiter (the owner
 * field is set to it before it is woken), so waiters are served strictly in arrival order and a
 * task arriving later can never take it first. mutex_trylock() succeeds only on a free mutex.
 * Unlocking a mutex one does not own, or recursive locking detected by the caller, is misuse: the
 * first is an InvariantError, the second simply deadlocks, as in Linux.
 *
 * Departure from Linux and why: Linux hands off only after a woken waiter failed to get the lock
 * once (MUTEX_FLAG_HANDOFF, __mutex_unlock_slowpath); before that, optimistic spinners and new
 * arrivals may steal the mutex between the unlock and the woken waiter running. Stealing changes
 * who waits how long, never whether a set of tasks can deadlock, and it would make every wait time
 * depend on spinning heuristics; the model takes Linux's handoff path always, which keeps waits
 * bounded and runs reproducible.
 */

import { assert } from '../sim/assert.js';
import { objectId } from '../sim/footprint.js';
import type { Task, Waitable } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';
import { EXCLUSIVE, EXCLUSIVE_TRY, noteAcquired, noteReleased } from './held.js';

export class Mutex implements Waitable {
  readonly lockClass: string;
  private holder: Task | null = null;
  private readonly wq = new WaitQueue();

  constructor(
    readonly name: string,
    lockClass = 'mutex',
  ) {
    this.lockClass = lockClass;
  }

  get owner(): Task | null {
    return this.holder;
  }

  /** Tasks queued for the mutex, in hand-off order. */
  get waiters(): readonly Task[] {
    return this.wq.tasks();
  }

  holders(): readonly Task[] {
    return this.holder ? [this.holder] : [];
  }

  /** mutex_lock(). */
  async lock(t: Task, site: string): Promise<void> {
    if (this.holder === null) {
      this.holder = t;
    } else {
      // Sleeps until unlock() hands the mutex over: the hand-off sets holder before the wake. An
      // owner locking again sleeps too, behind itself: the self-deadlock Linux would have.
      do await this.wq.wait(t, this, site);
      while (this.holder !== t);
    }
    noteAcquired(t, this, 'excl', site, EXCLUSIVE);
  }

  /** mutex_trylock(): true if taken. */
  trylock(t: Task, site: string): boolean {
    t.touch(objectId(this.name), true);
    if (this.holder !== null) return false;
    this.holder = t;
    noteAcquired(t, this, 'excl', site, EXCLUSIVE_TRY);
    return true;
  }

  /** mutex_unlock(): hands the mutex to the first waiter, if any. */
  unlock(t: Task): void {
    assert(
      this.holder === t,
      () => `mutex_unlock: ${t} unlocks ${this.name} owned by ${this.holder ?? 'nobody'}`,
    );
    noteReleased(t, this, 'mutex_unlock');
    const next = this.wq.first;
    this.holder = next ?? null;
    if (next) this.wq.wakeTask(next);
  }
}
