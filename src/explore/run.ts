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
import { type RunResult, Sim, type Strategy } from '../sim/sched.js';
import { decodeSchedule, encodeSchedule } from '../sim/schedule.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { judge } from './judge.js';
import { explore } from './search.js';
import type { UnitResult } from './units.js';

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

export type StrategyName = 'random' | 'pct' | 'dfs';
export const STRATEGY_NAMES: readonly StrategyName[] = ['random', 'pct', 'dfs'];

export interface CheckOptions {
  /** Schedules to try (random, pct), or the most runs a dfs may make. */
  schedules: number;
  seed: number;
  stepBound?: number;
  /** How the scenario is named in replay strings: a built-in name or a file path. */
  scenarioRef: string;
  /** Default 'random'. */
  strategy?: StrategyName;
  /** PCT depth d (default 3). */
  depth?: number;
  /** DFS preemption bound K (default 2). */
  preemptions?: number;
  /** DFS partial-order reduction with sleep sets (default on). */
  por?: boolean;
  /** Shrink a finding before showing it (default on). */
  shrink?: boolean;
  /** Worker threads (default 1 here; the CLI defaults to the machine's cores). */
  jobs?: number;
  /** Told of every finished unit of work (progress display). */
  onProgress?: (r: UnitResult) => void;
}

/** What a search covered: for dfs, a bounded certificate. */
export interface Coverage {
  strategy: StrategyName;
  /** Complete runs. */
  schedules: number;
  /** DFS: runs abandoned as equivalent to an explored one (sleep sets). */
  pruned: number;
  /** DFS: alternatives the preemption bound ruled out. */
  boundSkipped: number;
  /** DFS: every schedule within the bound was covered. */
  complete: boolean;
  preemptions?: number;
  depth?: number;
  /** One line: "all N schedules with ≤ K preemptions, M pruned as equivalent". */
  text: string;
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
  /** The failing run (shrunk), re-executed with the trace on. */
  report: RunReport | null;
  coverage: Coverage;
  /** Deviations from the non-preemptive default in the failing schedule before and after shrinking. */
  shrunk?: { from: number; to: number; runs: number };
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

export function checkScenario(scenario: Scenario, scheme: Scheme, opts: CheckOptions): Promise<CheckResult> {
  return explore(scenario, scheme, opts);
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
