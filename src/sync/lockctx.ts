/**
 * A lock context kept in the task, as Dave Chinner proposed for XFS range locks (seed 004,
 * linux-fsdevel 2019-06-11): "put the lock context in the current task, then if the page fault
 * requires a conflicting lock context to be taken, we terminate the page fault, back out of the IO
 * and return EDEADLOCK out to userspace. This works for all types of lock contexts - only the
 * filesystem itself needs to know what the lock context pointer contains."
 *
 * What it records: every acquisition made *with* the context (lock, mode, byte range; the whole
 * lock is [0, Infinity)). What it is used for: an acquisition made with the context that cannot be
 * granted at once, and whose wait would (directly, or through a queued request that itself waits
 * for us) depend on something this same context holds in that lock, fails with -EDEADLK instead of
 * sleeping forever. Acquisitions that can be granted at once are granted: recursion that cannot
 * deadlock is not refused.
 *
 * Departure from Linux: no such mechanism was merged. Chinner's 2019 range-lock series was never
 * posted (reference/kernel.md section 7, [NF]); this is the semantics his mail describes. The
 * check is per lock (same lock only): a cross-lock ABBA is lockdep's job, not the context's.
 *
 * Which context an acquisition uses: the primitives' ctx-taking methods default to the task's own
 * `t.lockContext` (set with attach()), so a page fault deep inside GUP uses the context of the
 * DIO that faulted without being handed it; passing `null` opts out.
 */
import { assert } from '../sim/assert.js';
import { EDEADLK } from '../sim/errno.js';
import type { Task, TaskLockContext, Waitable } from '../sim/task.js';

/** One acquisition made under a context. */
export interface CtxHold {
  readonly lock: Waitable;
  readonly mode: string;
  /** Byte range for range locks; [0, Infinity) for a whole lock. */
  readonly start: number;
  readonly end: number;
}

export class LockContext implements TaskLockContext {
  private readonly entries: CtxHold[] = [];
  /** Acquisitions this context refused with -EDEADLK (a finding worth counting). */
  refused = 0;

  constructor(readonly owner: Task) {}

  /** Makes this the task's context (`current->lock_ctx = ctx`). */
  attach(): this {
    assert(this.owner.lockContext === null, () => `${this.owner} already has a lock context`);
    this.owner.lockContext = this;
    return this;
  }

  /** Clears the task's context. Context: everything taken with it has been released. */
  detach(): void {
    assert(this.owner.lockContext === this, () => `${this.owner}: detaching a lock context it does not have`);
    assert(
      this.entries.length === 0,
      () => `${this.owner}: lock context detached while holding ${this.describe()}`,
    );
    this.owner.lockContext = null;
  }

  get holds(): readonly CtxHold[] {
    return this.entries;
  }

  holdsLock(lock: Waitable): boolean {
    for (const h of this.entries) if (h.lock === lock) return true;
    return false;
  }

  /** Called by a primitive when it grants an acquisition made with this context. */
  record(lock: Waitable, mode: string, start = 0, end = Number.POSITIVE_INFINITY): CtxHold {
    const h: CtxHold = { lock, mode, start, end };
    this.entries.push(h);
    return h;
  }

  /** Called by a primitive on release of an acquisition recorded here. */
  forget(h: CtxHold): void {
    const i = this.entries.lastIndexOf(h);
    assert(i >= 0, () => `${this.owner}: lock context does not hold ${h.lock.name} ${h.mode}`);
    this.entries.splice(i, 1);
  }

  /**
   * Refuses an acquisition: counts it, notes it in the trace, returns -EDEADLK. `what` says what
   * the blocked request would have waited for.
   */
  refuse(t: Task, lock: Waitable, mode: string, site: string, what: string): number {
    assert(t === this.owner, () => `${t} uses the lock context of ${this.owner}`);
    this.refused++;
    if (t.tracing)
      t.event(site, `EDEADLK: ${lock.name} ${mode} would wait for ${what} held by its own lock context`);
    return -EDEADLK;
  }

  describe(): string {
    return this.entries.map((h) => `${h.lock.name} ${h.mode}`).join(', ') || '(nothing)';
  }
}

/** The task's context if it is a LockContext (another subsystem may keep its own kind there). */
export function currentLockContext(t: Task): LockContext | null {
  return t.lockContext instanceof LockContext ? t.lockContext : null;
}

/** Resolves an optional ctx parameter: undefined means "the task's own", null means "none". */
export function resolveCtx(t: Task, ctx: LockContext | null | undefined): LockContext | null {
  const c = ctx === undefined ? currentLockContext(t) : ctx;
  assert(c === null || c.owner === t, () => `${t} acquires with the lock context of ${c?.owner}`);
  return c;
}
