/**
 * The worker-thread side of a parallel search (piscina): one unit of work in, its result out, both
 * plain JSON. The scenario travels as its litmus text and the scheme as its name or file path, so a unit can as
 * well be shipped to another machine (docs/scaling.md). The same worker runs whole matrix cells
 * (`cell`, cell.ts) for the matrix's pool.
 */
import { parseLitmus } from '../litmus/parse.js';
import { resolveSchemeRef } from './schemefile.js';
import { runUnit, type UnitResult, type WorkerTask } from './units.js';

export { cell } from './cell.js';

export default async function work(task: WorkerTask): Promise<UnitResult> {
  const scenario = parseLitmus(task.scenarioText, task.scenarioSource);
  const scheme = await resolveSchemeRef(task.scheme); // a file scheme: the same file, by its path
  return runUnit(scenario, scheme, task.params, task.unit);
}
