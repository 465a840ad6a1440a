/**
 * The search: random walks, PCT, or preemption-bounded DFS with sleep sets, until a forbidden
 * finding appears or the budget (or the bounded space) is exhausted. A finding is shrunk, then
 * re-run with the trace on for the report — searching without tracing and showing with tracing
 * costs one run, since runs are deterministic.
 */
import type { Finding } from '../check/oracles.js';
import type { Scenario } from '../litmus/ast.js';
import type { Scheme } from '../schemes/scheme.js';
import { mixSeed } from '../sim/rng.js';
import type { Strategy } from '../sim/sched.js';
import { RandomStrategy, ReplayStrategy } from '../sim/strategy.js';
import { backtrack, DfsRunStrategy, type DfsNode } from './dfs.js';
import { decisive } from './judge.js';
import { PctStrategy } from './pct.js';
import { type CheckOptions, type CheckResult, type Coverage, replayString, runOnce, type StrategyName } from './run.js';
import { shrinkSchedule } from './shrink.js';

interface Failure {
  finding: Finding;
  schedule: number[];
  index: number;
}

interface SearchOutcome {
  failure: Failure | null;
  coverage: Coverage;
}

export async function explore(scenario: Scenario, scheme: Scheme, opts: CheckOptions): Promise<CheckResult> {
  const strategy: StrategyName = opts.strategy ?? 'random';
  const base = { scenario: scenario.name, scheme: scheme.name, seed: opts.seed };
  const na = scheme.notApplicable?.(scenario) ?? null;
  if (na) {
    const coverage: Coverage = { strategy, schedules: 0, pruned: 0, boundSkipped: 0, complete: false, text: `n/a: ${na}` };
    return { ...base, schedules: 0, verdict: 'n/a', reason: na, finding: null, findings: [], replay: null, report: null, coverage };
  }
  const out = strategy === 'dfs' ? await searchDfs(scenario, scheme, opts) : await searchSampled(scenario, scheme, opts, strategy);
  if (!out.failure) {
    return { ...base, schedules: out.coverage.schedules, verdict: 'ok', finding: null, findings: [], replay: null, report: null, coverage: out.coverage };
  }
  return reportFailure(scenario, scheme, opts, out, base);
}

async function reportFailure(scenario: Scenario, scheme: Scheme, opts: CheckOptions, out: SearchOutcome, base: { scenario: string; scheme: string; seed: number }): Promise<CheckResult> {
  const failure = out.failure as Failure;
  let schedule = failure.schedule;
  let shrunk: CheckResult['shrunk'];
  if (opts.shrink !== false) {
    const s = await shrinkSchedule(scenario, scheme, schedule, failure.finding.kind, opts.stepBound);
    shrunk = { from: countDeviations(schedule), to: s.deviations, runs: s.runs };
    schedule = s.schedule;
  }
  const report = await runOnce(scenario, scheme, new ReplayStrategy(schedule), { trace: true, stepBound: opts.stepBound });
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

/** Decisions where a recorded schedule differs from "keep running the task that ran last". */
function countDeviations(schedule: readonly number[]): number {
  let n = 0;
  for (let k = 1; k < schedule.length; k++) if (schedule[k] !== schedule[k - 1]) n++;
  return n;
}

/** Decisions a default run of the scenario makes: PCT's k. */
async function expectedDecisions(scenario: Scenario, scheme: Scheme, stepBound?: number): Promise<number> {
  const run = await runOnce(scenario, scheme, new ReplayStrategy([]), { stepBound });
  return Math.max(1, run.result.schedule.length);
}

/** Random walks or PCT: schedule i is seeded mixSeed(seed, i), independent of every other. */
async function searchSampled(scenario: Scenario, scheme: Scheme, opts: CheckOptions, strategy: 'random' | 'pct'): Promise<SearchOutcome> {
  const depth = opts.depth ?? 3;
  const k = strategy === 'pct' ? await expectedDecisions(scenario, scheme, opts.stepBound) : 0;
  const make = (i: number): Strategy =>
    strategy === 'pct' ? new PctStrategy(mixSeed(opts.seed, i), depth, k) : new RandomStrategy(mixSeed(opts.seed, i));
  for (let i = 0; i < opts.schedules; i++) {
    const run = await runOnce(scenario, scheme, make(i), { stepBound: opts.stepBound });
    const f = decisive(run.findings, scenario.forbid);
    if (f) {
      return { failure: { finding: f, schedule: run.result.schedule.slice(), index: i }, coverage: sampledCoverage(strategy, i + 1, depth) };
    }
  }
  return { failure: null, coverage: sampledCoverage(strategy, opts.schedules, depth) };
}

function sampledCoverage(strategy: 'random' | 'pct', schedules: number, depth: number): Coverage {
  const what = strategy === 'pct' ? `${schedules} PCT schedules of depth ${depth}` : `${schedules} random schedules`;
  return { strategy, schedules, pruned: 0, boundSkipped: 0, complete: false, ...(strategy === 'pct' ? { depth } : {}), text: what };
}

/** Preemption-bounded DFS with sleep sets; stops at the first finding in DFS order. */
async function searchDfs(scenario: Scenario, scheme: Scheme, opts: CheckOptions): Promise<SearchOutcome> {
  const bound = opts.preemptions ?? 2;
  const por = opts.por !== false;
  const stats = { boundSkipped: 0 };
  let schedules = 0;
  let pruned = 0;
  let prefix: number[] = [];
  let prefixNodes: DfsNode[] = [];
  const coverage = (complete: boolean): Coverage => ({
    strategy: 'dfs',
    schedules,
    pruned,
    boundSkipped: stats.boundSkipped,
    complete,
    preemptions: bound,
    text: `${complete ? 'all' : 'the first'} ${schedules} schedules with ≤ ${bound} preemptions, ${pruned} pruned as equivalent${por ? '' : ' (no partial-order reduction)'}${complete ? '' : ' — budget exhausted, not a proof'}`,
  });
  for (;;) {
    const strat = new DfsRunStrategy(prefix, prefixNodes, por, bound);
    const run = await runOnce(scenario, scheme, strat, { stepBound: opts.stepBound });
    if (run.result.outcome.kind === 'pruned') pruned++;
    else schedules++;
    const f = decisive(run.findings, scenario.forbid);
    if (f) return { failure: { finding: f, schedule: run.result.schedule.slice(), index: schedules }, coverage: coverage(false) };
    const next = backtrack(strat.nodes, bound, por, stats);
    if (!next) return { failure: null, coverage: coverage(true) };
    if (schedules + pruned >= opts.schedules) return { failure: null, coverage: coverage(false) };
    prefix = next.prefix;
    prefixNodes = next.prefixNodes;
  }
}
