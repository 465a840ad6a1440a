/**
 * The in-thread half of running search units: the run budget a DFS's units share in index order
 * (SharedBudget) and the sequential runner. Nothing here needs Node: the playground's Web Worker
 * runs searches through this file alone (src/playground/web/pool.ts stands in for pool.ts there),
 * pool.ts adds the worker threads on Node.
 */
import type { Scenario } from '../litmus/ast.js';
import type { Scheme } from '../schemes/scheme.js';
import { runUnit, type SearchParams, type Unit, type UnitResult } from './units.js';

export type UnitProgress = (done: UnitResult) => void;

/** Runs a unit makes: complete and pruned. */
function runsOf(r: UnitResult): number {
  return r.schedules + r.pruned;
}

/**
 * The runs a DFS may make (`--schedules`), shared by its units in index order: unit i may make
 * what units 0..i-1 left, so the search makes the runs one thread going through the units in
 * order would make, whatever the number of workers. A unit handed out before the units below it
 * are done gets an upper bound on its share (each unfinished unit below makes at least one run);
 * `settle` then cuts the one unit, if any, that ran past its exact share by running it again
 * with that share (runs are deterministic: its first runs are the same), and drops those above.
 */
export class SharedBudget {
  private readonly used = new Map<number, number>();

  constructor(private readonly total: number) {}

  /** At least unit `index`'s exact share: exact once every unit below it is done. */
  bound(index: number): number {
    let left = this.total;
    for (let j = 0; j < index; j++) left -= this.used.get(j) ?? 1;
    return left;
  }

  record(r: UnitResult): void {
    this.used.set(r.index, runsOf(r));
  }

  /** The results that count, in index order, each within its exact share. */
  async settle(
    units: readonly Unit[],
    results: readonly UnitResult[],
    rerun: (u: Unit) => Promise<UnitResult>,
  ): Promise<UnitResult[]> {
    const byIndex = new Map(results.map((r) => [r.index, r]));
    const out: UnitResult[] = [];
    let left = this.total;
    for (const u of units) {
      if (left <= 0) break;
      const r = byIndex.get(u.index);
      if (!r) throw new Error(`pool: unit ${u.index} has a share of ${left} runs but did not run`);
      const exact = runsOf(r) <= left ? r : await rerun(withBudget(u, left));
      out.push(exact);
      left -= runsOf(exact);
      if (exact.failure) break;
    }
    return out;
  }
}

export function withBudget(u: Unit, budget: number): Unit {
  return u.kind === 'dfs' ? { ...u, budget } : u;
}

/** Runs units in order in this thread, stopping at the first failing one (or the budget's end). */
export async function runSequential(
  scenario: Scenario,
  scheme: Scheme,
  params: SearchParams,
  units: Unit[],
  budget: SharedBudget | null,
  onUnit?: UnitProgress,
): Promise<UnitResult[]> {
  const out: UnitResult[] = [];
  for (const u of units) {
    const share = budget ? budget.bound(u.index) : 1;
    if (share <= 0) break;
    const r = await runUnit(scenario, scheme, params, budget ? withBudget(u, share) : u);
    budget?.record(r);
    out.push(r);
    onUnit?.(r);
    if (r.failure) break;
  }
  return out;
}

/**
 * Runs `units` in this thread, in index order; the results that count (runUnits with jobs = 1).
 * `runBudget`: the runs the units may make between them (dfs units), shared in index order.
 */
export async function runUnitsInThread(
  scenario: Scenario,
  scheme: Scheme,
  params: SearchParams,
  units: Unit[],
  onUnit?: UnitProgress,
  runBudget?: number,
): Promise<UnitResult[]> {
  const budget = runBudget === undefined ? null : new SharedBudget(runBudget);
  const results = await runSequential(scenario, scheme, params, units, budget, onUnit);
  if (!budget) return results;
  return budget.settle(units, results, (u) => runUnit(scenario, scheme, params, u));
}
