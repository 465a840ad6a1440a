/**
 * One matrix cell: a whole check of one scenario under one scheme, as plain JSON in and out so a
 * worker thread can run it (worker.ts exports it to the matrix's pool, matrix.ts).
 *
 * A cell first runs the preemption-bounded DFS with at most `dfsBudget` runs: when it completes,
 * its "ok" is a certificate (every schedule within the bound, up to the equivalence POR uses);
 * when it finds a finding, that is the verdict. Only when the budget runs out first does the cell
 * fall back to the random search of `opts.schedules` schedules, and its coverage says so.
 */
import { parseLitmus } from '../litmus/parse.js';
import type { Scheme } from '../schemes/scheme.js';
import { type CheckOptions, type CheckResult, checkScenario } from './check.js';
import { resolveSchemeRef } from './schemefile.js';

/**
 * Most runs of a matrix cell's DFS. Measured on the 221 built-in cells of issue 16 (13 scenarios ×
 * 17 schemes, ≤ 2 preemptions): 187 of the 202 ok cells complete within it; the fault storms
 * (> 20,000 runs) and two schemes of dio-write-vs-buffered-read (12,297 and 14,096) fall back to
 * random, and every verdict equals the one of 1000 random schedules per cell.
 */
export const DFS_BUDGET = 6000;

export interface CellTask {
  scenarioText: string;
  scenarioSource: string;
  scenarioRef: string;
  scheme: string;
  opts: Omit<CheckOptions, 'onProgress' | 'onPlan' | 'jobs' | 'scenarioRef'>;
  /** Most runs of the cell's DFS before the random fallback; 0 (or absent): `opts` as given. */
  dfsBudget?: number;
}

export type CellResult = Omit<CheckResult, 'report'>;

/** A whole matrix cell: the search and its findings, without the (unserialisable) report. */
export async function cell(task: CellTask): Promise<CellResult> {
  // A file scheme: the same file, by its path.
  return cellUnder(task, await resolveSchemeRef(task.scheme));
}

/** A cell under a scheme this thread holds (a script's own Scheme has no name a worker knows). */
export async function cellUnder(task: CellTask, scheme: Scheme): Promise<CellResult> {
  const scenario = parseLitmus(task.scenarioText, task.scenarioSource);
  const opts = { ...task.opts, scenarioRef: task.scenarioRef, jobs: 1 };
  if (!task.dfsBudget) return stripReport(await checkScenario(scenario, scheme, opts));
  const dfs = await checkScenario(scenario, scheme, { ...opts, strategy: 'dfs', schedules: task.dfsBudget });
  if (dfs.verdict !== 'ok' || dfs.coverage.complete) return stripReport(dfs);
  const sampled = await checkScenario(scenario, scheme, { ...opts, strategy: opts.strategy ?? 'random' });
  const text = `${sampled.coverage.text} (a DFS of ${dfs.coverage.schedules} schedules with ≤ ${dfs.coverage.preemptions} preemptions did not complete: not a proof)`;
  return stripReport({ ...sampled, coverage: { ...sampled.coverage, text } });
}

function stripReport(r: CheckResult): CellResult {
  const { report: _report, ...rest } = r;
  return rest;
}
