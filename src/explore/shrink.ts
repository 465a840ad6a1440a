/**
 * Minimal counterexamples: a failing schedule is a list of choices; the ones that matter are its
 * deviations from the non-preemptive default (keep the current task; when it blocks or exits, the
 * lowest runnable id). Shrinking drops deviations one at a time, last first, keeping a drop when
 * the run still ends in a finding of the same kind, until no single drop keeps it: fewer
 * preemptions and context switches, and usually fewer steps. The replay string of the result
 * replays the shrunk run.
 *
 * Greedy dropping stops at a local minimum (a random walk's finding kept 6 context switches where
 * one preemption was enough). fewestPreemptions then asks the bounded DFS, bound 0, 1, … up to
 * one less than the shrunk schedule's preemptions, for a run with a finding of the same kind: the
 * first bound that has one gives the fewest preemptions, and every complete bound below it is the
 * proof. Preemptions (a switch away from a task that could go on) are the DFS's measure; a switch
 * from a task that blocked or exited costs none. Within a budget of runs, or it says it is not
 * proven, and why. Deterministic: the DFS runs in this thread, in its fixed order.
 */
import type { Finding } from '../check/oracles.js';
import type { Scenario } from '../litmus/ast.js';
import type { Scheme } from '../schemes/scheme.js';
import type { Strategy } from '../sim/sched.js';
import type { Task } from '../sim/task.js';
import { decisive } from './judge.js';
import { runOnce } from './run.js';
import { search } from './search.js';

/** Follows the default except at the given decisions, where it runs the given task if it can. */
export class DeviationStrategy implements Strategy {
  readonly name = 'deviations';
  private k = 0;
  /** The deviations actually taken (decision index → task id). */
  readonly taken = new Map<number, number>();
  /** Switches away from a current task that could have gone on. */
  preemptions = 0;

  constructor(private readonly deviations: ReadonlyMap<number, number>) {}

  pick(runnable: readonly Task[], current: Task): Task {
    const k = this.k++;
    const dflt = runnable.includes(current) ? current : runnable[0];
    const want = this.deviations.get(k);
    const t = want === undefined ? undefined : runnable.find((x) => x.id === want);
    if (t && t !== dflt) {
      this.taken.set(k, t.id);
      if (runnable.includes(current)) this.preemptions++;
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
  /** Of the deviations, the preemptions (the current task could have gone on). */
  preemptions: number;
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
    if (f?.kind !== kind) return null;
    return { devs: strat.taken, schedule: run.result.schedule.slice(), preemptions: strat.preemptions };
  };
  let runs = 1;
  let best = await reproduce(deviationsOf(schedule));
  if (!best)
    return { schedule: schedule.slice(), deviations: schedule.length, preemptions: schedule.length, runs };
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
  return { schedule: best.schedule, deviations: best.devs.size, preemptions: best.preemptions, runs };
}

/** Whether a shown failure has the fewest preemptions a finding of its kind needs, and what says so. */
export interface Minimality {
  /** Every bound below the failure's preemptions was searched completely, and showed none. */
  proven: boolean;
  /** One line: what backs it, or why it is not proven. */
  text: string;
  /** Runs the DFS's made. */
  runs: number;
}

export interface FewestResult {
  schedule: number[];
  preemptions: number;
  minimal: Minimality;
}

/** The preemptions of a recorded schedule, and the decisive finding's kind when it is replayed. */
export async function replayCounting(
  scenario: Scenario,
  scheme: Scheme,
  schedule: readonly number[],
  stepBound?: number,
): Promise<{ preemptions: number; kind: Finding['kind'] | undefined }> {
  const strat = new DeviationStrategy(deviationsOf(schedule));
  const run = await runOnce(scenario, scheme, strat, { stepBound });
  return { preemptions: strat.preemptions, kind: decisive(run.findings, scenario.forbid)?.kind };
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** What the complete DFS's below `bound` showed. */
function noneBelow(bound: number, kind: Finding['kind']): string {
  const within = bound === 1 ? 'without preemption' : `with ≤ ${plural(bound - 1, 'preemption')}`;
  return `a complete DFS finds no ${kind} ${within}`;
}

/**
 * The fewest preemptions a run with a finding of `kind` needs, by bounded DFS (bound 0, 1, …,
 * `shrunk.preemptions` − 1) over the scenario with only `kind` forbidden, within `budget` runs in
 * all. Returns the first schedule found (it has the fewest, as every bound below was complete), or
 * the shrunk one, with what backs the claim or why there is none.
 */
export async function fewestPreemptions(
  scenario: Scenario,
  scheme: Scheme,
  shrunk: { schedule: readonly number[]; preemptions: number },
  kind: Finding['kind'],
  opts: { stepBound?: number; budget: number },
): Promise<FewestResult> {
  const only: Scenario = { ...scenario, forbid: [kind] };
  let runs = 0;
  const keep = (minimal: Omit<Minimality, 'runs'>): FewestResult => ({
    schedule: shrunk.schedule.slice(),
    preemptions: shrunk.preemptions,
    minimal: { ...minimal, runs },
  });
  for (let bound = 0; bound < shrunk.preemptions; bound++) {
    const out = await search(only, scheme, {
      strategy: 'dfs',
      preemptions: bound,
      schedules: Math.max(1, opts.budget - runs),
      seed: 0,
      stepBound: opts.stepBound,
      jobs: 1,
    });
    runs += out.coverage.schedules;
    const within = bound ? `with ≤ ${plural(bound, 'preemption')}` : 'without preemption';
    if (out.inconclusive)
      return keep({
        proven: false,
        text: `minimal not proven (${out.inconclusive.runs} runs of the DFS ${within} not decided in full)`,
      });
    if (out.failure) {
      const again = await replayCounting(scenario, scheme, out.failure.schedule, opts.stepBound);
      if (again.kind !== kind)
        return keep({
          proven: false,
          text: `minimal not proven (the DFS ${within} found a run whose decisive finding is ${again.kind ?? 'none'})`,
        });
      const below = bound ? `: ${noneBelow(bound, kind)}` : '';
      return {
        schedule: out.failure.schedule,
        preemptions: again.preemptions,
        minimal: { proven: true, text: `the fewest${below}`, runs },
      };
    }
    if (!out.coverage.complete) {
      const known = bound ? `${noneBelow(bound, kind)}; ` : '';
      const text = `minimal not proven (${known}the DFS ${within} did not finish within the budget of ${opts.budget} runs)`;
      return keep({ proven: false, text });
    }
  }
  const below = shrunk.preemptions ? `: ${noneBelow(shrunk.preemptions, kind)}` : '';
  return keep({ proven: true, text: `the fewest${below}` });
}
