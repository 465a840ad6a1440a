/**
 * State caching for the complete search (`--preemptions all`): at every decision the DFS computes
 * a key for the whole state — the model's objects and each task's position — and a subtree already
 * explored from an equal state is not explored again (SPIN's and TLC's visited-state sets).
 *
 * The key is H(G, positions):
 * - G: the canonical hash (src/sim/statehash.ts) of everything reachable from the world (device,
 *   filesystem, inodes and page cache, address space, buffers, the durable block maps) and the
 *   scheduler (every task's fields — locks held, state, wait, virtual time — the run queue and the
 *   step count, since a run that hits the step bound is a livelock candidate). The history, which
 *   the oracles judge at the end, is part of G through its oracle-relevant projection
 *   (`hashHistory`): every record in full but for its start and end ticks, which the oracles only
 *   compare (`a.end < b.start`) and only for contended ops (src/litmus/contention.ts): a contended
 *   op's ticks are hashed as their rank among the contended ticks, an uncontended op's as
 *   "started" / "ended". Every future tick is larger than every past one, so ranks decide every
 *   comparison the oracles will make.
 * - positions. A task is an async function: its continuation (locals, the awaits it is parked in)
 *   cannot be read. It is pinned down instead by what it depends on. A step is deterministic: what
 *   a task does in it is a function of its continuation and of the state when the step starts. So
 *   a task's continuation is a function of (the continuation it started from, the state at the
 *   start of each step it took since). The position of a *family* — a task and the bio completion
 *   tasks it spawned, which share its locals (a bio's end_io closes over the submitter's dio) — is
 *   a hash chain: at each step of a member, H(position, member, the previous stepper, G at the
 *   step's start). (G is hashed at each step's end, before the scheduler charges the step; the
 *   previous stepper says whose time and count it then charged.) A litmus task between two ops
 *   carries nothing but the op index (world.ts, Task.freshContinuation): there, if no other
 *   member of its family is alive, the chain restarts at H(index, G then). Two states with equal G
 *   and equal chains are equal; a chain only ever says "different" too often: paths that reached
 *   the same op of every task through different interleavings of the earlier ops meet, and the
 *   interleaving of the ops in progress must match.
 *
 * A hash collision would prune a state that is not equal: the 64-bit keys make that about n²/2^65
 * over n states.
 */

import { TAG_FIRST_OP } from '../block/data.js';
import type { History } from '../check/history.js';
import type { Scenario } from '../litmus/ast.js';
import { contendedOps } from '../litmus/contention.js';
import type { World } from '../litmus/world.js';
import { Sim } from '../sim/sched.js';
import { hashTask, StateHasher, type StateHashHooks } from '../sim/statehash.js';
import { Task, TaskState } from '../sim/task.js';

export type Hash = [number, number];

/** What the first visit of a state explored, for deciding a later visit and for DPOR's races. */
export interface CacheEntry {
  /** Tasks asleep at the first visit (sorted): a later visit may be pruned only if they sleep then. */
  readonly sleep: number[];
  /** Per task, every access of every step taken below the state (DPOR's races on a cache hit). */
  readonly summary: Map<number, Set<number>>;
  /** The subtree below the state is explored in full. */
  done: boolean;
}

/** The visited states of one search, and its counts. */
export class StateCache {
  readonly entries = new Map<string, CacheEntry>();
  /** Decisions whose state was looked up. */
  lookups = 0;
  /** Runs cut at a state already explored. */
  hits = 0;

  get states(): number {
    return this.entries.size;
  }
}

function keyOf(h: Hash): string {
  return `${h[0].toString(36)}.${h[1].toString(36)}`;
}

function mix(seed: Hash, ...xs: number[]): Hash {
  const h = new StateHasher(NO_HOOKS, seed[0], seed[1]);
  for (const x of xs) h.int(x);
  return h.digest();
}

const NO_HOOKS: StateHashHooks = { skip: new Set() };

/** The tags of a scenario's contended ops (the tags world.ts hands out: in task, then op order). */
function contendedTags(s: Scenario): Set<number> {
  const contended = contendedOps(s);
  const tags = new Set<number>();
  let tag = TAG_FIRST_OP;
  for (const t of s.tasks) {
    for (const op of t.ops) {
      if (contended.has(op)) tags.add(tag);
      tag++;
    }
  }
  return tags;
}

/**
 * The history as the oracles will see it (see the top): each record but for its ticks, a contended
 * op's ticks as their rank among the contended ones, an uncontended op's as set or not.
 */
function hashHistory(hist: History, contended: ReadonlySet<number>, h: StateHasher): void {
  const ticks: number[] = [];
  for (const r of hist.ops) {
    if (!contended.has(r.tag)) continue;
    ticks.push(r.start);
    if (r.end > 0) ticks.push(r.end);
  }
  ticks.sort((a, b) => a - b);
  const rank = (x: number) => (x > 0 ? ticks.indexOf(x) + 1 : 0);
  h.str('History');
  h.int(hist.ops.length);
  // In op (tag) order: the array is in start order, which the oracles read through the ticks only.
  for (const r of [...hist.ops].sort((a, b) => a.tag - b.tag)) {
    const c = contended.has(r.tag);
    const rec = r as unknown as Record<string, unknown>;
    for (const k of Object.keys(r)) {
      h.str(k);
      if (k === 'start' || k === 'end') h.int(c ? rank(r[k]) : r[k] > 0 ? 1 : 0);
      else h.value(rec[k]);
    }
  }
}

/**
 * What a StateTracker knows at a decision (the positions and the last G), kept in the decision's
 * node so that a later run replaying up to it need not hash the steps before it: replay is
 * deterministic, so that run reaches the decision with exactly this.
 */
export interface TrackerSnapshot {
  readonly chain: ReadonlyMap<number, Hash>;
  readonly gPrev: Hash;
  readonly lastStepper: number;
}

/**
 * The state of one run, followed step by step: G at each step's boundary, each family's position,
 * and the key at a decision.
 */
export class StateTracker {
  private world: World | null = null;
  private sim: Sim | null = null;
  private hooks: StateHashHooks = NO_HOOKS;
  private contended: ReadonlySet<number> = new Set();
  /** Each task's family: the task it descends from that was spawned before the run. */
  private readonly family: number[] = [];
  private readonly chain = new Map<number, Hash>();
  /** Families whose position restarted during the step now running. */
  private readonly fresh = new Set<number>();
  /** G when the running step started (hashed when the previous one ended). */
  private gPrev: Hash = [0, 0];
  private lastStepper = -1;
  /**
   * The run is replaying a prefix whose last decision has a snapshot: the steps up to it are not
   * hashed (hashing G at every step is most of a stateful run's cost), and `restore` sets what
   * hashing them would have computed.
   */
  private replaying = false;

  constructor(readonly cache: StateCache) {}

  /** Skips hashing until `restore` (the run replays a prefix to a decision with a snapshot). */
  skipReplay(): void {
    this.replaying = true;
  }

  snapshot(): TrackerSnapshot {
    return { chain: new Map(this.chain), gPrev: this.gPrev, lastStepper: this.lastStepper };
  }

  /** At the decision the snapshot was taken at, in an earlier run: go on from there. */
  restore(s: TrackerSnapshot): void {
    this.chain.clear();
    for (const [k, v] of s.chain) this.chain.set(k, v);
    this.gPrev = s.gPrev;
    this.lastStepper = s.lastStepper;
    this.fresh.clear();
    this.replaying = false;
  }

  /** Called once the world is built and its tasks spawned, before the first step. */
  attach(sim: Sim, world: World): void {
    this.sim = sim;
    this.world = world;
    const s = world.scenario;
    this.contended = contendedTags(s);
    // Built once per run: the scenario, the scheme and the reference model's initial state are the
    // same in every run and never change.
    this.hooks = {
      skip: new Set<object>([s, world.scheme, world.scheme.ops, world.initial]),
      custom: (o, h) => this.custom(o, h),
    };
    if (!this.replaying) this.gPrev = this.hashG();
  }

  private custom(o: object, h: StateHasher): boolean {
    if (o instanceof Task) {
      hashTask(o, h);
      return true;
    }
    if (o instanceof Sim) {
      h.str('Sim');
      h.int(o.steps);
      // An exited task is gone (its id stays taken): only a live object that still refers to it
      // (a lock's owner) hashes its fields, there. Bio completions are numbered by a device-wide
      // counter, so two orders of the same bios leave differently named exited tasks.
      h.int(o.tasks.length);
      for (const t of o.tasks) {
        if (t.state === TaskState.Done) h.int(-1);
        else h.value(t);
      }
      h.value((o as unknown as { runq: Task[] }).runq);
      return true;
    }
    if (this.world && o === this.world.history) {
      hashHistory(this.world.history, this.contended, h);
      return true;
    }
    return false;
  }

  /** G: the hash of the world and the scheduler as they are now. */
  hashG(): Hash {
    const h = new StateHasher(this.hooks);
    h.value(this.world);
    h.value(this.sim);
    return h.digest();
  }

  spawned(t: Task, parent: Task | null): void {
    const fam = parent ? this.family[parent.id] : t.id;
    this.family[t.id] = fam;
    if (!parent && !this.replaying) this.chain.set(fam, mix([0x5eed, fam], t.id));
  }

  /** A litmus task between two ops (Task.freshContinuation): its position restarts. */
  freshContinuation(t: Task, index: number): void {
    if (this.replaying) return;
    const fam = this.family[t.id];
    const tasks = this.sim?.tasks ?? [];
    for (const o of tasks) if (o !== t && this.family[o.id] === fam && o.state !== TaskState.Done) return;
    this.chain.set(fam, mix(this.hashG(), 0xf2e5, t.id, index));
    this.fresh.add(fam);
  }

  /** The step of `t` ended: its family's position absorbs the state the step started from. */
  stepEnded(t: Task): void {
    if (this.replaying) return;
    const fam = this.family[t.id];
    if (this.fresh.has(fam)) this.fresh.delete(fam);
    else {
      const [a, b] = this.gPrev;
      this.chain.set(fam, mix(this.chain.get(fam) ?? [0, 0], t.id, this.lastStepper, a, b));
    }
    this.gPrev = this.hashG();
    this.lastStepper = t.id;
  }

  /** The key of the state at a decision: G, who stepped last, and every live family's position. */
  key(): string {
    if (this.replaying) throw new Error('stateful: a key asked for while replaying');
    const tasks = this.sim?.tasks ?? [];
    const [a, b] = this.gPrev;
    const xs = [this.lastStepper, a, b];
    const live = new Set<number>();
    for (const t of tasks) if (t.state !== TaskState.Done) live.add(this.family[t.id]);
    for (const fam of [...live].sort((x, y) => x - y)) {
      const [ca, cb] = this.chain.get(fam) ?? [0, 0];
      xs.push(fam, ca, cb);
    }
    return keyOf(mix([0x57a7e, xs.length], ...xs));
  }
}
