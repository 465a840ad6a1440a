/**
 * One campaign cell: a generated program under one scheme. It is checked by a preemption-bounded
 * DFS with partial-order reduction (explore/units.ts) within a budget of runs; a DFS that covers
 * its whole bounded tree is a certificate. Where the budget runs out first, the cell falls back to
 * PCT (explore/check.ts) and its record says so: a PCT "ok" is evidence, not a proof.
 * A finding's schedule is shrunk (explore/shrink.ts) before its replay string is recorded.
 * Plain JSON in and out, so a piscina worker runs it (worker.ts).
 */
import type { Finding } from '../check/oracles.js';
import { checkScenario } from '../explore/check.js';
import { decisive } from '../explore/judge.js';
import { replayString, runOnce } from '../explore/run.js';
import { shrinkSchedule } from '../explore/shrink.js';
import { dfsFrontier, runUnit, type SearchParams } from '../explore/units.js';
import type { Scenario } from '../litmus/ast.js';
import { parseLitmus } from '../litmus/parse.js';
import { findScheme } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import { ReplayStrategy } from '../sim/strategy.js';

export interface CellBudget {
  /** Most DFS runs (complete and pruned) before the cell falls back to PCT. */
  dfsRuns: number;
  /** DFS preemption bound. */
  preemptions: number;
  /** PCT schedules of the fallback. */
  pctSchedules: number;
  seed: number;
}

export const DEFAULT_BUDGET: CellBudget = { dfsRuns: 400, preemptions: 2, pctSchedules: 100, seed: 1 };

export interface CampaignCellTask {
  /** The program's index in the space (or in the random stream). */
  index: number;
  /** The scenario ref of replay strings: `<name>.litmus`. */
  ref: string;
  text: string;
  scheme: string;
  budget: CellBudget;
}

/** What backs a cell's verdict. */
export interface Certificate {
  /** dfs: the bounded DFS finished or found; pct: the budget ran out and PCT sampled. */
  method: 'dfs' | 'pct' | 'none';
  /** The whole bounded tree was covered with nothing forbidden found. */
  complete: boolean;
  schedules: number;
  pruned: number;
  preemptions?: number;
  depth?: number;
}

export interface RecordFinding {
  kind: Finding['kind'];
  summary: string;
  details: string[];
  ops: string[];
}

export interface CellOutcome {
  verdict: 'ok' | 'n/a' | Finding['kind'];
  reason?: string;
  findings: RecordFinding[];
  certificate: Certificate;
  replay: string | null;
  /** The failing schedule (shrunk), for the minimiser. */
  schedule: number[] | null;
}

function recordFinding(f: Finding): RecordFinding {
  return { kind: f.kind, summary: f.summary, details: f.details, ops: f.ops };
}

function dfsParams(b: CellBudget): SearchParams {
  return { strategy: 'dfs', seed: b.seed, depth: 3, expectedSteps: 0, preemptions: b.preemptions, por: true };
}

interface DfsResult {
  complete: boolean;
  schedules: number;
  pruned: number;
  failure: number[] | null;
}

/** The bounded DFS, unit after unit in this thread, until a failure or `dfsRuns` runs. */
async function boundedDfs(scenario: Scenario, scheme: Scheme, b: CellBudget): Promise<DfsResult> {
  const params = dfsParams(b);
  const { units } = await dfsFrontier(scenario, scheme, params, b.dfsRuns);
  let schedules = 0;
  let pruned = 0;
  for (const unit of units) {
    const left = b.dfsRuns - schedules - pruned;
    if (left <= 0 || unit.kind !== 'dfs') return { complete: false, schedules, pruned, failure: null };
    const r = await runUnit(scenario, scheme, params, { ...unit, budget: left });
    schedules += r.schedules;
    pruned += r.pruned;
    if (r.failure) return { complete: false, schedules, pruned, failure: r.failure.schedule };
    if (!r.complete) return { complete: false, schedules, pruned, failure: null };
  }
  return { complete: true, schedules, pruned, failure: null };
}

/** Shrinks a failing DFS schedule and judges its replay: the decisive finding first. */
async function dfsFailure(
  scenario: Scenario,
  scheme: Scheme,
  t: CampaignCellTask,
  schedule: number[],
): Promise<Pick<CellOutcome, 'verdict' | 'findings' | 'replay' | 'schedule'>> {
  const first = await runOnce(scenario, scheme, new ReplayStrategy(schedule));
  const kind = (decisive(first.findings, scenario.forbid) as Finding).kind;
  const shrunk = await shrinkSchedule(scenario, scheme, schedule, kind);
  const run = await runOnce(scenario, scheme, new ReplayStrategy(shrunk.schedule));
  const shown =
    decisive(run.findings, scenario.forbid) ?? (decisive(first.findings, scenario.forbid) as Finding);
  const findings = [shown, ...run.findings.filter((f) => f !== shown)].map(recordFinding);
  return {
    verdict: shown.kind,
    findings,
    replay: replayString(t.ref, scheme.name, shrunk.schedule),
    schedule: shrunk.schedule,
  };
}

export async function runCampaignCell(t: CampaignCellTask): Promise<CellOutcome> {
  const scenario = parseLitmus(t.text, t.ref);
  const scheme = findScheme(t.scheme);
  if (!scheme) throw new Error(`campaign: unknown scheme ${t.scheme}`);
  const none: Certificate = { method: 'none', complete: false, schedules: 0, pruned: 0 };
  const na = scheme.notApplicable?.(scenario) ?? null;
  if (na)
    return { verdict: 'n/a', reason: na, findings: [], certificate: none, replay: null, schedule: null };
  const dfs = await boundedDfs(scenario, scheme, t.budget);
  const certificate: Certificate = {
    method: 'dfs',
    complete: dfs.complete,
    schedules: dfs.schedules,
    pruned: dfs.pruned,
    preemptions: t.budget.preemptions,
  };
  if (dfs.failure) return { certificate, ...(await dfsFailure(scenario, scheme, t, dfs.failure)) };
  if (dfs.complete) return { verdict: 'ok', findings: [], certificate, replay: null, schedule: null };
  return pctFallback(scenario, scheme, t);
}

/** The DFS budget ran out: PCT samples the schedules instead (no certificate). */
async function pctFallback(scenario: Scenario, scheme: Scheme, t: CampaignCellTask): Promise<CellOutcome> {
  const r = await checkScenario(scenario, scheme, {
    scenarioRef: t.ref,
    strategy: 'pct',
    schedules: t.budget.pctSchedules,
    seed: t.budget.seed,
    jobs: 1,
  });
  const certificate: Certificate = {
    method: 'pct',
    complete: false,
    schedules: r.coverage.schedules,
    pruned: 0,
    depth: r.coverage.depth,
  };
  const schedule = r.replay ? (r.report?.result.schedule.slice() ?? null) : null;
  return {
    verdict: r.verdict,
    findings: r.findings.map(recordFinding),
    certificate,
    replay: r.replay,
    schedule,
  };
}
