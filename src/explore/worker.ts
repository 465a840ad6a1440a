/**
 * The worker-thread side of a parallel search (piscina): one unit of work in, its result out, both
 * plain JSON. The scenario travels as its litmus text and the scheme as its name, so a unit can as
 * well be shipped to another machine (docs/scaling.md). The same worker runs whole matrix cells
 * (`cell`, cell.ts) for the matrix's pool.
 */
import { parseLitmus } from '../litmus/parse.js';
import { findScheme } from '../schemes/index.js';
import { runUnit, type UnitResult, type WorkerTask } from './units.js';

export { cell } from './cell.js';

export default async function work(task: WorkerTask): Promise<UnitResult> {
  const scenario = parseLitmus(task.scenarioText, task.scenarioSource);
  const scheme = findScheme(task.scheme);
  if (!scheme) throw new Error(`worker: unknown scheme ${task.scheme}`);
  return runUnit(scenario, scheme, task.params, task.unit);
}
