/**
 * The DLM as GFS2 uses it (fs/gfs2/lock_dlm.c over fs/dlm): one lock resource per glock, in which
 * each node holds one lock in one mode, converted up and down. make_mode() maps the glock states:
 *
 *   UN (LM_ST_UNLOCKED) → NL    compatible with everything
 *   SH (LM_ST_SHARED)   → PR    with NL, PR
 *   DF (LM_ST_DEFERRED) → CW    with NL, CW
 *   EX (LM_ST_EXCLUSIVE)→ EX    with NL
 *
 * What is modelled:
 * - gdlm_lock(): a node's first request, then conversions (DLM_LKF_CONVERT), with DLM_LKF_QUECVT
 *   for every conversion but a down_conversion() — make_flags() as lock_dlm.c has it since QUECVT
 *   stopped being passed for down conversions ("only for "upward" lock conversions or else DLM
 *   will reject the request as invalid"); 5.16 derived it from GLF_BLOCKING, set by do_xmote unless
 *   the glock goes to or from UN, which also marks an EX → PR/CW demotion QUECVT. The model
 *   follows the later rule: under 5.16's, a demotion from EX with a request queued behind it
 *   fails conversion_deadlock_detect, and finish_xmote has no answer to that from EX.
 *   _can_be_granted() decides, as in fs/dlm/lock.c: compatible with every other lock's granted
 *   mode; a conversion at once unless QUECVT finds the convert queue busy, else in convert-queue
 *   order; a new request only with no conversion pending, in wait-queue order.
 * - do_convert()'s -EDEADLK: a conversion whose granted mode blocks a queued conversion
 *   (conversion_deadlock_detect) fails at once and keeps its mode; gfs2 has no CONVDEADLK. GFS2's
 *   finish_xmote then unlocks and tries again (src/fs/gfs2/cluster.ts).
 * - gdlm_bast(): a request that cannot be granted sends a blocking AST to each node whose granted
 *   mode conflicts with it, once per node and request; gdlm_bast turns the requested mode into
 *   the state the holder must drop to (EX → LM_ST_UNLOCKED, CW → LM_ST_DEFERRED, PR →
 *   LM_ST_SHARED) and calls gfs2_glock_cb on that node (src/fs/gfs2/cluster.ts).
 * - gdlm_ast(): the completion; the requesting node's glock work sleeps in gdlm_lock until then.
 * - Latency: `option dlm-latency=N` is one DLM round trip in virtual ticks. A request's grant costs
 *   the requester one round trip; a blocking AST reaches its node half a round trip (rounded up)
 *   after the request. Virtual time is a measure (src/sim/sched.ts), not an order: a message
 *   overtakes nothing, the wait for the grant is what orders the nodes.
 *
 * Departures, and why: no lock master and no directory (one resource, every node equally far);
 * a blocking AST per blocked request and conflicting node, where grant_pending_locks() sends one
 * per granted lock for the highest blocked mode (lkb_highbast): the holder is called back either
 * way, possibly with a different target (PR vs CW); no LM_FLAG_TRY / TRY_1CB / NOEXP / PRIORITY
 * requests, no lock value blocks, no recovery.
 */
import { objectId, record } from '../../sim/footprint.js';
import type { Task, Waitable } from '../../sim/task.js';
import { WaitQueue } from '../../sim/waitqueue.js';
import type { GlockState } from './glock.js';

/** A glock's state: LM_ST_UNLOCKED or one of the held states. */
export type LmState = 'UN' | GlockState;

/** make_mode() (lock_dlm.c). */
export const DLM_MODE: Record<LmState, string> = { UN: 'NL', SH: 'PR', DF: 'CW', EX: 'EX' };

/** The DLM's compatibility of two granted modes, in glock states. */
export function dlmCompatible(a: LmState, b: LmState): boolean {
  if (a === 'UN' || b === 'UN') return true;
  return a === b && a !== 'EX';
}

/** DLM modes by strength (NL < CR < CW < PR < PW < EX), for down_conversion(). */
const RANK: Record<LmState, number> = { UN: 0, DF: 2, SH: 3, EX: 5 };

/**
 * down_conversion() (lock_dlm.c): to a weaker mode, PR ↔ CW excepted (neither is weaker). Only
 * the other conversions get DLM_LKF_QUECVT: "QUECVT ... only for "upward" lock conversions or
 * else DLM will reject the request as invalid".
 */
export function downConversion(cur: LmState, req: LmState): boolean {
  if ((cur === 'SH' && req === 'DF') || (cur === 'DF' && req === 'SH')) return false;
  return RANK[req] < RANK[cur];
}

/** gdlm_bast(): the state a holder must drop to for a request in `requested`. */
export function bastTarget(requested: LmState): LmState {
  return requested === 'EX' ? 'UN' : requested;
}

/** What the DLM calls back on a node: its glock (src/fs/gfs2/cluster.ts, gfs2_glock_cb). */
export interface DlmLockOwner {
  readonly node: string;
  /** gfs2_glock_cb(gl, state) from gdlm_bast, delivered `delay` ticks after `t`'s request. */
  callback(t: Task, state: LmState, delay: number): void;
}

interface Request {
  readonly owner: DlmLockOwner;
  readonly state: LmState;
  readonly task: Task;
  /** DLM_LKF_CONVERT: the node already has a lock here (else a new request). */
  readonly conv: boolean;
  /** DLM_LKF_QUECVT (make_flags: GLF_BLOCKING, a conversion between two held states). */
  readonly quecvt: boolean;
  granted: boolean;
  /** The nodes already sent a blocking AST for this request. */
  readonly basted: Set<DlmLockOwner>;
}

/** One lock resource (a glock's name), with each node's lock in it. */
export class DlmResource implements Waitable {
  readonly lockClass = 'dlm';
  /** Each node's granted mode (grmode), whether on the grant or the convert queue. */
  private readonly granted = new Map<DlmLockOwner, LmState>();
  /** res_convertqueue and res_waitqueue: conversions and new requests not granted yet. */
  private readonly convertQueue: Request[] = [];
  private readonly waitQueue: Request[] = [];
  private readonly wq = new WaitQueue();
  /** Its footprint object: every node's glock of this file reads and writes it. */
  readonly obj: number;

  constructor(
    readonly name: string,
    /** Ticks of one round trip. */
    readonly latency: number,
  ) {
    this.obj = objectId(name);
  }

  /** No task holds a DLM lock: a node does; a waiter waits for other nodes' glock work. */
  holders(): readonly Task[] {
    return [];
  }

  /** The mode `owner` holds (NL if it never asked). */
  grantedTo(owner: DlmLockOwner): LmState {
    return this.granted.get(owner) ?? 'UN';
  }

  /**
   * gdlm_lock() … gdlm_ast(): converts `owner`'s lock to `state` and sleeps until it is granted
   * (true), or fails at once with -EDEADLK (false: the lock keeps its mode), as do_convert()
   * does for a conversion that conversion_deadlock_detect() finds blocking one already queued.
   */
  async lock(t: Task, owner: DlmLockOwner, state: LmState): Promise<boolean> {
    record(this.obj, true);
    const from = this.grantedTo(owner);
    const conv = this.granted.has(owner);
    const quecvt = conv && !downConversion(from, state);
    const req: Request = { owner, state, task: t, conv, quecvt, granted: false, basted: new Set() };
    if (t.tracing)
      t.event(
        'gdlm_lock',
        `${this.name}: node ${owner.node} ${conv ? DLM_MODE[from] : 'new'} → ${DLM_MODE[state]}${quecvt ? ' QUECVT' : ''}`,
      );
    if (this.canBeGranted(req, true)) this.grant(req);
    else if (conv && this.conversionDeadlock(from)) {
      t.time += this.latency;
      if (t.tracing)
        t.event(
          'gdlm_ast',
          `${this.name}: node ${owner.node} ${DLM_MODE[from]} → ${DLM_MODE[state]}: -EDEADLK`,
        );
      return false;
    } else (conv ? this.convertQueue : this.waitQueue).push(req);
    this.grantPendingLocks(t);
    while (!req.granted) await this.wq.wait(t, this, `gdlm_lock(${DLM_MODE[state]})`);
    record(this.obj, true);
    t.time += this.latency;
    if (t.tracing) t.event('gdlm_ast', `${this.name}: node ${owner.node} granted ${DLM_MODE[state]}`);
    return true;
  }

  /**
   * _can_be_granted(): compatible with every other lock's granted mode, and then by queue: a
   * conversion now unless QUECVT finds the convert queue busy; a queued conversion when first in
   * the convert queue; a new request when both queues are empty (now) or it is first in the wait
   * queue with no conversion pending.
   */
  private canBeGranted(req: Request, now: boolean): boolean {
    for (const [o, mode] of this.granted)
      if (o !== req.owner && !dlmCompatible(mode, req.state)) return false;
    if (req.conv) {
      if (now) return !req.quecvt || this.convertQueue.length === 0;
      return this.convertQueue[0] === req;
    }
    if (this.convertQueue.length) return false;
    return now ? this.waitQueue.length === 0 : this.waitQueue[0] === req;
  }

  /** conversion_deadlock_detect(): a queued conversion that `grmode` blocks (lkb2 not queued yet). */
  private conversionDeadlock(grmode: LmState): boolean {
    return this.convertQueue.some((r) => !dlmCompatible(grmode, r.state));
  }

  private grant(req: Request): void {
    req.granted = true;
    this.granted.set(req.owner, req.state);
    this.wq.wakeTask(req.task);
  }

  /** grant_pending_locks(): the convert queue, then the wait queue, then the blocking ASTs. */
  private grantPendingLocks(t: Task): void {
    for (const q of [this.convertQueue, this.waitQueue]) {
      while (q.length && this.canBeGranted(q[0], false)) this.grant(q.shift() as Request);
    }
    this.blockingAsts(t);
  }

  /** send_blocking_asts(): each waiting request calls back every node in its way, once. */
  private blockingAsts(t: Task): void {
    const delay = Math.ceil(this.latency / 2);
    for (const req of [...this.convertQueue, ...this.waitQueue]) {
      for (const [o, mode] of this.granted) {
        if (o === req.owner || dlmCompatible(mode, req.state) || req.basted.has(o)) continue;
        req.basted.add(o);
        if (t.tracing)
          t.event(
            'gdlm_bast',
            `${this.name}: node ${req.owner.node} wants ${DLM_MODE[req.state]}: call back node ${o.node} (${DLM_MODE[mode]})`,
          );
        o.callback(t, bastTarget(req.state), delay);
      }
    }
  }
}

/** The cluster's lock manager: one resource per glock name. */
export class Dlm {
  private readonly resources = new Map<string, DlmResource>();

  constructor(readonly latency: number) {}

  resource(name: string): DlmResource {
    let r = this.resources.get(name);
    if (!r) {
      r = new DlmResource(name, this.latency);
      this.resources.set(name, r);
    }
    return r;
  }
}
