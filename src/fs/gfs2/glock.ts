/**
 * The GFS2 inode glock (fs/gfs2/glock.c, glock.h; Documentation/filesystems/gfs2-glocks.rst), as
 * one node sees it: holders (struct gfs2_holder) queued on the glock's gl_holders list, granted
 * strictly in queue order, in one of three modes:
 *
 *   EX (LM_ST_EXCLUSIVE)  alone                  buffered write, page_mkwrite, truncate, fallocate
 *   SH (LM_ST_SHARED)     with SH                buffered read, gfs2_fault
 *   DF (LM_ST_DEFERRED)   with DF; not with SH   O_DIRECT read and write
 *
 * What is modelled:
 * - gfs2_holder_init() / gfs2_glock_nq() / gfs2_glock_dq(): a request joins the tail of the queue;
 *   do_promote() grants waiters from the head for as long as each is compatible with every
 *   (strong) holder, and stops at the first that is not, so a later compatible request never
 *   overtakes an earlier incompatible one.
 * - add_to_queue()'s trap_recursive: a task that queues a request while it already has a holder
 *   on the same glock that it may not lose (no HIF_MAY_DEMOTE) hits
 *   `fs_err("original: ..."); gfs2_dump_glock(); BUG()`: an InvariantError here. That is what a
 *   page fault on a mapping of the same file does to a task holding the inode glock.
 * - Holder auto-demotion (dc732906c245, Bob Peterson, 5.16; the flag of Gruenbacher's
 *   mmap + page fault fix): gfs2_holder_allow_demote() sets HIF_MAY_DEMOTE; while it is set, a
 *   request that conflicts with that holder dequeues it (demote_incompat_holders →
 *   __gfs2_glock_dq) before being granted; gfs2_holder_disallow_demote() clears it, and
 *   gfs2_holder_queued() tells the owner whether it still holds the glock ("if it is, they are
 *   still holding the glock; if it isn't, they can re-acquire the glock (or abort)").
 * - Every grant and release goes through src/sync/held.ts, so a deadlock report names the glock,
 *   the mode and where each holder took it; a demotion is a release made by the demoting task on
 *   the holder's behalf.
 *
 * Departures from Linux, and why:
 * - One node. The DLM, remote callbacks (gfs2_glock_cb), the glock workqueue, the minimum hold
 *   time and lock-state caching are not modelled: the cached state (gl_state) a node keeps after
 *   its holders leave only saves DLM round trips, and with one node nothing ever asks for it back.
 *   For the same reason the state transitions' go_sync/go_inval (inode_go_sync writes the data
 *   back, inode_go_inval truncates the page cache when the glock enters DF or is dropped) are not
 *   modelled: on one node nothing adds a page cache page under DF (faults and buffered I/O need
 *   SH or EX) and iomap_dio_rw invalidates the range it writes.
 * - Demotion on every conflict, as the commit message of dc732906c245 states it ("When a locking
 *   request comes in that isn't compatible with the locking state of an active holder and that
 *   holder has the HIF_MAY_DEMOTE flag set, the holder will be demoted before the incoming locking
 *   request is granted"), including a request queued before the holder allowed demotion (the
 *   queue is re-run in allowDemote). The 5.16 code is narrower: do_promote() calls
 *   demote_incompat_holders() only for a waiter that may_grant() accepts in the glock's current
 *   state, with no strong holder passed in; a local SH request behind a weak DF holder (the
 *   fault-in of generic/729, Kara's two-file example) needs a state change, which by that reading
 *   is not granted by demotion at all; remote requests are demoted from gfs2_glock_cb().
 *   Later fixes changed demote_incompat_holders(), and 5.18 stopped using auto-demotion
 *   (e1fa9ea85ce8: the DIO paths gfs2_glock_dq() before faulting in). The model follows the
 *   design the fix describes.
 * - gfs2_glock_nq() error returns (withdraw, try locks) are not modelled: every request waits.
 */
import { assert, InvariantError } from '../../sim/assert.js';
import type { Task, Waitable } from '../../sim/task.js';
import { WaitQueue } from '../../sim/waitqueue.js';
import { attrs, type LockAttrs, noteAcquired, noteReleased, uniqueTasks } from '../../sync/held.js';

export type GlockState = 'EX' | 'SH' | 'DF';

const LM_ST: Record<GlockState, string> = {
  EX: 'LM_ST_EXCLUSIVE',
  SH: 'LM_ST_SHARED',
  DF: 'LM_ST_DEFERRED',
};

/** Lockdep's view: SH and DF are each shared within themselves and exclude each other. */
const LOCKDEP: Record<GlockState, LockAttrs> = {
  EX: attrs(0, '', false),
  SH: attrs(1, 'SH', false),
  DF: attrs(1, 'DF', false),
};

/** The DLM compatibility of two granted modes (gfs2-glocks.rst): SH+SH, DF+DF; EX alone. */
export function glockCompatible(a: GlockState, b: GlockState): boolean {
  return a === b && a !== 'EX';
}

/** struct gfs2_holder: one task's request for, or hold of, a glock in one mode. */
export class Gfs2Holder {
  /** HIF_HOLDER: granted. */
  holder = false;
  /** HIF_WAIT: queued, not yet granted. */
  waiting = false;
  /** HIF_MAY_DEMOTE: a conflicting request may take the glock away from this holder. */
  mayDemote = false;
  /** Where gfs2_glock_nq() was called (gh_ip). */
  site = '';

  constructor(
    readonly gl: Glock,
    readonly task: Task,
    readonly state: GlockState,
  ) {}
}

export class Glock implements Waitable {
  readonly lockClass = 'glock';
  /** gl_holders: granted holders first, then waiters in arrival order. */
  private readonly queue: Gfs2Holder[] = [];
  private readonly wq = new WaitQueue();

  constructor(readonly name: string) {}

  holders(): readonly Task[] {
    return uniqueTasks(this.queue.filter((gh) => gh.holder).map((gh) => gh.task));
  }

  /** The holders and waiters, in queue order (for tests and reports). */
  get entries(): readonly Gfs2Holder[] {
    return this.queue;
  }

  /** gfs2_holder_init(). */
  holderInit(t: Task, state: GlockState): Gfs2Holder {
    return new Gfs2Holder(this, t, state);
  }

  /** gfs2_glock_nq(): queues the request and sleeps until it is granted. */
  async nq(t: Task, gh: Gfs2Holder, site: string): Promise<void> {
    assert(gh.gl === this && gh.task === t, () => `${t}: gfs2_glock_nq with a foreign holder`);
    assert(!gh.holder && !gh.waiting, () => `${t}: gfs2_glock_nq of a queued holder of ${this.name}`);
    this.addToQueue(t, gh, site);
    this.doPromote(t);
    while (!gh.holder) await this.wq.wait(t, this, site);
    noteAcquired(t, this, gh.state, site, LOCKDEP[gh.state]);
  }

  /** gfs2_glock_dq(): releases a granted holder and promotes the waiters it was blocking. */
  dq(t: Task, gh: Gfs2Holder): void {
    assert(gh.holder, () => `${t}: gfs2_glock_dq of ${this.name} not held`);
    this.dequeue(t, gh, 'gfs2_glock_dq');
    this.doPromote(t);
  }

  /** gfs2_holder_allow_demote(): a conflicting request may now dequeue this holder. */
  allowDemote(t: Task, gh: Gfs2Holder): void {
    assert(gh.holder, () => `${t}: gfs2_holder_allow_demote of ${this.name} not held`);
    gh.mayDemote = true;
    t.event('gfs2_holder_allow_demote', `${this.name} ${gh.state}`);
    this.doPromote(t);
  }

  /** gfs2_holder_disallow_demote(). */
  disallowDemote(_t: Task, gh: Gfs2Holder): void {
    gh.mayDemote = false;
  }

  /** gfs2_holder_queued(): still a holder (or waiter), i.e. not demoted meanwhile. */
  queued(gh: Gfs2Holder): boolean {
    return gh.holder || gh.waiting;
  }

  // --- internals ---

  /** add_to_queue(): the recursion trap, then the tail of the queue. */
  private addToQueue(t: Task, gh: Gfs2Holder, site: string): void {
    for (const gh2 of this.queue) {
      if (gh2.task === t && !gh2.mayDemote) this.trapRecursive(t, gh2, gh, site);
    }
    gh.site = site;
    gh.waiting = true;
    this.queue.push(gh);
  }

  private trapRecursive(t: Task, original: Gfs2Holder, gh: Gfs2Holder, site: string): never {
    const msg =
      `gfs2: recursive ${this.name} in add_to_queue: original: ${original.site} (${LM_ST[original.state]}), ` +
      `pid: ${t}, new: ${site} req lock state: ${LM_ST[gh.state]}; gfs2_dump_glock(); BUG()`;
    t.event('trap_recursive', msg);
    throw new InvariantError(msg);
  }

  /** do_promote(): grants waiters from the head, in order, demoting weak holders they conflict with. */
  private doPromote(t: Task): void {
    for (const gh of [...this.queue]) {
      if (!gh.waiting) continue;
      if (!this.mayGrant(gh)) return;
      this.demoteIncompatHolders(t, gh);
      gh.waiting = false;
      gh.holder = true;
      this.wq.wakeTask(gh.task);
    }
  }

  /** may_grant(): compatible with every holder that may not be demoted. */
  private mayGrant(gh: Gfs2Holder): boolean {
    for (const h of this.queue) {
      if (h.holder && !h.mayDemote && !glockCompatible(h.state, gh.state)) return false;
    }
    return true;
  }

  /** demote_incompat_holders(): dequeues each weak holder the new holder conflicts with. */
  private demoteIncompatHolders(t: Task, gh: Gfs2Holder): void {
    for (const h of [...this.queue]) {
      if (!h.holder || !h.mayDemote || glockCompatible(h.state, gh.state)) continue;
      t.event(
        'demote_incompat_holders',
        `${this.name}: ${h.task}'s ${h.state} holder demoted for ${gh.task}'s ${gh.state} request`,
      );
      this.dequeue(t, h, 'demote_incompat_holders');
    }
  }

  /** __gfs2_glock_dq(): off the list, HIF_HOLDER cleared; `t` releases it on the holder's behalf. */
  private dequeue(t: Task, gh: Gfs2Holder, site: string): void {
    const i = this.queue.indexOf(gh);
    assert(i >= 0, () => `${site}: ${gh.task}'s holder is not on ${this.name}`);
    this.queue.splice(i, 1);
    gh.holder = false;
    gh.mayDemote = false;
    noteReleased(t, this, site, gh.task, gh.state);
  }
}
