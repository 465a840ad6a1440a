/**
 * One matrix cell: a whole check of one scenario under one scheme, as plain JSON in and out so a
 * worker thread can run it (worker.ts exports it to the matrix's pool, matrix.ts).
 */
import { parseLitmus } from '../litmus/parse.js';
import type { Scheme } from '../schemes/scheme.js';
import { type CheckOptions, type CheckResult, checkScenario } from './check.js';
import { resolveSchemeRef } from './schemefile.js';

export interface CellTask {
  scenarioText: string;
  scenarioSource: string;
  scenarioRef: string;
  scheme: string;
  opts: Omit<CheckOptions, 'onProgress' | 'jobs' | 'scenarioRef'>;
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
  return stripReport(
    await checkScenario(scenario, scheme, { ...task.opts, scenarioRef: task.scenarioRef, jobs: 1 }),
  );
}

function stripReport(r: CheckResult): CellResult {
  const { report: _report, ...rest } = r;
  return rest;
}
