/**
 * Exhaustive, preemption-bounded search by re-execution (CHESS's iterative context bounding, with
 * loom's stateless replay), with sleep-set partial-order reduction on the accesses each scheduling
 * point declares (`task.point(site, obj, write)`).
 *
 * Each run replays a prefix of choices and then follows the non-preemptive default (keep running
 * the current task; when it blocks or exits, the lowest runnable id). Every decision of the run is
 * recorded with its runnable set; backtracking takes the deepest decision that still has an
 * alternative within the preemption bound, never tried there and not asleep.
 *
 * Sleep sets (Godefroid): after the subtree of choice p at a node is explored, p sleeps in the
 * subtrees of p's later siblings for as long as the steps taken there are independent of p's
 * pending step; a sleeping task is not scheduled; a run whose runnable tasks are all asleep is
 * abandoned as equivalent to one already explored ("pruned"). Two pending steps are dependent
 * when either declares no object (-1: "may touch anything") or both declare the same object and
 * one of them writes. Irq tasks (bio completions) declare nothing: dependent with everything.
 *
 * The certificate is exactly what was covered: "all N schedules with ≤ K preemptions, M pruned as
 * equivalent", for the model as it declares its accesses.
 */
import type { Sim, Strategy } from '../sim/sched.js';
import type { Task } from '../sim/task.js';

interface Pending {
  obj: number;
  write: boolean;
}

/** One decision of a run: who could run, who ran, what the others were about to do. */
export interface DfsNode {
  runnable: number[];
  chosen: number;
  current: number;
  currentRunnable: boolean;
  preemptionsBefore: number;
  /** Declared next-step access of every runnable task at this decision. */
  pending: Map<number, Pending>;
  /** Choices whose subtrees are done (or being explored) at this node. */
  done: Set<number>;
  /** Tasks asleep at this node. */
  sleep: Map<number, Pending>;
}

export function dependent(a: Pending, b: Pending): boolean {
  if (a.obj < 0 || b.obj < 0) return true;
  return a.obj === b.obj && (a.write || b.write);
}

/** The strategy of one DFS run: replays `prefix`, then the default, recording every decision. */
export class DfsRunStrategy implements Strategy {
  readonly name = 'dfs';
  readonly nodes: DfsNode[] = [];
  private preemptions = 0;

  constructor(
    private readonly prefix: readonly number[],
    /** Sleep set entering the first decision past the prefix (from the backtrack point). */
    private readonly prefixNodes: readonly DfsNode[],
    private readonly usePor: boolean,
    private readonly bound: number,
  ) {}

  pick(runnable: readonly Task[], current: Task, _sim: Sim): Task | null {
    const k = this.nodes.length;
    const curRunnable = runnable.includes(current);
    const pending = new Map<number, Pending>();
    for (const t of runnable)
      pending.set(t.id, { obj: t.isIrq ? -1 : t.accessObj, write: t.isIrq || t.accessWrite });
    const sleep = k < this.prefixNodes.length ? this.prefixNodes[k].sleep : this.inheritedSleep();
    let chosen: Task | undefined;
    if (k < this.prefix.length) {
      chosen = runnable.find((t) => t.id === this.prefix[k]);
      if (!chosen)
        throw new Error(`dfs: replay diverged at decision ${k}: task ${this.prefix[k]} not runnable`);
    } else {
      const awake = runnable.filter((t) => !sleep.has(t.id));
      if (awake.length === 0) return null; // every continuation is equivalent to an explored one
      chosen = curRunnable && !sleep.has(current.id) ? current : awake[0];
      // The current task is asleep: switching away would be a preemption past the bound.
      if (curRunnable && chosen !== current && this.preemptions + 1 > this.bound) return null;
    }
    const node: DfsNode = {
      runnable: runnable.map((t) => t.id),
      chosen: chosen.id,
      current: current.id,
      currentRunnable: curRunnable,
      preemptionsBefore: this.preemptions,
      pending,
      done: k < this.prefixNodes.length ? this.prefixNodes[k].done : new Set([chosen.id]),
      sleep,
    };
    this.nodes.push(node);
    if (curRunnable && chosen !== current) this.preemptions++;
    return chosen;
  }

  /** The sleep set after the previous decision's step: sleepers independent of the step taken. */
  private inheritedSleep(): Map<number, Pending> {
    const out = new Map<number, Pending>();
    if (!this.usePor || this.nodes.length === 0) return out;
    const prev = this.nodes[this.nodes.length - 1];
    const taken = prev.pending.get(prev.chosen) as Pending;
    for (const [id, p] of prev.sleep) if (id !== prev.chosen && !dependent(p, taken)) out.set(id, p);
    return out;
  }
}

/**
 * Picks the next run: the deepest node with an untried alternative within the bound. Mutates the
 * node (marks the alternative done) and returns the prefix and prefix nodes for the next run, or
 * null when the search is complete. `skipped` counts alternatives the bound ruled out.
 */
export function backtrack(
  nodes: DfsNode[],
  bound: number,
  usePor: boolean,
  stats: { boundSkipped: number },
  /** Decisions below this index are fixed (a work unit's prefix): never backtracked. */
  floor = 0,
): { prefix: number[]; prefixNodes: DfsNode[] } | null {
  for (let k = nodes.length - 1; k >= floor; k--) {
    const n = nodes[k];
    for (const alt of n.runnable) {
      if (n.done.has(alt) || n.sleep.has(alt)) continue;
      const preempts = n.currentRunnable && alt !== n.current ? 1 : 0;
      if (n.preemptionsBefore + preempts > bound) {
        n.done.add(alt);
        stats.boundSkipped++;
        continue;
      }
      // Sleep set for the sibling subtree: the choices already explored here sleep in it.
      const sleep = new Map(n.sleep);
      if (usePor) for (const d of n.done) if (d !== alt) sleep.set(d, n.pending.get(d) as Pending);
      n.done.add(alt);
      const branch: DfsNode = { ...n, chosen: alt, sleep: usePor ? sleep : new Map() };
      const prefixNodes = nodes.slice(0, k);
      prefixNodes.push(branch);
      return { prefix: [...prefixNodes.map((x) => x.chosen)], prefixNodes };
    }
  }
  return null;
}
