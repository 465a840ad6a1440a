/**
 * struct completion (kernel/sched/completion.c) with complete_all() semantics: once done, every
 * present and future wait_for_completion() returns at once, until reinit_completion().
 *
 * Used for bio completion (submit_bio_wait) and for "wait until the pin count drops".
 *
 * Not a lock: waiting records nothing in the task's held list and nothing for lockdep (Linux's
 * lockdep does not follow completions either since crossrelease was reverted in 4.15). For the
 * deadlock report it still names who is expected to complete it: setWaker(t) makes t its
 * holders(), so "P0 waits for bio#3, completed by irq:bio#3" is part of the wait-for graph.
 *
 * Departure from Linux: complete() (wake one, count one) is not modelled separately; every user in
 * the model completes for all waiters.
 */
import { type Task, type Waitable, waitableObj } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';

export class Completion implements Waitable {
  readonly lockClass: string;
  private isDone = false;
  private waker: Task | null = null;
  private readonly wq = new WaitQueue();
  fpObj?: number;

  constructor(
    readonly name: string,
    lockClass = 'completion',
  ) {
    this.lockClass = lockClass;
  }

  get done(): boolean {
    return this.isDone;
  }

  /** Tasks sleeping in wait(). */
  get waiters(): readonly Task[] {
    return this.wq.tasks();
  }

  holders(): readonly Task[] {
    return !this.isDone && this.waker ? [this.waker] : [];
  }

  /** Names the task expected to complete it (the bio's completion task, a pinner...). */
  setWaker(t: Task | null): void {
    this.waker = t;
  }

  /** wait_for_completion(). */
  async wait(t: Task, site: string): Promise<void> {
    t.touch(waitableObj(this), false);
    while (!this.isDone) await this.wq.wait(t, this, site);
  }

  /** complete_all(), by `t`. Context: any task; does not sleep. */
  complete(t: Task): void {
    t.touch(waitableObj(this), true);
    this.isDone = true;
    this.wq.wakeAll();
  }

  /** reinit_completion(): for reuse once every waiter has returned. */
  reinit(): void {
    this.isDone = false;
  }
}
