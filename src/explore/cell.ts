/**
 * One matrix cell: a whole check of one scenario under one scheme, as plain JSON in and out so a
 * worker thread can run it (worker.ts exports it to the matrix's pool, matrix.ts).
 */
import { parseLitmus } from '../litmus/parse.js';
import { findScheme } from '../schemes/index.js';
import { type CheckOptions, type CheckResult, checkScenario } from './check.js';

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
  const scenario = parseLitmus(task.scenarioText, task.scenarioSource);
  const scheme = findScheme(task.scheme);
  if (!scheme) throw new Error(`worker: unknown scheme ${task.scheme}`);
  return stripReport(
    await checkScenario(scenario, scheme, { ...task.opts, scenarioRef: task.scenarioRef, jobs: 1 }),
  );
}

function stripReport(r: CheckResult): CellResult {
  const { report: _report, ...rest } = r;
  return rest;
}
