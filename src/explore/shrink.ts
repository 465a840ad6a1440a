/**
 * Minimal counterexamples: a failing schedule is a list of choices; the ones that matter are its
 * deviations from the non-preemptive default (keep the current task; when it blocks or exits, the
 * lowest runnable id). Shrinking drops deviations one at a time, last first, keeping a drop when
 * the run still ends in a finding of the same kind, until no single drop keeps it: fewer
 * preemptions and context switches, and usually fewer steps. The replay string of the result
 * replays the shrunk run.
 */
import type { Finding } from '../check/oracles.js';
import type { Scenario } from '../litmus/ast.js';
import type { Scheme } from '../schemes/scheme.js';
import type { Strategy } from '../sim/sched.js';
import type { Task } from '../sim/task.js';
import { decisive } from './judge.js';
import { runOnce } from './run.js';

/** Follows the default except at the given decisions, where it runs the given task if it can. */
export class DeviationStrategy implements Strategy {
  readonly name = 'deviations';
  private k = 0;
  /** The deviations actually taken (decision index → task id). */
  readonly taken = new Map<number, number>();

  constructor(private readonly deviations: ReadonlyMap<number, number>) {}

  pick(runnable: readonly Task[], current: Task): Task {
    const k = this.k++;
    const dflt = runnable.includes(current) ? current : runnable[0];
    const want = this.deviations.get(k);
    const t = want === undefined ? undefined : runnable.find((x) => x.id === want);
    if (t && t !== dflt) {
      this.taken.set(k, t.id);
      return t;
    }
    return dflt;
  }
}

/** The deviations of a recorded schedule from the default, by replaying it. */
export function deviationsOf(schedule: readonly number[]): Map<number, number> {
  return new Map(schedule.map((id, k) => [k, id] as const));
}

export interface ShrinkResult {
  schedule: number[];
  deviations: number;
  runs: number;
}

export async function shrinkSchedule(
  scenario: Scenario,
  scheme: Scheme,
  schedule: readonly number[],
  kind: Finding['kind'],
  stepBound?: number,
  budget = 400,
): Promise<ShrinkResult> {
  const reproduce = async (devs: ReadonlyMap<number, number>) => {
    const strat = new DeviationStrategy(devs);
    const run = await runOnce(scenario, scheme, strat, { stepBound });
    const f = decisive(run.findings, scenario.forbid);
    return f?.kind === kind ? { devs: strat.taken, schedule: run.result.schedule.slice() } : null;
  };
  let runs = 1;
  let best = await reproduce(deviationsOf(schedule));
  if (!best) return { schedule: schedule.slice(), deviations: schedule.length, runs };
  let progress = true;
  while (progress && runs < budget) {
    progress = false;
    const keys = [...best.devs.keys()].sort((a, b) => b - a);
    for (const k of keys) {
      if (runs >= budget) break;
      const candidate = new Map(best.devs);
      candidate.delete(k);
      runs++;
      const r = await reproduce(candidate);
      if (r && r.devs.size < best.devs.size) {
        best = r;
        progress = true;
        break;
      }
    }
  }
  return { schedule: best.schedule, deviations: best.devs.size, runs };
}
