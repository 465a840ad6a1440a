/**
 * Runs search units on worker threads (piscina) or in this thread, and combines their results so
 * that the outcome does not depend on the number of workers: units are numbered, a failure is
 * taken from the lowest-numbered failing unit, and units after it do not count. A DFS's run budget
 * is shared by its units in index order (SharedBudget): the same runs whatever --jobs.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { Scenario } from '../litmus/ast.js';
import type { Scheme } from '../schemes/scheme.js';
import { runSequential, SharedBudget, type UnitProgress, withBudget } from './inthread.js';
import { workersCanLoad } from './schemefile.js';
import { runUnit, type SearchParams, type Unit, type UnitResult, type WorkerTask } from './units.js';

export { SharedBudget, type UnitProgress } from './inthread.js';

/** dist/explore/worker.js, from src/explore (tests, after `npm run build`) or dist/explore. */
export const WORKER = new URL('../../dist/explore/worker.js', import.meta.url).href;

/**
 * A search allocates a short-lived world per run: with V8's default 16 MB semi-spaces it spends a
 * fifth of its time in scavenges, and the parallel scavenger takes the second core from a second
 * job. 64 MB semi-spaces (young generation 3 x 64 MB) cut that out; bin/pagelab.js and the npm
 * scripts start node with --max-semi-space-size=64 for the main thread (measured: one DFS 6.3 s ->
 * 5.0 s; two at once 7.8/8.2 s -> 5.3/5.6 s each).
 */
export const WORKER_LIMITS = { maxYoungGenerationSizeMb: 192 };

export function defaultJobs(): number {
  return availableParallelism();
}

let warmed: { threads: number; pool: Piscina<WorkerTask, UnitResult> } | null = null;

function newUnitPool(threads: number): Piscina<WorkerTask, UnitResult> {
  return new Piscina<WorkerTask, UnitResult>({
    filename: WORKER,
    minThreads: threads,
    maxThreads: threads,
    resourceLimits: WORKER_LIMITS,
  });
}

/**
 * Starts the worker threads of a coming runUnits(jobs) now, so that they load the model while this
 * thread builds the DFS frontier (a worker takes ~150 ms to start).
 */
export function warmUnitPool(jobs: number): void {
  if (jobs <= 1 || warmed) return;
  warmed = { threads: jobs - 1, pool: newUnitPool(jobs - 1) };
}

function dropWarmedPool(): void {
  const w = warmed;
  warmed = null;
  if (w) void w.pool.destroy();
}

function takeUnitPool(threads: number): Piscina<WorkerTask, UnitResult> {
  const w = warmed;
  warmed = null;
  if (w && w.threads === threads) return w.pool;
  if (w) void w.pool.destroy();
  return newUnitPool(threads);
}

/**
 * Runs units on this thread and `jobs - 1` worker threads, handed out in order. Once a unit
 * fails, no unit numbered above it is started; those already running finish and are dropped, and
 * every unit below it is awaited.
 */
async function runParallel(
  scenario: Scenario,
  scheme: Scheme,
  params: SearchParams,
  units: Unit[],
  jobs: number,
  budget: SharedBudget | null,
  onUnit?: UnitProgress,
): Promise<UnitResult[]> {
  // This thread is one of the `jobs`: it runs units itself between handing them out (runUnit
  // yields to the event loop every few runs, so a worker is never kept waiting for its next unit).
  const threads = jobs - 1;
  const pool = takeUnitPool(threads);
  let lowestFailure = Number.POSITIVE_INFINITY;
  const order = dispatchOrder(units);
  let next = 0;
  const results: UnitResult[] = [];
  const lane = async (inline: boolean): Promise<void> => {
    while (next < order.length) {
      const queued = order[next++];
      if (queued.index >= lowestFailure) continue;
      const share = budget ? budget.bound(queued.index) : 1;
      if (share <= 0) continue;
      const unit = budget ? withBudget(queued, share) : queued;
      const task: WorkerTask = {
        scenarioText: scenario.text,
        scenarioSource: scenario.source,
        scheme: scheme.name,
        params,
        unit,
      };
      const r = inline ? await runUnit(scenario, scheme, params, unit) : await pool.run(task);
      budget?.record(r);
      if (r.index > lowestFailure) continue;
      results.push(r);
      onUnit?.(r);
      if (r.failure) lowestFailure = Math.min(lowestFailure, r.index);
    }
  };
  try {
    await Promise.all([lane(true), ...Array.from({ length: threads }, () => lane(false))]);
  } finally {
    await pool.destroy();
  }
  return results.filter((r) => r.index <= lowestFailure).sort((a, b) => a.index - b.index);
}

/**
 * The order units are handed out in: the likely largest first, so that no thread is left with a
 * big one at the end (a DFS unit whose prefix used fewer preemptions roots a larger subtree: the
 * bound leaves it more). Which units count does not depend on it: every unit numbered below the
 * lowest failure runs, whatever the order.
 */
function dispatchOrder(units: readonly Unit[]): Unit[] {
  const used = (u: Unit): number => (u.kind === 'dfs' ? (u.preemptions ?? 0) : 0);
  return units.slice().sort((a, b) => used(a) - used(b) || a.index - b.index);
}

/**
 * Runs `units` on `jobs` threads; the results that count, in index order. `runBudget`: the runs
 * the units may make between them (dfs units), shared in index order; without it each unit runs
 * as given (chunks of schedule indices: their size is their budget).
 */
export async function runUnits(
  scenario: Scenario,
  scheme: Scheme,
  params: SearchParams,
  units: Unit[],
  jobs: number,
  onUnit?: UnitProgress,
  runBudget?: number,
): Promise<UnitResult[]> {
  const budget = runBudget === undefined ? null : new SharedBudget(runBudget);
  let results: UnitResult[];
  if (jobs <= 1 || units.length <= 1 || !workersCanLoad(scheme)) {
    dropWarmedPool(); // not needed after all (or the workers could not build this scheme)
    results = await runSequential(scenario, scheme, params, units, budget, onUnit);
  } else {
    results = await runParallel(scenario, scheme, params, units, jobs, budget, onUnit);
  }
  if (!budget) return results;
  return budget.settle(units, results, (u) => runUnit(scenario, scheme, params, u));
}
