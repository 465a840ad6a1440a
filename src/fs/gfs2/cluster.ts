/**
 * A glock across nodes (fs/gfs2/glock.c): the node-side state machine of one inode glock on one
 * node, between that node's holders (src/fs/gfs2/glock.ts) and the DLM (./dlm.ts).
 *
 * What is modelled, named as in glock.c:
 * - gl_state, and may_grant()'s test of a request against it when no strong holder decides:
 *   the same state, or SH or DF under EX (`if (gl->gl_state == LM_ST_EXCLUSIVE) return
 *   gh->gh_state == LM_ST_SHARED || gh->gh_state == LM_ST_DEFERRED;`).
 * - run_queue(): with GLF_DEMOTE set and gl_demote_state != gl_state, nothing is promoted; the
 *   demotion waits until no holder is left (`if (find_first_holder(gl)) goto out_unlock;`), then
 *   do_xmote(gl_demote_state). Otherwise do_promote(), and if the head waiter needs a state change,
 *   do_xmote(its state). GLF_LOCK: one state change at a time.
 * - do_xmote(): ->go_sync, then ->go_inval if the target is UN or DF
 *   (`glops->go_inval(gl, target == LM_ST_DEFERRED ? 0 : DIO_METADATA)`), then lm_lock (the DLM
 *   conversion: gdlm_lock, which sleeps here until gdlm_ast), then finish_xmote(): gl_state =
 *   target, GLF_DEMOTE cleared once reached (gfs2_demote_wake), run_queue again.
 * - gfs2_glock_cb(): with no strong holder, the weak holders (HIF_MAY_DEMOTE) the remote request
 *   conflicts with are dequeued first (Glock.demoteForRemote); then handle_callback(): GLF_DEMOTE and gl_demote_state (a second, different
 *   target becomes UN: `else if (gl->gl_demote_state != LM_ST_UNLOCKED && gl->gl_demote_state !=
 *   state) gl->gl_demote_state = LM_ST_UNLOCKED;`), then the glock work runs run_queue.
 * - The glock work (glock_work_func on glock_workqueue) is a task of the node, `glock_wq@NODE`,
 *   spawned for each state change; the go_sync / go_inval of the inode glock (inode_go_sync,
 *   inode_go_inval: src/schemes/gfs2.ts) run in it, on that node's mapping.
 *
 * Departures, and why:
 * - A promotion's do_xmote runs in the glock work too, where Linux runs it in the requester's
 *   run_queue (gfs2_glock_nq → run_queue(gl, 1) → do_xmote): the requester sleeps until
 *   finish_xmote either way, and the work needs a task that may sleep in go_sync/go_inval.
 * - A local request that needs a state change waits for a weak (HIF_MAY_DEMOTE) holder ahead of
 *   it, as 5.16's do_promote does (`break` at a waiter that fails may_grant and is not first:
 *   case 2 of glock.ts), where the one-node model demotes it (the design of dc732906c245). Only
 *   remote requests demote weak holders here (gfs2_glock_cb). No two-nodes scenario has a task
 *   whose own fault-in needs a state change of the glock it holds weakly.
 * - No minimum hold time (gl_hold_time, GLF_PENDING_DEMOTE): a callback demotes as soon as the
 *   holders are gone. That can only shorten a node's tenure, never reorder what the glock orders.
 * - The dinode and block map are one object every node shares (src/fs/fs.ts, Inode): a grant after
 *   UN re-reads them in Linux (GLF_INSTANTIATE_NEEDED → gfs2_inode_refresh); sharing them is that
 *   refresh done at every change. A node that reads them without the glock (gfs2-nodf-read) still
 *   sees the current map: the stale block map it could use in Linux is not modelled.
 */
import { InvariantError } from '../../sim/assert.js';
import { record } from '../../sim/footprint.js';
import type { Task } from '../../sim/task.js';
import { DLM_MODE, type DlmLockOwner, type DlmResource, type LmState } from './dlm.js';
import type { Glock, GlockRemote, GlockState } from './glock.js';

/** A glock's ->go_sync and ->go_inval (struct gfs2_glock_operations), run by the glock work. */
export interface GlockOperations {
  goSync(t: Task, gl: GlockCluster): Promise<void>;
  goInval(t: Task, gl: GlockCluster, target: LmState): Promise<void>;
}

export class GlockCluster implements GlockRemote, DlmLockOwner {
  /** gl_state. */
  glState: LmState = 'UN';
  /** GLF_DEMOTE with gl_demote_state, or null. */
  demoteState: LmState | null = null;
  /** GLF_LOCK: a do_xmote is in flight. */
  private xmoting = false;
  /** GIF_SW_PAGED (set by gfs2_page_mkwrite): go_sync unmaps the shared mappings first. */
  swPaged = false;
  /** State changes done (DLM requests made): what the fairness measure counts. */
  xmotes = 0;

  constructor(
    readonly node: string,
    readonly gl: Glock,
    readonly res: DlmResource,
    readonly glops: GlockOperations,
  ) {}

  /** may_grant() against gl_state. */
  admits(state: GlockState): boolean {
    if (this.glState === state) return true;
    return this.glState === 'EX' && (state === 'SH' || state === 'DF');
  }

  touch(): void {
    record(this.res.obj, true);
  }

  /** run_queue(). */
  runQueue(t: Task): void {
    record(this.res.obj, true);
    if (this.xmoting) return;
    if (this.demoteState !== null && this.demoteState !== this.glState) {
      if (this.gl.hasHolder()) return;
      this.queueXmote(t, this.demoteState, 0);
      return;
    }
    this.demoteState = null;
    const gh = this.gl.promote(t);
    if (gh) this.queueXmote(t, gh.state, 0);
  }

  /** gfs2_glock_cb() → handle_callback(), then the glock work's run_queue. */
  callback(t: Task, state: LmState, delay: number): void {
    record(this.res.obj, true);
    this.gl.demoteForRemote(t, state === 'UN' ? 'EX' : state);
    const was = this.demoteState;
    // A second, different target: UN.
    const target: LmState = was === null || was === state ? state : 'UN';
    this.demoteState = target;
    if (t.tracing) t.event('gfs2_glock_cb', `${this.gl.name}: demote to ${target} (holding ${this.glState})`);
    if (this.xmoting || target === this.glState || this.gl.hasHolder()) return;
    this.queueXmote(t, target, delay);
  }

  /** GLF_LOCK, and the glock work that runs do_xmote(target), `delay` ticks from now. */
  private queueXmote(t: Task, target: LmState, delay: number): void {
    this.xmoting = true;
    t.sim.spawn(`glock_wq@${this.node}`, (w) => this.doXmote(w, target), { time: t.time + delay });
  }

  /**
   * do_xmote() … finish_xmote(), with finish_xmote's answer to a failed conversion (-EDEADLK:
   * the state did not change): "Conversion fails, unlock and try again" from SH or DF —
   * do_xmote(UN), then "Unlocked due to conversion deadlock, try again", do_xmote(target); from
   * EX, `GLOCK_BUG_ON(gl, 1)`.
   */
  private async doXmote(w: Task, target: LmState): Promise<void> {
    let to = target;
    for (;;) {
      record(this.res.obj, true);
      const from = this.glState;
      if (w.tracing)
        w.event('do_xmote', `${this.gl.name}: ${from} → ${to} (${DLM_MODE[from]} → ${DLM_MODE[to]})`);
      await this.glops.goSync(w, this);
      if (to === 'UN' || to === 'DF') await this.glops.goInval(w, this, to);
      this.xmotes++;
      if (await this.res.lock(w, this, to)) {
        if (to === target) break;
        this.glState = to;
        to = target;
        continue;
      }
      if (from === 'EX')
        throw new InvariantError(`${this.gl.name}: finish_xmote: wanted ${to} got EX: GLOCK_BUG_ON(gl, 1)`);
      if (w.tracing)
        w.event(
          'finish_xmote',
          `${this.gl.name}: conversion to ${to} failed (-EDEADLK): unlock and try again`,
        );
      to = 'UN';
    }
    this.finishXmote(w, target);
  }

  /**
   * finish_xmote(): the new gl_state, the demotion done (gfs2_demote_wake), and do_promote()
   * before anything else — a holder waiting for this state gets it even if a callback came in
   * meanwhile (`if (state != LM_ST_UNLOCKED) { ... rv = do_promote(gl); ... }`); the glock work's
   * run_queue then demotes once those holders are done.
   */
  private finishXmote(w: Task, state: LmState): void {
    record(this.res.obj, true);
    this.glState = state;
    this.xmoting = false;
    if (this.demoteState === state) this.demoteState = null;
    if (w.tracing) w.event('finish_xmote', `${this.gl.name}: gl_state ${state}`);
    if (state !== 'UN') this.gl.promote(w);
    this.runQueue(w);
  }
}
