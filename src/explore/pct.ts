/**
 * PCT, probabilistic concurrency testing (Burckhardt, Kothari, Musuvathi, Nagarakatte, ASPLOS
 * 2010): every task gets a distinct random priority above d; d−1 change points are drawn uniformly
 * among the first k steps; the highest-priority runnable task always runs, and at the i-th change
 * point the running task drops to priority i (below every initial priority). A bug of depth d is
 * found by one run with probability at least 1/(n·k^(d−1)). Tasks spawned during the run (bio
 * completions) get a random priority when first seen. Seeded: same seed, same schedule.
 */
import { Rng } from '../sim/rng.js';
import type { Strategy } from '../sim/sched.js';
import type { Task } from '../sim/task.js';

export class PctStrategy implements Strategy {
  readonly name = 'pct';
  private readonly rng: Rng;
  private readonly priority = new Map<number, number>();
  private readonly changePoints: number[];
  private step = 0;

  constructor(
    seed: number,
    readonly depth: number,
    /** Expected number of decisions of a run (k of the paper). */
    readonly expectedSteps: number,
  ) {
    this.rng = new Rng(seed);
    const k = Math.max(1, expectedSteps);
    this.changePoints = [];
    for (let i = 0; i < depth - 1; i++) this.changePoints.push(1 + this.rng.below(k));
  }

  private prio(t: Task): number {
    let p = this.priority.get(t.id);
    if (p === undefined) {
      // Initial priorities live above `depth` so that every demotion (1..depth-1) is below them.
      p = this.depth + 1 + this.rng.nextFloat() * 1e6;
      this.priority.set(t.id, p);
    }
    return p;
  }

  pick(runnable: readonly Task[], current: Task): Task {
    this.step++;
    const cp = this.changePoints.indexOf(this.step);
    if (cp >= 0 && runnable.includes(current)) this.priority.set(current.id, cp + 1);
    let best = runnable[0];
    for (const t of runnable) if (this.prio(t) > this.prio(best)) best = t;
    return best;
  }
}
