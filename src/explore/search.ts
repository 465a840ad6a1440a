/**
 * The search: random walks, PCT, or preemption-bounded DFS with sleep sets, until a forbidden
 * finding appears or the budget (or the bounded space) is exhausted. A finding is shrunk, then
 * re-run with the trace on for the report — searching without tracing and showing with tracing
 * costs one run, since runs are deterministic.
 */
import type { Finding } from '../check/oracles.js';
import type { Scenario } from '../litmus/ast.js';
import type { Scheme } from '../schemes/scheme.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { decisive } from './judge.js';
import { runUnits, warmUnitPool } from './pool.js';
import {
  type CheckOptions,
  type CheckResult,
  type Coverage,
  replayString,
  runOnce,
  type StrategyName,
} from './run.js';
import { shrinkSchedule } from './shrink.js';
import { CHUNK_SCHEDULES, dfsFrontier, type SearchParams, type Unit, type UnitResult } from './units.js';

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
    const coverage: Coverage = {
      strategy,
      schedules: 0,
      pruned: 0,
      boundSkipped: 0,
      complete: false,
      text: `n/a: ${na}`,
    };
    return {
      ...base,
      schedules: 0,
      verdict: 'n/a',
      reason: na,
      finding: null,
      findings: [],
      replay: null,
      report: null,
      coverage,
    };
  }
  const out =
    strategy === 'dfs'
      ? await searchDfs(scenario, scheme, opts)
      : await searchSampled(scenario, scheme, opts, strategy);
  if (!out.failure) {
    return {
      ...base,
      schedules: out.coverage.schedules,
      verdict: 'ok',
      finding: null,
      findings: [],
      replay: null,
      report: null,
      coverage: out.coverage,
    };
  }
  return reportFailure(scenario, scheme, opts, out, base);
}

async function reportFailure(
  scenario: Scenario,
  scheme: Scheme,
  opts: CheckOptions,
  out: SearchOutcome,
  base: { scenario: string; scheme: string; seed: number },
): Promise<CheckResult> {
  const failure = out.failure as Failure;
  let schedule = failure.schedule;
  let shrunk: CheckResult['shrunk'];
  if (opts.shrink !== false) {
    const s = await shrinkSchedule(scenario, scheme, schedule, failure.finding.kind, opts.stepBound);
    shrunk = { from: countDeviations(schedule), to: s.deviations, runs: s.runs };
    schedule = s.schedule;
  }
  const report = await runOnce(scenario, scheme, new ReplayStrategy(schedule), {
    trace: true,
    stepBound: opts.stepBound,
  });
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

/** Chunks of schedule indices: their size depends on the budget only, never on the workers. */
function chunkUnits(schedules: number): Unit[] {
  const size = Math.max(CHUNK_SCHEDULES, Math.ceil(schedules / 1024));
  const units: Unit[] = [];
  for (let start = 0, index = 0; start < schedules; start += size, index++) {
    units.push({ kind: 'chunk', index, start, end: Math.min(schedules, start + size) });
  }
  return units;
}

function firstFailure(results: readonly UnitResult[]): UnitResult | undefined {
  return results.find((r) => r.failure);
}

/** Random walks or PCT: schedule i is seeded mixSeed(seed, i), independent of every other. */
async function searchSampled(
  scenario: Scenario,
  scheme: Scheme,
  opts: CheckOptions,
  strategy: 'random' | 'pct',
): Promise<SearchOutcome> {
  const params = await searchParams(scenario, scheme, opts, strategy);
  const units = chunkUnits(opts.schedules);
  const results = await runUnits(scenario, scheme, params, units, opts.jobs ?? 1, opts.onProgress);
  const failed = firstFailure(results);
  const schedules = results.reduce((n, r) => n + r.schedules, 0);
  const coverage = sampledCoverage(strategy, schedules, params.depth);
  if (!failed?.failure) return { failure: null, coverage };
  return {
    failure: { finding: failed.failure.finding, schedule: failed.failure.schedule, index: schedules },
    coverage,
  };
}

async function searchParams(
  scenario: Scenario,
  scheme: Scheme,
  opts: CheckOptions,
  strategy: SearchParams['strategy'],
): Promise<SearchParams> {
  return {
    strategy,
    seed: opts.seed,
    depth: opts.depth ?? 3,
    expectedSteps: strategy === 'pct' ? await expectedDecisions(scenario, scheme, opts.stepBound) : 0,
    preemptions: opts.preemptions ?? 2,
    por: opts.por !== false,
    stepBound: opts.stepBound,
  };
}

function sampledCoverage(strategy: 'random' | 'pct', schedules: number, depth: number): Coverage {
  const what =
    strategy === 'pct' ? `${schedules} PCT schedules of depth ${depth}` : `${schedules} random schedules`;
  return {
    strategy,
    schedules,
    pruned: 0,
    boundSkipped: 0,
    complete: false,
    ...(strategy === 'pct' ? { depth } : {}),
    text: what,
  };
}

/** Preemption-bounded DFS with sleep sets over the frontier's units; the first failing unit wins. */
async function searchDfs(scenario: Scenario, scheme: Scheme, opts: CheckOptions): Promise<SearchOutcome> {
  const params = await searchParams(scenario, scheme, opts, 'dfs');
  warmUnitPool(opts.jobs ?? 1);
  const { units, boundSkipped } = await dfsFrontier(scenario, scheme, params, opts.schedules);
  const results = await runUnits(scenario, scheme, params, units, opts.jobs ?? 1, opts.onProgress);
  const failed = firstFailure(results);
  const schedules = results.reduce((n, r) => n + r.schedules, 0);
  const pruned = results.reduce((n, r) => n + r.pruned, 0);
  const skipped = boundSkipped + results.reduce((n, r) => n + r.boundSkipped, 0);
  const complete = !failed && results.length === units.length && results.every((r) => r.complete);
  const bound = params.preemptions;
  const coverage: Coverage = {
    strategy: 'dfs',
    schedules,
    pruned,
    boundSkipped: skipped,
    complete,
    preemptions: bound,
    text: `${complete ? 'all' : 'the first'} ${schedules} schedules with ≤ ${bound} preemptions, ${pruned} pruned as equivalent${params.por ? '' : ' (no partial-order reduction)'}${complete || failed ? '' : ' — budget exhausted, not a proof'}`,
  };
  if (!failed?.failure) return { failure: null, coverage };
  return {
    failure: { finding: failed.failure.finding, schedule: failed.failure.schedule, index: schedules },
    coverage,
  };
}
