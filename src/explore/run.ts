/**
 * One run and a search over many: `runOnce` executes a scenario under a scheme with one strategy;
 * `checkScenario` runs up to N schedules (random, seeded per schedule index) until a forbidden
 * finding appears, then re-runs that schedule with the trace on for the report — searching
 * without tracing and showing with tracing costs nothing extra, since the run is deterministic.
 */
import type { Finding } from '../check/oracles.js';
import type { Scenario } from '../litmus/ast.js';
import { buildWorld, spawnTasks, type World } from '../litmus/world.js';
import type { Scheme } from '../schemes/scheme.js';
import { mixSeed } from '../sim/rng.js';
import { type RunResult, Sim, type Strategy } from '../sim/sched.js';
import { decodeSchedule, encodeSchedule } from '../sim/schedule.js';
import { RandomStrategy, ReplayStrategy } from '../sim/strategy.js';
import { decisive, judge } from './judge.js';

export const STEP_BOUND_DEFAULT = 20_000;

export interface RunReport {
  result: RunResult;
  world: World;
  findings: Finding[];
}

export interface RunOptions {
  trace?: boolean;
  stepBound?: number;
}

export async function runOnce(
  scenario: Scenario,
  scheme: Scheme,
  strategy: Strategy,
  opts: RunOptions = {},
): Promise<RunReport> {
  const sim = new Sim({
    strategy,
    trace: opts.trace ?? false,
    stepBound: opts.stepBound ?? STEP_BOUND_DEFAULT,
  });
  const world = buildWorld(scenario, scheme);
  spawnTasks(sim, world);
  const result = await sim.run();
  return { result, world, findings: judge(world, result) };
}

export interface CheckOptions {
  schedules: number;
  seed: number;
  stepBound?: number;
  /** How the scenario is named in replay strings: a built-in name or a file path. */
  scenarioRef: string;
}

export interface CheckResult {
  scenario: string;
  scheme: string;
  seed: number;
  /** Schedules run (up to and including the failing one). */
  schedules: number;
  verdict: 'ok' | 'n/a' | Finding['kind'];
  /** Why the scenario cannot be expressed for the scheme (verdict `n/a`). */
  reason?: string;
  finding: Finding | null;
  /** Every finding of the failing run (the decisive one first). */
  findings: Finding[];
  replay: string | null;
  /** The failing run, re-executed with the trace on. */
  report: RunReport | null;
}

/** The replay string: `<scenario>:<scheme>:<schedule>`; the scenario part may itself contain ':'. */
export function replayString(scenarioRef: string, scheme: string, schedule: readonly number[]): string {
  return `${scenarioRef}:${scheme}:${encodeSchedule(schedule)}`;
}

export function parseReplayString(s: string): { scenario: string; scheme: string; schedule: number[] } {
  const last = s.lastIndexOf(':');
  const mid = last > 0 ? s.lastIndexOf(':', last - 1) : -1;
  if (mid <= 0) throw new Error(`malformed replay string '${s}' (expected <scenario>:<scheme>:<schedule>)`);
  return {
    scenario: s.slice(0, mid),
    scheme: s.slice(mid + 1, last),
    schedule: decodeSchedule(s.slice(last + 1)),
  };
}

export async function checkScenario(
  scenario: Scenario,
  scheme: Scheme,
  opts: CheckOptions,
): Promise<CheckResult> {
  for (let i = 0; i < opts.schedules; i++) {
    const strategy = new RandomStrategy(mixSeed(opts.seed, i));
    const run = await runOnce(scenario, scheme, strategy, { stepBound: opts.stepBound });
    const f = decisive(run.findings, scenario.forbid);
    if (!f) continue;
    const schedule = run.result.schedule.slice();
    const report = await runOnce(scenario, scheme, new ReplayStrategy(schedule), {
      trace: true,
      stepBound: opts.stepBound,
    });
    const shown = decisive(report.findings, scenario.forbid) ?? f;
    return {
      scenario: scenario.name,
      scheme: scheme.name,
      seed: opts.seed,
      schedules: i + 1,
      verdict: shown.kind,
      finding: shown,
      findings: [shown, ...report.findings.filter((x) => x !== shown)],
      replay: replayString(opts.scenarioRef, scheme.name, schedule),
      report,
    };
  }
  return {
    scenario: scenario.name,
    scheme: scheme.name,
    seed: opts.seed,
    schedules: opts.schedules,
    verdict: 'ok',
    finding: null,
    findings: [],
    replay: null,
    report: null,
  };
}

/** Re-executes a replay string's schedule with the trace on. */
export async function replaySchedule(
  scenario: Scenario,
  scheme: Scheme,
  schedule: readonly number[],
  stepBound?: number,
): Promise<RunReport> {
  return runOnce(scenario, scheme, new ReplayStrategy(schedule), { trace: true, stepBound });
}
