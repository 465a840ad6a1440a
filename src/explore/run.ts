/**
 * One run, the leaf of the explorer: `runOnce` executes a scenario under a scheme with one
 * strategy and judges it; `replaySchedule` re-executes a recorded schedule with the trace on; the
 * replay string `<scenario>:<scheme>:<schedule>` names such a schedule. Everything here runs one
 * schedule: the searches over many live in search.ts (entry point: check.ts).
 */
import type { Finding } from '../check/oracles.js';
import type { Scenario } from '../litmus/ast.js';
import { buildWorld, spawnTasks, type World } from '../litmus/world.js';
import type { Scheme } from '../schemes/scheme.js';
import { type RunResult, Sim, type Strategy } from '../sim/sched.js';
import { decodeSchedule, encodeSchedule } from '../sim/schedule.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { DEFAULTS } from './defaults.js';
import { type JudgeMemo, judgeRun } from './judge.js';

export interface RunReport {
  result: RunResult;
  world: World;
  findings: Finding[];
  /** Why the data oracles could not decide part of this run (src/check/linearize.ts), if so. */
  inconclusive?: string;
}

export interface RunOptions {
  trace?: boolean;
  stepBound?: number;
  /** Judgements of earlier runs of this scenario, by what the oracles read (judge.ts). */
  memo?: JudgeMemo;
  /** Told of the world once it is built and its tasks spawned, before the first step. */
  onWorld?: (sim: Sim, world: World) => void;
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
    stepBound: opts.stepBound ?? DEFAULTS.stepBound,
  });
  const world = buildWorld(scenario, scheme);
  spawnTasks(sim, world);
  opts.onWorld?.(sim, world);
  const result = await sim.run();
  const j = judgeRun(world, result, opts.memo);
  return { result, world, findings: j.findings, ...(j.inconclusive ? { inconclusive: j.inconclusive } : {}) };
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

/**
 * Re-executes a schedule with the trace on: the search ran without it, and since a run is
 * deterministic, showing a found schedule costs this one run.
 */
export async function replaySchedule(
  scenario: Scenario,
  scheme: Scheme,
  schedule: readonly number[],
  stepBound?: number,
): Promise<RunReport> {
  return runOnce(scenario, scheme, new ReplayStrategy(schedule), { trace: true, stepBound });
}
