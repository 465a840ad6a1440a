/**
 * Every default of a search, in one place: the explorer falls back on them, the CLI passes them
 * as its options' defaults and shows them in `--help` (cli/search.ts).
 */
import { STEP_BOUND_DEFAULT } from '../sim/sched.js';

export const DEFAULTS = {
  /** Steps after which a run is declared no-progress (the scheduler's own default). */
  stepBound: STEP_BOUND_DEFAULT,
  /** PCT's bug depth d. */
  depth: 3,
  /** DFS's preemption bound K. */
  preemptions: 2,
  /** The bound of `--preemptions all` (no bound): more than any run can preempt. */
  unbounded: Number.MAX_SAFE_INTEGER,
  /** Schedules a random or PCT search tries. */
  schedules: 1000,
  /** The most runs of a DFS (its frontier's included). */
  dfsSchedules: 1_000_000,
  /** Random schedules per matrix cell. */
  matrixSchedules: 1000,
  /** The seed of a search. */
  seed: 1,
  /**
   * Runs the DFS's behind a shrunk finding may make in all, to show that no schedule with fewer
   * preemptions reaches a finding of its kind (explore/shrink.ts, fewestPreemptions).
   */
  minimalRuns: 2000,
} as const;

/** The schedules a search tries unless told: a DFS goes on until it is complete, or nearly. */
export function defaultSchedules(strategy: 'random' | 'pct' | 'dfs'): number {
  return strategy === 'dfs' ? DEFAULTS.dfsSchedules : DEFAULTS.schedules;
}
