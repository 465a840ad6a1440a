/**
 * The explorer's entry point: `checkScenario` decides whether the scheme can express the scenario
 * (n/a), searches its schedules (search.ts), and shows a failure: shrunk (shrink.ts), then re-run
 * with the trace on for the report — searching without the trace and showing with it costs one
 * run, since runs are deterministic.
 */
import type { Finding } from '../check/oracles.js';
import type { Scenario } from '../litmus/ast.js';
import { type Scheme, scenarioNotApplicable } from '../schemes/scheme.js';
import { DEFAULTS } from './defaults.js';
import { decisive } from './judge.js';
import { type RunReport, replaySchedule, replayString } from './run.js';
import {
  type Coverage,
  type SearchOptions,
  type SearchOutcome,
  type StrategyName,
  search,
} from './search.js';
import { fewestPreemptions, type Minimality, replayCounting, shrinkSchedule } from './shrink.js';

export type { Coverage, StrategyName } from './search.js';
export { STRATEGY_NAMES } from './search.js';

export interface CheckOptions extends SearchOptions {
  /** How the scenario is named in replay strings: a built-in name or a file path. */
  scenarioRef: string;
  /** Shrink a finding before showing it (default on). */
  shrink?: boolean;
  /**
   * Runs the DFS's behind a shrunk finding may make to show it has the fewest preemptions
   * (default DEFAULTS.minimalRuns; 0: do not try).
   */
  minimalRuns?: number;
}

/**
 * A check's outcome: nothing forbidden found, not expressible, the decisive finding's kind, or
 * inconclusive: nothing forbidden found, but the data oracles could not decide every run in full
 * (their state budget ran out: src/check/linearize.ts), so "ok" would claim more than was checked.
 */
export type Verdict = 'ok' | 'n/a' | 'inconclusive' | Finding['kind'];

export interface CheckResult {
  scenario: string;
  scheme: string;
  seed: number;
  /** Schedules run (up to and including the failing one). */
  schedules: number;
  verdict: Verdict;
  /** Why the scenario cannot be expressed for the scheme (verdict `n/a`). */
  reason?: string;
  finding: Finding | null;
  /** Every finding of the failing run (the decisive one first). */
  findings: Finding[];
  replay: string | null;
  /** The failing run (shrunk), re-executed with the trace on. */
  report: RunReport | null;
  coverage: Coverage;
  /** Verdict `inconclusive`: how many runs were not decided in full, and why the first was not. */
  inconclusive?: { runs: number; reason: string };
  /**
   * The failing schedule's preemptions (switches away from a task that could have gone on: the
   * DFS's measure) as found and as shown, the runs shrinking made (the DFS's behind `minimal`
   * included), and whether `to` is the fewest a finding of its kind needs (explore/shrink.ts).
   */
  shrunk?: { from: number; to: number; runs: number; minimal: Minimality };
}

type Base = Pick<CheckResult, 'scenario' | 'scheme' | 'seed'>;

export async function checkScenario(
  scenario: Scenario,
  scheme: Scheme,
  opts: CheckOptions,
): Promise<CheckResult> {
  const base: Base = { scenario: scenario.name, scheme: scheme.name, seed: opts.seed };
  const na = scenarioNotApplicable(scheme, scenario);
  if (na) return notApplicable(base, opts.strategy ?? 'random', na);
  const out = await search(scenario, scheme, opts);
  if (!out.failure) {
    const u = out.inconclusive;
    return {
      ...base,
      schedules: out.coverage.schedules,
      verdict: u ? 'inconclusive' : 'ok',
      finding: null,
      findings: [],
      replay: u ? replayString(opts.scenarioRef, scheme.name, u.schedule) : null,
      report: null,
      coverage: out.coverage,
      ...(u ? { inconclusive: { runs: u.runs, reason: u.reason } } : {}),
    };
  }
  return reportFailure(scenario, scheme, opts, out, base);
}

function notApplicable(base: Base, strategy: StrategyName, reason: string): CheckResult {
  const coverage: Coverage = {
    strategy,
    schedules: 0,
    pruned: 0,
    boundSkipped: 0,
    complete: false,
    text: `n/a: ${reason}`,
  };
  return {
    ...base,
    schedules: 0,
    verdict: 'n/a',
    reason,
    finding: null,
    findings: [],
    replay: null,
    report: null,
    coverage,
  };
}

async function reportFailure(
  scenario: Scenario,
  scheme: Scheme,
  opts: CheckOptions,
  out: SearchOutcome,
  base: Base,
): Promise<CheckResult> {
  const failure = out.failure as NonNullable<SearchOutcome['failure']>;
  let schedule = failure.schedule;
  let shrunk: CheckResult['shrunk'];
  if (opts.shrink !== false) {
    const kind = failure.finding.kind;
    const s = await shrinkSchedule(scenario, scheme, schedule, kind, opts.stepBound);
    const budget = opts.minimalRuns ?? DEFAULTS.minimalRuns;
    const shown =
      budget > 0
        ? await fewestPreemptions(scenario, scheme, s, kind, { stepBound: opts.stepBound, budget })
        : { ...s, minimal: { proven: false, text: 'minimal not tried', runs: 0 } };
    const from = await replayCounting(scenario, scheme, schedule, opts.stepBound);
    const runs = s.runs + shown.minimal.runs + 1;
    shrunk = { from: from.preemptions, to: shown.preemptions, runs, minimal: shown.minimal };
    schedule = shown.schedule;
  }
  const report = await replaySchedule(scenario, scheme, schedule, opts.stepBound);
  const shown = decisive(report.findings, scenario.forbid) ?? failure.finding;
  return {
    ...base,
    schedules: out.coverage.schedules,
    verdict: shown.kind,
    finding: shown,
    findings: [shown, ...report.findings.filter((x) => x !== shown)],
    replay: replayString(opts.scenarioRef, scheme.name, schedule),
    report,
    coverage: out.coverage,
    ...(shrunk ? { shrunk } : {}),
  };
}
