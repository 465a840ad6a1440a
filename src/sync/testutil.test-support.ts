/**
 * Helpers for the src/sync tests (not a test file itself: vitest only collects *.test.ts).
 */
import { compactFootprint } from '../sim/footprint.js';
import type { RunResult, Strategy } from '../sim/sched.js';
import type { Task } from '../sim/task.js';

/** "task:lock mode" for every acquisition of the run, in order (needs trace: true). */
export function acquisitions(r: RunResult): string[] {
  if (!r.trace) throw new Error('run was not traced');
  return r.trace
    .events()
    .filter((e) => e.kind === 'acquire')
    .map((e) => `${r.tasks[e.task].name}:${e.detail}`);
}

/** Spends `n` scheduling points (each costs one virtual tick). */
export async function spin(t: Task, n: number, site = 'hold'): Promise<void> {
  for (let i = 0; i < n; i++) await t.point(site);
}

/** Round robin (the runnable task with the fewest steps), recording each step's footprint. */
export class FootprintLog implements Strategy {
  readonly name = 'footprints';
  readonly steps: { task: string; fp: number[] }[] = [];
  pick(runnable: readonly Task[]): Task {
    return runnable.reduce((a, b) => (b.counters.steps < a.counters.steps ? b : a));
  }
  onStep(t: Task, fp: readonly number[]): void {
    this.steps.push({ task: t.name, fp: compactFootprint(fp) });
  }
}
