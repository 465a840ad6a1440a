/**
 * Exhaustive, preemption-bounded search by re-execution (CHESS's iterative context bounding, with
 * loom's stateless replay), with dynamic partial-order reduction: Flanagan and Godefroid's DPOR
 * (POPL 2005) with sleep sets (Godefroid), on the footprints the runtime records for every step
 * (src/sim/footprint.ts: what the step's scheduling point declared, plus every lock, wait queue and
 * completion the step touched).
 *
 * Each run replays a prefix of choices and then follows the non-preemptive default (keep running
 * the current task; when it blocks or exits, the lowest awake runnable id). Every decision (a point
 * where two or more tasks could run) is a node; every step, decided or forced, is an event.
 *
 * DPOR. Happens-before is tracked with vector clocks: program order, dependence (two steps whose
 * footprints conflict, in the order they ran), task creation and wake-up. When a step of task q
 * conflicts with the latest earlier step i of another task that does not happen before q, the two
 * could run the other way round: q is added to the backtrack set of the decision that ran i (or,
 * if q could not run there, every task that could). Only backtrack sets are explored: choices whose
 * reordering could not change any state are never tried. Without POR (`--no-por`) every runnable
 * task is in every backtrack set: the plain bounded DFS.
 *
 * The preemption bound breaks DPOR's argument (the reversal a race asks for may cost a preemption
 * the bound forbids, where an earlier switch would not): as loom does (after Coons, Musuvathi and
 * McKinley, "Bounded partial-order reduction", OOPSLA 2013), the task is also added at the latest
 * decision before that one where the running task changed — a context switch that costs nothing.
 *
 * Sleep sets: after the subtree of choice p at a node is explored, p sleeps in its later siblings'
 * subtrees for as long as the steps taken there are independent of the step p took at the node
 * (recorded when it ran); a run whose runnable tasks are all asleep is abandoned as equivalent to
 * one already explored ("pruned").
 *
 * The certificate is exactly what was covered: "all N schedules with ≤ K preemptions, M pruned as
 * equivalent", for the model as it records its footprints (a footprint that missed an access
 * would make the certificate claim too much: src/sim/footprint.ts says what is recorded). Under a
 * preemption bound a sleeper is kept only where the run it stands for fits the bound too
 * (boundedSleep; campaign-2172 under xfs at ≤ 1 was missed before; docs/architecture.md).
 */

import {
  ANYTHING,
  accessesConflict,
  accessObject,
  compactFootprint,
  dependent,
  isGroupAccess,
  isWriteAccess,
} from '../sim/footprint.js';
import type { Sim, Strategy } from '../sim/sched.js';
import { type Task, TaskState } from '../sim/task.js';
import { DEFAULTS } from './defaults.js';
import type { CacheEntry, StateTracker, TrackerSnapshot } from './stateful.js';

/** One decision of a run: who could run, who ran, what is left to explore here. */
export interface DfsNode {
  runnable: number[];
  chosen: number;
  current: number;
  currentRunnable: boolean;
  preemptionsBefore: number;
  /** Choices to explore here (DPOR adds to it as races are found below). */
  backtrack: Set<number>;
  /** Choices whose subtrees are done (or being explored) at this node. */
  done: Set<number>;
  /** Tasks asleep entering this node, with the footprint of the step they would take. */
  sleep: Map<number, number[]>;
  /** The footprint of the step each explored choice took from this node. */
  steps: Map<number, number[]>;
  /** The explored choices that were still runnable after that step (boundedSleep). */
  runnableAfter?: Set<number>;
  /**
   * Per explored choice, the footprint of its whole run of the CPU from this node: every step it
   * took until it blocked or exited, in the run that first explored it here (boundedSleep).
   */
  blocks?: Map<number, number[]>;
  /** The stateful search: the visited state this decision is (its first visit). */
  entry?: CacheEntry;
  /** The stateful search: the positions at this decision, for a run that replays up to it. */
  snap?: TrackerSnapshot;
}

/** The strategy of one DFS run: replays the prefix nodes, then the default, recording as it goes. */
export class DfsRunStrategy implements Strategy {
  readonly name = 'dfs';
  readonly nodes: DfsNode[] = [];
  private preemptions = 0;
  /** Sleepers now (after the last decision, filtered by every step since). */
  private sleep = new Map<number, number[]>();
  /** The node whose chosen task is running its first step, or -1 (a forced step). */
  private pendingNode = -1;
  // Events (steps), in order: task, node (-1 if forced), vector clock.
  private readonly evTask: number[] = [];
  private readonly evNode: number[] = [];
  private readonly evClock: number[][] = [];
  /** Each event's footprint (kept for the races of a state-cache hit only). */
  private readonly evFp: number[][] = [];
  /** The stateful search: the deepest visited state on this run's path so far. */
  private openEntry: CacheEntry | null = null;
  /** Each task's last event. */
  private readonly lastOf: number[] = [];
  /**
   * Per object: its last write, the reads since (one per task), and the group accesses since (one
   * per task and group, `groups` their encoded accesses: src/sim/footprint.ts).
   */
  private readonly objects = new Map<number, ObjectAccesses>();
  private lastAnything = -1;
  /** conflicts()'s result, reused from step to step. */
  private readonly conflictBuf: number[] = [];
  /** Each task's vector clock: its last step's, joined with creation and wake-up edges. */
  private readonly clocks: number[][] = [];
  /** Tasks created or woken by the running step: they inherit its clock once it ends. */
  private readonly inherit: number[] = [];
  /** Steps recorded so far; past `porSteps` the run is saturated (see saturate). */
  private events = 0;
  private saturated = false;
  /** The task running its block of steps (blocks), the decisions it passed, and their first events. */
  private blockTask = -1;
  private readonly blockNodes: number[] = [];
  private readonly blockEvents: number[] = [];

  constructor(
    /** Live nodes of the previous run, the last one already switched to its new choice. */
    private readonly prefixNodes: readonly DfsNode[],
    private readonly usePor: boolean,
    private readonly bound: number,
    /** Decisions below this index belong to a work unit's prefix: never backtracked. */
    private readonly floor = 0,
    /** The stateful search (`--preemptions all`): the run's state, and the visited states. */
    private readonly stateful: StateTracker | null = null,
    /**
     * Steps of one run after which DPOR stops tracking it and treats the rest as the plain DFS
     * (saturate). Vector clocks have a slot per task, and a livelock that submits a bio per retry
     * spawns a task per retry: tracking 20,000 steps of one was quadratic (minutes for one run).
     * Not with the stateful search, whose cached states' summaries need every step's accesses.
     */
    private readonly porSteps = Number.POSITIVE_INFINITY,
  ) {
    // Without POR nothing needs footprints: the Sim records none (Sim.recording) and runs faster.
    if (usePor || stateful) {
      this.onStep = (t, fp) => {
        if (usePor) this.stepped(t, fp);
        if (stateful) {
          stateful.stepEnded(t);
          if (usePor) this.summarise(t.id, this.evFp[this.evFp.length - 1]);
        }
      };
      this.onSpawn = (t, parent) => {
        if (usePor) this.spawned(t, parent);
        stateful?.spawned(t, parent);
      };
    }
    if (usePor) this.onWake = (t, by) => this.woken(t, by);
    if (usePor) this.onStop = (t, runnable) => this.stopped(t, runnable);
    if (stateful) this.onFreshContinuation = (t, index) => stateful.freshContinuation(t, index);
    // The steps replayed up to the last prefix decision need no hashing: its snapshot says what
    // they would give (pick restores it there).
    if (stateful && prefixNodes[prefixNodes.length - 1]?.snap) stateful.skipReplay();
  }

  onStep?: (t: Task, fp: readonly number[]) => void;
  onSpawn?: (t: Task, parent: Task | null) => void;
  onWake?: (t: Task, by: Task | null) => void;
  onFreshContinuation?: (t: Task, index: number) => void;
  onStop?: (t: Task, runnable: readonly Task[]) => void;

  pick(runnable: readonly Task[], current: Task, _sim: Sim): Task | null {
    const k = this.nodes.length;
    const curRunnable = runnable.includes(current);
    let node: DfsNode;
    let chosen: Task | undefined;
    let entry: CacheEntry | undefined;
    if (k < this.prefixNodes.length) {
      node = this.prefixNodes[k];
      chosen = runnable.find((t) => t.id === node.chosen);
      if (!chosen) throw new Error(`dfs: replay diverged at decision ${k}: task ${node.chosen} not runnable`);
      if (this.saturated && k >= this.floor) for (const id of node.runnable) node.backtrack.add(id);
      if (k === this.prefixNodes.length - 1 && node.snap) this.stateful?.restore(node.snap);
    } else {
      const sleep = this.usePor ? new Map(this.sleep) : new Map<number, number[]>();
      const awake = runnable.filter((t) => !sleep.has(t.id));
      if (awake.length === 0) return this.prune(runnable, sleep); // equivalent to an explored run
      if (this.stateful) {
        const seen = this.visit(sleep);
        if (seen === null) return this.cacheHit(runnable, sleep);
        entry = seen;
      }
      chosen = curRunnable && !sleep.has(current.id) ? current : awake[0];
      // The current task is asleep: switching away would be a preemption past the bound.
      if (curRunnable && chosen !== current && this.preemptions + 1 > this.bound) {
        return this.prune(runnable, sleep);
      }
      const ids = runnable.map((t) => t.id);
      node = {
        runnable: ids,
        chosen: chosen.id,
        current: current.id,
        currentRunnable: curRunnable,
        preemptionsBefore: this.preemptions,
        backtrack: new Set(this.usePor && !this.saturated ? [chosen.id] : ids),
        done: new Set([chosen.id]),
        sleep,
        steps: new Map(),
        ...(entry ? { entry } : {}),
        ...(this.stateful ? { snap: this.stateful.snapshot() } : {}),
      };
    }
    if (node.entry) this.openEntry = node.entry;
    this.nodes.push(node);
    this.enterChild(node);
    this.pendingNode = k;
    if (curRunnable && chosen !== current) this.preemptions++;
    return chosen;
  }

  /** The sleep set below `node`: its own, plus the choices explored there before this one. */
  private enterChild(node: DfsNode): void {
    if (!this.usePor) return;
    const s = new Map(node.sleep);
    for (const d of node.done) {
      const fp = d !== node.chosen ? boundedSleep(node, d, node.chosen, this.bound) : null;
      if (fp) s.set(d, fp);
    }
    s.delete(node.chosen);
    this.sleep = s;
  }

  /**
   * A step that broke an invariant ended the run (Sim.crash): it is a step like any other for the
   * races with what ran before it, and its footprint is "anything" — it disables every other task,
   * and a step that disables another depends on it (Godefroid). The tasks it stopped are then
   * raced as prune() races the tasks of a run cut short: without this, the steps a runnable task
   * did not get to take before the stop never met it, and running them first — an op that
   * completes before the BUG — was never tried.
   */
  private stopped(t: Task, runnable: readonly Task[]): void {
    this.stepped(t, [ANYTHING]);
    if (this.stateful) this.summarise(t.id, [ANYTHING]);
    if (!this.saturated) {
      for (const r of runnable) {
        if (r !== t) this.findRace(r.id, this.sleep.get(r.id) ?? [ANYTHING], this.clocks[r.id] ?? []);
      }
    }
  }

  private spawned(t: Task, parent: Task | null): void {
    this.clocks[t.id] = [];
    if (parent) this.inherit.push(t.id);
  }

  private woken(t: Task, by: Task | null): void {
    if (by) this.inherit.push(t.id);
  }

  private stepped(t: Task, raw: readonly number[]): void {
    const q = t.id;
    const nodeIdx = this.pendingNode;
    this.pendingNode = -1;
    // What boundedSleep reads; without a bound every sleeper keeps its step, and nothing reads it.
    const bounded = this.bound < DEFAULTS.unbounded;
    if (bounded && nodeIdx >= 0 && t.state === TaskState.Runnable) {
      const n = this.nodes[nodeIdx];
      n.runnableAfter ??= new Set();
      n.runnableAfter.add(q);
    }
    if (!this.saturated && !this.stateful && ++this.events > this.porSteps) this.saturate();
    if (this.saturated) {
      // Nothing tracked: the step stands for "anything", for sleep sets as for siblings.
      if (nodeIdx >= 0) this.nodes[nodeIdx].steps.set(q, [ANYTHING]);
      this.inherit.length = 0;
      this.sleep.clear();
      return;
    }
    const fp = compactFootprint(raw);
    if (nodeIdx >= 0) this.nodes[nodeIdx].steps.set(q, fp);
    const clock = (this.clocks[q] ?? []).slice();
    const e = this.evTask.length;
    const conflicts = this.conflicts(q, fp);
    this.raceWith(q, conflicts, clock);
    // Happens-before: every earlier conflicting step (the candidates say which), then q's own count.
    for (let k = 0; k < conflicts.length; k++) join(clock, this.evClock[conflicts[k]]);
    clock[q] = (clock[q] ?? 0) + 1;
    this.evTask.push(q);
    this.evNode.push(nodeIdx);
    this.evClock.push(clock);
    this.evFp.push(fp);
    this.clocks[q] = clock;
    this.lastOf[q] = e;
    this.noteAccesses(q, fp, e);
    if (bounded) this.trackBlock(t, nodeIdx, e);
    for (const w of this.inherit) this.clocks[w] = join((this.clocks[w] ?? []).slice(), clock);
    this.inherit.length = 0;
    this.sleep.delete(q);
    for (const [s, sfp] of this.sleep) if (dependent(sfp, fp)) this.sleep.delete(s);
  }

  /**
   * Records, for each decision a task passes while it keeps the CPU, the footprint of its steps from
   * there until it blocks or exits (DfsNode.blocks; boundedSleep). A block cut by a switch away
   * from the still runnable task is not one; nor is one cut by the end of the run (not recorded).
   */
  private trackBlock(t: Task, nodeIdx: number, e: number): void {
    const q = t.id;
    if (q !== this.blockTask) {
      this.blockTask = q;
      this.blockNodes.length = 0;
      this.blockEvents.length = 0;
    }
    if (nodeIdx >= 0 && !this.nodes[nodeIdx].blocks?.has(q)) {
      this.blockNodes.push(nodeIdx);
      this.blockEvents.push(e);
    }
    if (t.state === TaskState.Runnable || this.blockNodes.length === 0) return;
    // Suffix unions: the latest decision's block is the shortest.
    let union: number[] = [];
    let from = e + 1;
    for (let k = this.blockNodes.length - 1; k >= 0; k--) {
      for (let i = this.blockEvents[k]; i < from; i++) union = union.concat(this.evFp[i]);
      union = compactFootprint(union);
      from = this.blockEvents[k];
      const n = this.nodes[this.blockNodes[k]];
      n.blocks ??= new Map();
      n.blocks.set(q, union);
    }
    this.blockTask = -1;
    this.blockNodes.length = 0;
    this.blockEvents.length = 0;
  }

  /**
   * Earlier steps of other tasks that conflict with footprint `fp` and that every other
   * conflicting step happens before (so they stand for all of them): per object the last write and
   * the reads since, the last "anything" step; for an "anything" footprint, every task's last step.
   * In a buffer reused by the next call (a step asks once, for its race and its clock).
   */
  private conflicts(q: number, fp: readonly number[]): number[] {
    const out = this.conflictBuf;
    out.length = 0;
    if (fp[0] === ANYTHING) {
      for (let p = 0; p < this.lastOf.length; p++) {
        const i = this.lastOf[p];
        if (p !== q && i !== undefined && i >= 0) out.push(i);
      }
      return out;
    }
    if (this.lastAnything >= 0 && this.evTask[this.lastAnything] !== q) out.push(this.lastAnything);
    for (const x of fp) {
      const o = this.objects.get(accessObject(x));
      if (!o) continue;
      if (o.write >= 0 && this.evTask[o.write] !== q) out.push(o.write);
      // A read conflicts with group accesses, and a group access with reads: only a read meeting a
      // read, or a group access one of the same group, does not.
      if (o.reads && (isWriteAccess(x) || isGroupAccess(x))) {
        for (const r of o.reads) if (this.evTask[r] !== q) out.push(r);
      }
      if (o.groupEvents && o.groups) {
        for (let k = 0; k < o.groupEvents.length; k++) {
          const i = o.groupEvents[k];
          if (this.evTask[i] !== q && accessesConflict(x, o.groups[k])) out.push(i);
        }
      }
    }
    return out;
  }

  private noteAccesses(q: number, fp: readonly number[], e: number): void {
    if (fp[0] === ANYTHING) {
      this.lastAnything = e;
      return;
    }
    for (const x of fp) {
      const key = accessObject(x);
      let o = this.objects.get(key);
      if (!o) {
        o = new ObjectAccesses();
        this.objects.set(key, o);
      }
      if (isWriteAccess(x)) {
        o.write = e;
        o.reads = null;
        o.groupEvents = null;
        o.groups = null;
      } else if (isGroupAccess(x)) {
        o.groups ??= [];
        o.groupEvents ??= [];
        const groups = o.groups;
        const events = o.groupEvents;
        let k = 0;
        while (k < groups.length && !(groups[k] === x && this.evTask[events[k]] === q)) k++;
        events[k] = e;
        groups[k] = x;
      } else {
        o.reads ??= [];
        const reads = o.reads;
        let k = 0;
        while (k < reads.length && this.evTask[reads[k]] !== q) k++;
        reads[k] = e;
      }
    }
  }

  /**
   * Gives up DPOR for the rest of this run: every decision of it (and every later one, pick) gets
   * every runnable task in its backtrack set — the plain bounded DFS, which explores a superset of
   * what DPOR would, since a race of a later, untracked step with any earlier one can only ask for
   * choices at these decisions. Sleepers are woken (their steps may depend on anything to come).
   */
  private saturate(): void {
    this.saturated = true;
    for (let k = this.floor; k < this.nodes.length; k++) {
      for (const id of this.nodes[k].runnable) this.nodes[k].backtrack.add(id);
    }
    this.sleep.clear();
  }

  /**
   * The latest earlier step of another task that conflicts with this one and does not happen
   * before it: the two could be reordered, so q must be tried at the decision that ran it.
   */
  private findRace(q: number, fp: readonly number[], clock: readonly number[]): void {
    this.raceWith(q, this.conflicts(q, fp), clock);
  }

  /** findRace on the conflicting steps already found (conflicts). */
  private raceWith(q: number, conflicts: readonly number[], clock: readonly number[]): void {
    let latest = -1;
    for (let k = 0; k < conflicts.length; k++) {
      const i = conflicts[k];
      const p = this.evTask[i];
      if (i > latest && (this.evClock[i][p] ?? 0) > (clock[p] ?? 0)) latest = i;
    }
    if (latest >= 0 && this.evNode[latest] >= 0) this.addBacktrack(this.evNode[latest], q);
  }

  /** Adds q (or, if q could not run there, every task that could) to a node's backtrack set. */
  private addBacktrack(ni: number, q: number): void {
    this.addAt(ni, q);
    // Bounded POR: also at the latest earlier context switch (loom's Path::backtrack).
    let c = ni - 1;
    while (c > 0 && this.nodes[c].chosen === this.nodes[c - 1].chosen) c--;
    if (c >= 0) this.addAt(c, q);
  }

  private addAt(ni: number, q: number): void {
    if (ni < this.floor) return; // a unit's prefix: the frontier expanded it in full
    const n = this.nodes[ni];
    if (n.runnable.includes(q)) n.backtrack.add(q);
    else for (const r of n.runnable) n.backtrack.add(r);
  }

  /**
   * The stateful search's side of DfsRunStrategy: the state cache (src/explore/stateful.ts says what
   * a state is). State caching and DPOR together are unsound naively: a subtree cut at a visited
   * state hides the steps whose races with the current path DPOR needs, and a sleep set may have cut
   * the first visit's subtree more than the current one allows (Godefroid's thesis, LNCS 1032, §5.3).
   * Both are handled as in the literature: a visited state is pruned only if every task asleep at its
   * first visit sleeps now (Godefroid), and a hit adds the backtrack points every step taken below
   * the state in any earlier visit would have added — each task's accesses there, summarised, racing
   * with every step of the current path not known to happen before the task (Yang, Chen,
   * Gopalakrishnan and Kirby, "Efficient stateful dynamic partial order reduction", SPIN 2008: the
   * visible-operation summary of a cached state).
   */
  /** Looks the state up: null if its subtree is explored (a hit), else its entry (none in a cycle). */
  private visit(sleep: ReadonlyMap<number, number[]>): CacheEntry | null | undefined {
    const st = this.stateful as StateTracker;
    const cache = st.cache;
    cache.lookups++;
    const key = st.key();
    const e = cache.entries.get(key);
    const asleep = [...sleep.keys()].sort((a, b) => a - b);
    // On this very path: a cycle, left to the step bound as without the cache.
    if (e && !e.done) return undefined;
    if (e?.sleep.every((id) => sleep.has(id))) return null;
    // Seen with tasks asleep that are awake now: explored again, and from then on the state stands
    // for what either visit covered (Godefroid: the intersection of the two sleep sets).
    const entry: CacheEntry = {
      sleep: e ? asleep.filter((id) => e.sleep.includes(id)) : asleep,
      summary: e ? copySummary(e.summary) : new Map(),
      done: false,
    };
    cache.entries.set(key, entry);
    return entry;
  }

  /** Ends a run at a state whose subtree was explored: its steps' races, then the sleepers'. */
  private cacheHit(runnable: readonly Task[], sleep: ReadonlyMap<number, number[]>): null {
    const st = this.stateful as StateTracker;
    st.cache.hits++;
    const e = st.cache.entries.get(st.key()) as CacheEntry;
    if (this.usePor) {
      for (const [q, accesses] of e.summary) {
        const fp = [...accesses];
        this.raceAll(q, fp);
        for (const x of accesses) this.summarise(q, [x]);
      }
      for (const t of runnable) {
        const fp = sleep.get(t.id);
        if (fp) this.findRace(t.id, fp, this.clocks[t.id] ?? []);
      }
    }
    return null;
  }

  /**
   * Every step of another task on this path that conflicts with footprint `fp` of task q and does
   * not happen before q's latest step: q is added at the decision that ran it (or, for a forced
   * step, at the latest decision before it). All of them, not DPOR's latest: the later steps of q
   * below a cached state may be ordered after some of them by steps this path does not see.
   */
  private raceAll(q: number, fp: readonly number[]): void {
    const clock = this.clocks[q] ?? [];
    let decision = -1;
    const at: number[] = [];
    for (let i = 0; i < this.evTask.length; i++) {
      if (this.evNode[i] >= 0) decision = this.evNode[i];
      const p = this.evTask[i];
      if (p === q || decision < 0) continue;
      if ((this.evClock[i][p] ?? 0) <= (clock[p] ?? 0)) continue;
      if (dependent(this.evFp[i], fp)) at.push(decision);
    }
    for (const ni of at) this.addAt(ni, q);
  }

  /** Adds a step's accesses to the deepest visited state on the path (stateful search). */
  private summarise(q: number, fp: readonly number[] | undefined): void {
    const e = this.openEntry;
    if (!e || !fp) return;
    let set = e.summary.get(q);
    if (!set) {
      set = new Set();
      e.summary.set(q, set);
    }
    for (const x of fp) set.add(x);
  }

  /**
   * Ends a run that need not go on. The steps the runnable tasks were about to take still race
   * with what ran: an asleep task's step is known (the sleep set has it), an awake one's is not
   * ("anything").
   */
  private prune(runnable: readonly Task[], sleep: Map<number, number[]>): null {
    if (this.usePor && !this.saturated) {
      for (const t of runnable) {
        this.findRace(t.id, sleep.get(t.id) ?? [ANYTHING], this.clocks[t.id] ?? []);
      }
    }
    return null;
  }
}

/**
 * One object's accesses since its last write (DfsRunStrategy.objects). A class, its lists made on
 * first use and dropped by a write: a run meets dozens of objects, most of them only written.
 */
class ObjectAccesses {
  write = -1;
  reads: number[] | null = null;
  groupEvents: number[] | null = null;
  groups: number[] | null = null;
}

function copySummary(s: ReadonlyMap<number, ReadonlySet<number>>): Map<number, Set<number>> {
  return new Map([...s].map(([q, a]) => [q, new Set(a)]));
}

/**
 * The stateful search: the decisions past `keep` are left for good, so the states they were are
 * explored in full. Each is marked done and its summary goes to the deepest state above it.
 */
export function closeStates(nodes: readonly DfsNode[], keep: number): void {
  for (let k = nodes.length - 1; k >= keep; k--) {
    const e = nodes[k].entry;
    if (!e) continue;
    e.done = true;
    let up: CacheEntry | undefined;
    for (let j = k - 1; j >= 0 && !up; j--) up = nodes[j].entry;
    if (!up) continue;
    for (const [q, a] of e.summary) {
      let set = up.summary.get(q);
      if (!set) {
        set = new Set();
        up.summary.set(q, set);
      }
      for (const x of a) set.add(x);
    }
  }
}

function join(into: number[], other: readonly number[]): number[] {
  for (let i = 0; i < other.length; i++) {
    const v = other[i] ?? 0;
    if (v > (into[i] ?? 0)) into[i] = v;
  }
  return into;
}

/**
 * Picks the next run: the deepest node with a choice in its backtrack set not yet tried, not
 * asleep there and within the bound. Switches that node to the choice (marking it done) and returns
 * the live nodes up to it, or null when the search is complete. `stats` counts the choices the
 * bound ruled out and those DPOR left out as independent of what ran.
 */
export function backtrack(
  nodes: DfsNode[],
  bound: number,
  stats: { boundSkipped: number; porSkipped?: number },
  /** Decisions below this index are fixed (a work unit's prefix): never backtracked. */
  floor = 0,
): DfsNode[] | null {
  for (let k = nodes.length - 1; k >= floor; k--) {
    const n = nodes[k];
    for (const alt of n.runnable) {
      if (!n.backtrack.has(alt) || n.done.has(alt)) continue;
      n.done.add(alt);
      if (n.sleep.has(alt)) continue; // equivalent to a run already explored
      if (n.preemptionsBefore + preemptionOf(n, alt) > bound) {
        stats.boundSkipped++;
        continue;
      }
      n.chosen = alt;
      return nodes.slice(0, k + 1);
    }
    stats.porSkipped = (stats.porSkipped ?? 0) + independentChoices(n, bound);
  }
  return null;
}

/**
 * The sleep entry of choice d, explored at node n, in the subtree of its sibling q, under the
 * preemption bound: the footprint d sleeps with, or null if it must stay awake. A run the sleeper
 * prunes, R = ·q·w1·d1…dj·b·w3 (d takes the CPU after w1, runs j steps, then b), stands for a run
 * with d's steps moved back to n, explored in d's subtree — but only if that run fits the bound
 * too (Coons, Musuvathi and McKinley, "Bounded partial-order reduction", OOPSLA 2013: the bound
 * makes independent steps dependent; campaign-2172 under xfs at ≤ 1 was missed without this).
 * Against R, the moved run switches c→d and dj→q at n instead of c→q (c the task running at n), and
 * a→b instead of a→d1 where d's steps are taken out (a the last task of w1); the steps of q·w1 and
 * w3 are the same, with the same tasks runnable (independent steps neither enable nor disable
 * each other). a→b preempts only if a is still runnable, and then a→d1 did: never one more.
 * - Moving d1 only (the standard sleep entry, d's step at n): dj→q is d1→q, one preemption if d was
 *   still runnable after d1, where R may have had none (j > 1). So it is kept if
 *   [c→d] − [c→q] + [d runnable after d1] ≤ 0: the common case, d the running task explored first
 *   and q a preempting sibling.
 * - Moving d's whole run of the CPU from n, d1…dK until it blocked or exited (DfsNode.blocks: d's
 *   steps do not depend on the order of independent steps, so in R too d runs d1…dK until it blocks
 *   or exits, unless preempted after some dj): dj→q preempts exactly when dj→b does (d runnable
 *   after dj). So it is kept if [c→d] − [c→q] ≤ 0, sleeping with the footprint of all K steps (it
 *   wakes at the first step that conflicts with any of them).
 * Without a bound every sleeper is kept with its step's footprint.
 */
export function boundedSleep(n: DfsNode, d: number, q: number, bound: number): number[] | null {
  const step = n.steps.get(d);
  if (!step) return null;
  if (bound >= DEFAULTS.unbounded) return step; // --preemptions all
  const switches = preemptionOf(n, d) - preemptionOf(n, q);
  if (switches + (n.runnableAfter?.has(d) ? 1 : 0) <= 0) return step;
  if (switches <= 0) return n.blocks?.get(d) ?? null;
  return null;
}

function preemptionOf(n: DfsNode, alt: number): number {
  return n.currentRunnable && alt !== n.current ? 1 : 0;
}

/**
 * At a node whose backtrack set is exhausted (it is left for good): the choices the bounded DFS
 * would have tried and DPOR did not, since no race asked for them — each the root of a subtree
 * of at least one schedule equivalent to an explored one. Asleep choices are not counted (the
 * sleep set, not the backtrack set, excludes them), nor those past the bound.
 */
function independentChoices(n: DfsNode, bound: number): number {
  let k = 0;
  for (const alt of n.runnable) {
    if (n.backtrack.has(alt) || n.done.has(alt) || n.sleep.has(alt)) continue;
    if (n.preemptionsBefore + preemptionOf(n, alt) <= bound) k++;
  }
  return k;
}
