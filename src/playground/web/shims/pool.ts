/**
 * explore/pool.ts as the playground's Web Worker has it: no worker threads (the page runs one
 * search at a time in one Web Worker), so every search runs its units in this thread, in index
 * order — exactly what pool.ts does with `jobs` = 1 (explore/inthread.ts, shared by both). The
 * bundler puts this file where explore/search.ts imports './pool.js' (src/playground/vite.config.ts).
 */

import { runUnitsInThread, type UnitProgress } from '../../../explore/inthread.js';
import type { SearchParams, Unit, UnitResult } from '../../../explore/units.js';
import type { Scenario } from '../../../litmus/ast.js';
import type { Scheme } from '../../../schemes/scheme.js';

export function runUnits(
  scenario: Scenario,
  scheme: Scheme,
  params: SearchParams,
  units: Unit[],
  _jobs: number,
  onUnit?: UnitProgress,
  runBudget?: number,
): Promise<UnitResult[]> {
  return runUnitsInThread(scenario, scheme, params, units, onUnit, runBudget);
}

/** No threads to start. */
export function warmUnitPool(_jobs: number): void {}
