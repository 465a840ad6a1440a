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
 * - One node, unless the scenario has `node` lines: then `remote` (src/fs/gfs2/cluster.ts) is the
 *   glock's state across nodes — gl_state, the DLM, gfs2_glock_cb, the glock workqueue's do_xmote
 *   with go_sync/go_inval — and may_grant() tests gl_state too. What follows is the one-node model
 *   (remote null), every scenario without nodes. On one node the DLM, remote callbacks
 *   (gfs2_glock_cb), the glock workqueue, the minimum hold time and lock-state caching are not
 *   modelled. 5.16 keeps the glock's state (gl_state) after its
 *   holders leave, and do_promote()'s may_grant() tests a request against gl_state when no strong
 *   holder is there: an EX-cached glock grants SH or DF locally with no state change (`if
 *   (gl->gl_state == LM_ST_EXCLUSIVE) return gh->gh_state == LM_ST_SHARED || gh->gh_state ==
 *   LM_ST_DEFERRED;`). A state change (do_xmote) runs ->go_sync — inode_go_sync: unmap every shared
 *   mapping of the file if it was mmap-written (GIF_SW_PAGED), inode_dio_wait, write the data back
 *   if dirty — and, into DF or UN, ->go_inval (inode_go_inval: truncate_inode_pages(mapping, 0), the
 *   whole page cache). The model grants by mode compatibility alone and runs neither: its
 *   iomap_dio_rw writes back and invalidates the range it writes, and the glock keeps SH/EX users
 *   out while DF is held. Verdicts this could move (not run: the model has no gl_state): expected
 *   none among the refault races of seed 004, which the glock serialises either way; with an
 *   EX-cached glock, 5.16 lets a fault's SH in beside a weak DF holder without demoting it (below).
 * - Demotion on every conflict, as the commit message of dc732906c245 states it ("When a locking
 *   request comes in that isn't compatible with the locking state of an active holder and that
 *   holder has the HIF_MAY_DEMOTE flag set, the holder will be demoted before the incoming locking
 *   request is granted"), including a request queued before the holder allowed demotion (the queue
 *   is re-run in allowDemote). 5.16's code is narrower, in three ways, each of which can hide a
 *   wait the kernel has:
 *   1. do_promote() calls demote_incompat_holders(gl, first_gh) only once a waiter has passed
 *      may_grant(gl, first_gh, gh), first_gh being the first strong holder; with none (the weak
 *      holder is the only one) first_gh is NULL, may_grant(gl, NULL, weak) compares the weak
 *      holder with gl_state, which it matches, and nothing is demoted ("when the glock had no
 *      strong holders, we were accidentally calling demote_incompat_holders() with new_gh == NULL,
 *      so no weak holders were considered incompatible": "gfs2: do_promote glock holder stealing
 *      fix", Peterson, June 2022, after 5.18 had stopped using auto-demotion, e1fa9ea85ce8).
 *   2. A waiter that needs a state change (SH on a DF glock) fails may_grant; not being at the
 *      head of gl_holders (the weak holder is), it makes do_promote() `break`: it waits for the weak
 *      holder to leave. Local demotion only ever frees a waiter that gl_state already admits; remote
 *      requests demote weak holders from gfs2_glock_cb().
 *   3. gfs2_holder_allow_demote() only sets HIF_MAY_DEMOTE under gl_lockref.lock; nothing re-runs
 *      the queue, so a request queued before it is looked at again only at the next run_queue().
 *   Verdicts these could change under `gfs2`: mmap-buffer-dio-overlap and mmap-buffer-dio-disjoint
 *   (ok / no-progress → a self-wait: the fault-in's SH queues behind the task's own weak DF, and
 *   add_to_queue's trap_recursive skips HIF_MAY_DEMOTE holders, so no BUG()); gup-nofault-reentry
 *   (ok → Kara's two-file deadlock, each fault-in's SH behind the other task's weak DF); the short
 *   returns of the buffered paths (src/schemes/gfs2.test.ts, item 4) become self-waits. 3 alone
 *   changes none of them (measured with allowDemote's re-run removed, 1000 random schedules each:
 *   ok, no-progress, ok): each task queues its conflicting request after its own allow, and that
 *   request runs the queue of the other glock, whose holder has already allowed demotion. With the glocks
 *   EX-cached instead, 1 and 2 grant the fault's request beside the weak holder and nothing waits.
 *   Measured with the DF case approximated (mayGrant counting weak holders, so nothing is ever
 *   demoted): gup-nofault-reentry, mmap-buffer-dio-overlap and mmap-buffer-dio-disjoint all become
 *   `deadlock` under gfs2, in the first random schedule each, and so does item 4's read.
 *   Which of the two a real node sees depends on the glock's history, which one node without
 *   gl_state cannot follow. The model follows the design the commit message describes, which no
 *   kernel's do_promote() implements for a local waiter that needs a state change (2 still holds
 *   after the 2022 fix); it is what the matrix's gfs2 row records (docs/scenarios.md), and the
 *   differences are listed in docs/fidelity.md.
 * - gfs2_glock_nq() error returns (withdraw, try locks) are not modelled: every request waits.
 */
import { assert, InvariantError } from '../../sim/assert.js';
import { record } from '../../sim/footprint.js';
import { type Task, type Waitable, waitableObj } from '../../sim/task.js';
import { WaitQueue } from '../../sim/waitqueue.js';
import { attrs, type LockAttrs, noteAcquired, noteReleased, uniqueTasks } from '../../sync/held.js';

export type GlockState = 'EX' | 'SH' | 'DF';

const LM_ST: Record<GlockState, string> = {
  EX: 'LM_ST_EXCLUSIVE',
  SH: 'LM_ST_SHARED',
  DF: 'LM_ST_DEFERRED',
};

/**
 * Lockdep's view: SH and DF are each shared within themselves and exclude each other. Footprints:
 * SH and DF grants and releases are group accesses of the glock (src/sim/footprint.ts), EX ones
 * writes. Two of them in one mode commute: a request is granted at once only when nobody waits
 * (do_promote grants in queue order, so a request behind a waiter sleeps, which writes the glock),
 * and then neither can make the other wait; a release that lets do_promote grant a waiter wakes it,
 * which writes the glock too — and since no request is granted past a waiter, which release of a
 * mode is the last one is decided by releases alone, each of which the waking one conflicts with.
 * A holder's demotion flag changes write the glock (a conflicting request reads the flag), and
 * gfs2_holder_queued() reads it.
 */
const LOCKDEP: Record<GlockState, LockAttrs> = {
  EX: attrs(0, '', false),
  SH: attrs(1, 'SH', false, 0),
  DF: attrs(1, 'DF', false, 1),
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

/**
 * The glock's state across nodes (src/fs/gfs2/cluster.ts): null on one node. Glock calls it where
 * glock.c calls run_queue() and where may_grant() compares a request with gl_state.
 */
export interface GlockRemote {
  /** may_grant() without a strong holder: does gl_state admit a holder in `state`? */
  admits(state: GlockState): boolean;
  /** run_queue(): a pending demotion, else do_promote() and a state change for its head waiter. */
  runQueue(t: Task): void;
  /**
   * Records an access to the glock's state for the explorer (src/sim/footprint.ts): across nodes
   * another node's callback may change a holder (demoteForRemote) between two of its owner's steps.
   */
  touch(): void;
}

export class Glock implements Waitable {
  readonly lockClass = 'glock';
  /** The glock across nodes, or null (one node: the model above). */
  remote: GlockRemote | null = null;
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
    t.touch(waitableObj(this), true);
    if (t.tracing) t.event('gfs2_holder_allow_demote', `${this.name} ${gh.state}`);
    this.doPromote(t);
  }

  /** gfs2_holder_disallow_demote(). */
  disallowDemote(t: Task, gh: Gfs2Holder): void {
    this.remote?.touch();
    gh.mayDemote = false;
    t.touch(waitableObj(this), true);
  }

  /** gfs2_holder_queued(): still a holder (or waiter), i.e. not demoted meanwhile. */
  queued(gh: Gfs2Holder): boolean {
    this.remote?.touch();
    // A demotion (another task's step) changes the answer: the running step reads the glock.
    record(waitableObj(this), false);
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

  /**
   * gfs2_glock_cb(), before handle_callback: with no strong holder left, a remote request (EX for
   * a callback to UN) dequeues the weak holders it conflicts with — "we only want to demote the
   * holders if the request comes from a remote cluster node" (the mock holder of 5.16).
   */
  demoteForRemote(t: Task, state: GlockState): void {
    if (this.queue.some((h) => h.holder && !h.mayDemote)) return;
    for (const h of [...this.queue]) {
      if (!h.holder || glockCompatible(h.state, state)) continue;
      if (t.tracing)
        t.event(
          'demote_incompat_holders',
          `${this.name}: ${h.task}'s ${h.state} holder demoted for a remote ${state} request`,
        );
      this.dequeue(t, h, 'gfs2_glock_cb');
    }
  }

  /** Is any holder granted (find_first_holder)? */
  hasHolder(): boolean {
    return this.queue.some((gh) => gh.holder);
  }

  /** run_queue() across nodes, else do_promote() (one node: every state is always there). */
  private doPromote(t: Task): void {
    if (this.remote) this.remote.runQueue(t);
    else this.promote(t);
  }

  /**
   * do_promote(): grants waiters from the head, in order, demoting weak holders they conflict
   * with. Returns the waiter it stopped at if it heads gl_holders (no holder: it needs a state
   * change, do_promote's `return 1`), else null.
   */
  promote(t: Task): Gfs2Holder | null {
    for (const gh of [...this.queue]) {
      if (!gh.waiting) continue;
      if (!this.mayGrant(gh)) return this.queue[0] === gh ? gh : null;
      this.demoteIncompatHolders(t, gh);
      gh.waiting = false;
      gh.holder = true;
      this.wq.wakeTask(gh.task);
    }
    return null;
  }

  /** may_grant(): compatible with every holder that may not be demoted, and with gl_state. */
  private mayGrant(gh: Gfs2Holder): boolean {
    for (const h of this.queue) {
      if (h.holder && !h.mayDemote && !glockCompatible(h.state, gh.state)) return false;
    }
    return this.remote === null || this.remote.admits(gh.state);
  }

  /** demote_incompat_holders(): dequeues each weak holder the new holder conflicts with. */
  private demoteIncompatHolders(t: Task, gh: Gfs2Holder): void {
    for (const h of [...this.queue]) {
      if (!h.holder || !h.mayDemote || glockCompatible(h.state, gh.state)) continue;
      if (t.tracing)
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
