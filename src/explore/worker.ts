/**
 * The worker-thread side of a parallel search (piscina): one unit of work in, its result out, both
 * plain JSON. The scenario travels as its litmus text and the scheme as its name, so a unit can as
 * well be shipped to another machine (docs/scaling.md).
 */
import { parseLitmus } from '../litmus/parse.js';
import { findScheme } from '../schemes/index.js';
import { type CheckOptions, type CheckResult, checkScenario } from './run.js';
import { runUnit, type SearchParams, type Unit, type UnitResult } from './units.js';

export interface WorkerTask {
  scenarioText: string;
  scenarioSource: string;
  scheme: string;
  params: SearchParams;
  unit: Unit;
}

export default async function work(task: WorkerTask): Promise<UnitResult> {
  const scenario = parseLitmus(task.scenarioText, task.scenarioSource);
  const scheme = findScheme(task.scheme);
  if (!scheme) throw new Error(`worker: unknown scheme ${task.scheme}`);
  return runUnit(scenario, scheme, task.params, task.unit);
}

export interface CellTask {
  scenarioText: string;
  scenarioSource: string;
  scenarioRef: string;
  scheme: string;
  opts: Omit<CheckOptions, 'onProgress' | 'jobs' | 'scenarioRef'>;
}

/** A whole matrix cell: the search and its findings, without the (unserialisable) report. */
export async function cell(task: CellTask): Promise<CellResult> {
  const scenario = parseLitmus(task.scenarioText, task.scenarioSource);
  const scheme = findScheme(task.scheme);
  if (!scheme) throw new Error(`worker: unknown scheme ${task.scheme}`);
  return stripReport(
    await checkScenario(scenario, scheme, { ...task.opts, scenarioRef: task.scenarioRef, jobs: 1 }),
  );
}

export type CellResult = Omit<CheckResult, 'report'>;

export function stripReport(r: CheckResult): CellResult {
  const { report: _report, ...rest } = r;
  return rest;
}
