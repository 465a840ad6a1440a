/**
 * struct rw_semaphore (kernel/locking/rwsem.c, Linux 5.3+ after Waiman Long's rework): any number
 * of readers or one writer, and one FIFO wait list shared by both.
 *
 * Fairness modelled, and why (this is what decides whether a litmus test deadlocks or starves):
 * - A new reader takes the lock at once only if no writer holds it *and the wait list is empty*
 *   (the fast path fails on RWSEM_FLAG_WAITERS, RWSEM_READ_FAILED_MASK). So a reader never jumps
 *   a queued writer: a stream of readers cannot starve a writer, and a recursive down_read()
 *   deadlocks as soon as a writer queued in between, exactly as in Linux.
 * - A new writer takes it at once only if it is free and nobody waits.
 * - Release hands the lock over (the woken tasks own it before they run):
 *   - if the first waiter is a writer, it gets the lock once the last holder is gone;
 *   - if the first waiter is a reader, every queued reader gets it, up to MAX_READERS_WAKEUP
 *     (256), including readers queued behind writers. That is rwsem_mark_wake()'s "adaptation of
 *     the phase-fair R/W locks" (commit "locking/rwsem: Wake up almost all readers in wait queue",
 *     5.3): in a reader phase all waiting readers go together; writers keep their order.
 * - downgrade_write() turns the writer into a reader and wakes the readers at the head the same
 *   way (rwsem_downgrade_wake, RWSEM_WAKE_READ_OWNED: nothing if the first waiter is a writer).
 * - down_*_trylock() fail whenever anyone waits (the count is not the unlocked value).
 *
 * Departure from Linux and why: Linux lets a writer spin and steal the lock, and a reader steal it
 * in the slow path when it is free and no handoff is pending, until a waiter has waited
 * RWSEM_WAIT_TIMEOUT (~4 ms) and sets RWSEM_FLAG_HANDOFF. The model behaves as if the handoff bit
 * were always set: strict FIFO hand-off. Stealing only reorders tasks that could all proceed, it
 * does not create or remove deadlocks between tasks that wait; modelling it would tie every wait
 * time to a wall-clock heuristic. Reader owners are tracked exactly (Linux keeps only the last
 * reader, as a hint) because the wait-for graph needs them.
 *
 * Lock contexts: downReadCtx/downWriteCtx take a LockContext (default: the task's own). If the
 * acquisition would sleep while the context already holds this rwsem in any mode, it returns
 * -EDEADLK: a writer would wait for our read, a reader would queue behind a writer that waits for
 * our read, and anything waits for our write.
 */

import { assert } from '../sim/assert.js';
import { objectId } from '../sim/footprint.js';
import type { Task, Waitable } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';
import {
  attrs,
  EXCLUSIVE,
  EXCLUSIVE_TRY,
  noteAcquired,
  noteDowngraded,
  noteReleased,
  uniqueTasks,
} from './held.js';
import { type CtxHold, type LockContext, resolveCtx } from './lockctx.js';

/** rwsem.c: the most readers one wake-up grants. */
export const MAX_READERS_WAKEUP = 0x100;

const READ = attrs(1, 'read', false);
const READ_TRY = attrs(1, 'read', true);

interface RwsemWaiter {
  readonly task: Task;
  readonly write: boolean;
  granted: boolean;
}

interface RwsemHold {
  readonly task: Task;
  write: boolean;
  readonly ctx: CtxHold | null;
  readonly ctxOwner: LockContext | null;
}

export class RwSemaphore implements Waitable {
  readonly lockClass: string;
  private readonly holds: RwsemHold[] = [];
  private readonly queue: RwsemWaiter[] = [];
  private readonly wq = new WaitQueue();
  private nreaders = 0;
  private owner: Task | null = null;

  constructor(
    readonly name: string,
    lockClass = 'rw_semaphore',
  ) {
    this.lockClass = lockClass;
  }

  get readers(): number {
    return this.nreaders;
  }

  get writer(): Task | null {
    return this.owner;
  }

  /** Queued tasks and what they want, in queue order (for reports and tests). */
  get waiters(): readonly { readonly task: Task; readonly write: boolean }[] {
    return this.queue;
  }

  holders(): readonly Task[] {
    return uniqueTasks(this.holds.map((h) => h.task));
  }

  /** down_read(). */
  async downRead(t: Task, site: string): Promise<void> {
    await this.acquire(t, false, site, null);
  }

  /** down_write(). */
  async downWrite(t: Task, site: string): Promise<void> {
    await this.acquire(t, true, site, null);
  }

  /** down_read() under a lock context: 0, or -EDEADLK instead of a self-deadlock. */
  downReadCtx(t: Task, site: string, ctx?: LockContext | null): Promise<number> {
    return this.acquire(t, false, site, resolveCtx(t, ctx));
  }

  /** down_write() under a lock context: 0, or -EDEADLK instead of a self-deadlock. */
  downWriteCtx(t: Task, site: string, ctx?: LockContext | null): Promise<number> {
    return this.acquire(t, true, site, resolveCtx(t, ctx));
  }

  /** down_read_trylock(). */
  downReadTrylock(t: Task, site: string): boolean {
    t.touch(objectId(this.name), false);
    if (!this.readFastPath()) return false;
    this.nreaders++;
    this.granted(t, false, site, null, true);
    return true;
  }

  /** down_write_trylock(). */
  downWriteTrylock(t: Task, site: string): boolean {
    t.touch(objectId(this.name), true);
    if (!this.writeFastPath()) return false;
    this.owner = t;
    this.granted(t, true, site, null, true);
    return true;
  }

  /** up_read(). */
  upRead(t: Task): void {
    const h = this.dropHold(t, false, 'up_read');
    assert(this.nreaders > 0, () => `up_read: ${this.name} has no readers`);
    this.nreaders--;
    if (h.ctxOwner && h.ctx) h.ctxOwner.forget(h.ctx);
    if (this.nreaders === 0) this.wake();
  }

  /** up_write(). */
  upWrite(t: Task): void {
    assert(
      this.owner === t,
      () => `up_write: ${t} unlocks ${this.name} written by ${this.owner ?? 'nobody'}`,
    );
    const h = this.dropHold(t, true, 'up_write');
    this.owner = null;
    if (h.ctxOwner && h.ctx) h.ctxOwner.forget(h.ctx);
    this.wake();
  }

  /** downgrade_write(): write -> read without letting a writer in between. */
  downgradeWrite(t: Task): void {
    assert(this.owner === t, () => `downgrade_write: ${t} does not hold ${this.name} for write`);
    const h = this.holds.find((x) => x.task === t && x.write) as RwsemHold;
    h.write = false;
    this.owner = null;
    this.nreaders++;
    noteDowngraded(t, this, 'write', 'read', 'downgrade_write', READ);
    if (this.queue.length > 0 && !this.queue[0].write) this.grantReaders();
  }

  // --- internals ---

  private readFastPath(): boolean {
    return this.owner === null && this.queue.length === 0;
  }

  private writeFastPath(): boolean {
    return this.owner === null && this.nreaders === 0 && this.queue.length === 0;
  }

  private async acquire(t: Task, write: boolean, site: string, ctx: LockContext | null): Promise<number> {
    if (write ? this.writeFastPath() : this.readFastPath()) {
      if (write) this.owner = t;
      else this.nreaders++;
      this.granted(t, write, site, ctx, false);
      return 0;
    }
    if (ctx?.holdsLock(this)) {
      const what = this.owner ? `the writer ${this.owner}` : 'its readers or the writer queued ahead';
      return ctx.refuse(t, this, write ? 'write' : 'read', site, what);
    }
    const w: RwsemWaiter = { task: t, write, granted: false };
    this.queue.push(w);
    while (!w.granted) await this.wq.wait(t, this, site);
    this.granted(t, write, site, ctx, false);
    return 0;
  }

  /** Bookkeeping once `t` owns the lock (the count and owner were already updated). */
  private granted(t: Task, write: boolean, site: string, ctx: LockContext | null, trylock: boolean): void {
    const mode = write ? 'write' : 'read';
    const a = write ? (trylock ? EXCLUSIVE_TRY : EXCLUSIVE) : trylock ? READ_TRY : READ;
    const ch = ctx ? ctx.record(this, mode) : null;
    this.holds.push({ task: t, write, ctx: ch, ctxOwner: ctx });
    noteAcquired(t, this, mode, site, a);
  }

  private dropHold(t: Task, write: boolean, site: string): RwsemHold {
    let i = this.holds.length - 1;
    while (i >= 0 && !(this.holds[i].task === t && this.holds[i].write === write)) i--;
    assert(i >= 0, () => `${site}: ${t} does not hold ${this.name} for ${write ? 'write' : 'read'}`);
    const [h] = this.holds.splice(i, 1);
    noteReleased(t, this, site, t, write ? 'write' : 'read');
    return h;
  }

  /** rwsem_wake() -> rwsem_mark_wake(RWSEM_WAKE_ANY) with hand-off. */
  private wake(): void {
    if (this.queue.length === 0 || this.owner !== null) return;
    const first = this.queue[0];
    if (first.write) {
      if (this.nreaders > 0) return;
      this.queue.shift();
      this.owner = first.task;
      first.granted = true;
      this.wq.wakeTask(first.task);
      return;
    }
    this.grantReaders();
  }

  /** The reader phase: every queued reader (up to MAX_READERS_WAKEUP) gets the lock, in order. */
  private grantReaders(): void {
    let woken = 0;
    for (let i = 0; i < this.queue.length && woken < MAX_READERS_WAKEUP; ) {
      const w = this.queue[i];
      if (w.write) {
        i++;
        continue;
      }
      this.queue.splice(i, 1);
      this.nreaders++;
      w.granted = true;
      woken++;
      this.wq.wakeTask(w.task);
    }
  }
}
