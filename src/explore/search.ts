/**
 * The searches: random walks, PCT, or preemption-bounded DFS with sleep sets, until a forbidden
 * finding appears or the budget (or the bounded space) is exhausted. Each returns the first
 * failure (the decisive finding and its schedule, found without the trace) and what it covered;
 * shrinking and showing the failure is check.ts's. The work is cut into units (units.ts) that
 * pool.ts runs on worker threads, so the outcome does not depend on how many there are.
 */
import type { Finding } from '../check/oracles.js';
import type { Scenario } from '../litmus/ast.js';
import type { Scheme } from '../schemes/scheme.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { DEFAULTS } from './defaults.js';
import { runUnits, warmUnitPool } from './pool.js';
import { runOnce } from './run.js';
import { CHUNK_SCHEDULES, dfsFrontier, type SearchParams, type Unit, type UnitResult } from './units.js';

export type StrategyName = 'random' | 'pct' | 'dfs';
export const STRATEGY_NAMES: readonly StrategyName[] = ['random', 'pct', 'dfs'];

export interface SearchOptions {
  /** Schedules to try (random, pct), or the most runs a dfs may make, its frontier's included. */
  schedules: number;
  seed: number;
  stepBound?: number;
  /** Default 'random'. */
  strategy?: StrategyName;
  /** PCT depth d (default DEFAULTS.depth). */
  depth?: number;
  /**
   * DFS preemption bound K (default DEFAULTS.preemptions), or 'all': no bound, with state caching
   * (src/explore/stateful.ts) — every schedule up to equivalence.
   */
  preemptions?: number | 'all';
  /**
   * With `preemptions: 'all'`: cache visited states (src/explore/stateful.ts). Off by default: on
   * the built-in scenarios it cuts few runs and costs more than it saves (docs/architecture.md).
   */
  stateCache?: boolean;
  /** DFS partial-order reduction with sleep sets (default on). */
  por?: boolean;
  /** Worker threads (default 1 here; the CLI defaults to the machine's cores). */
  jobs?: number;
  /** Told of every finished unit of work (progress display). */
  onProgress?: (r: UnitResult) => void;
  /** Told how many units the search planned, before the first runs (progress display). */
  onPlan?: (units: number) => void;
}

/** What a search covered: for dfs, a bounded certificate. */
export interface Coverage {
  strategy: StrategyName;
  /** Complete runs. */
  schedules: number;
  /**
   * DFS: what partial-order reduction cut — choices DPOR left out as independent of what ran
   * (each a subtree of at least one schedule equivalent to an explored one), plus runs abandoned
   * as equivalent by the sleep sets. A lower bound on the schedules saved.
   */
  pruned: number;
  /** DFS: of `pruned`, the runs abandoned by the sleep sets. */
  sleepPruned?: number;
  /** DFS: alternatives the preemption bound ruled out. */
  boundSkipped: number;
  /** DFS: every schedule within the bound was covered. */
  complete: boolean;
  /** DFS: the bound (absent for `--preemptions all`, which has none: `unbounded`). */
  preemptions?: number;
  /** DFS `--preemptions all`: no preemption bound, state caching. */
  unbounded?: boolean;
  /** `--state-cache`: distinct states visited, and runs cut at a state already explored. */
  states?: number;
  cacheHits?: number;
  depth?: number;
  /** One line: "all N schedules with ≤ K preemptions, M pruned as equivalent". */
  text: string;
}

/** The first failing run of a search: its decisive finding and its schedule. */
export interface Failure {
  finding: Finding;
  schedule: number[];
}

/** Runs the data oracles could not decide in full: how many, the first one's reason and schedule. */
export interface Inconclusive {
  runs: number;
  reason: string;
  schedule: number[];
}

export interface SearchOutcome {
  failure: Failure | null;
  coverage: Coverage;
  /** Set when some run without a forbidden finding was not decided in full. */
  inconclusive?: Inconclusive;
}

/** Runs the search `opts.strategy` names. */
export function search(scenario: Scenario, scheme: Scheme, opts: SearchOptions): Promise<SearchOutcome> {
  const strategy = opts.strategy ?? 'random';
  return strategy === 'dfs'
    ? searchDfs(scenario, scheme, opts)
    : searchSampled(scenario, scheme, opts, strategy);
}

/** Tasks of a default run of the scenario: PCT's n. */
async function defaultRunTasks(scenario: Scenario, scheme: Scheme, stepBound?: number): Promise<number> {
  const run = await runOnce(scenario, scheme, new ReplayStrategy([]), { stepBound });
  return run.result.tasks.length;
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

/** The failure of the lowest-numbered failing unit (results come sorted by unit index). */
function firstFailure(results: readonly UnitResult[]): Failure | null {
  const failed = results.find((r) => r.failure)?.failure;
  return failed ? { finding: failed.finding, schedule: failed.schedule } : null;
}

/** The undecided runs of every unit, the first one's by unit order (results come sorted). */
function undecided(results: readonly UnitResult[]): { inconclusive?: Inconclusive } {
  const first = results.find((r) => r.inconclusive)?.inconclusive;
  if (!first) return {};
  const runs = results.reduce((n, r) => n + (r.inconclusive?.runs ?? 0), 0);
  return { inconclusive: { runs, reason: first.reason, schedule: first.schedule } };
}

/** Random walks or PCT: schedule i is seeded mixSeed(seed, i), independent of every other. */
async function searchSampled(
  scenario: Scenario,
  scheme: Scheme,
  opts: SearchOptions,
  strategy: 'random' | 'pct',
): Promise<SearchOutcome> {
  const params = await searchParams(scenario, scheme, opts, strategy);
  const units = chunkUnits(opts.schedules);
  opts.onPlan?.(units.length);
  const results = await runUnits(scenario, scheme, params, units, opts.jobs ?? 1, opts.onProgress);
  const schedules = results.reduce((n, r) => n + r.schedules, 0);
  const tasks = strategy === 'pct' ? await defaultRunTasks(scenario, scheme, opts.stepBound) : 0;
  return {
    failure: firstFailure(results),
    coverage: sampledCoverage(strategy, schedules, params.depth, params.expectedSteps, tasks),
    ...undecided(results),
  };
}

async function searchParams(
  scenario: Scenario,
  scheme: Scheme,
  opts: SearchOptions,
  strategy: SearchParams['strategy'],
): Promise<SearchParams> {
  return {
    strategy,
    seed: opts.seed,
    depth: opts.depth ?? DEFAULTS.depth,
    expectedSteps: strategy === 'pct' ? await expectedDecisions(scenario, scheme, opts.stepBound) : 0,
    preemptions: opts.preemptions === 'all' ? DEFAULTS.unbounded : (opts.preemptions ?? DEFAULTS.preemptions),
    por: opts.por !== false,
    stepBound: opts.stepBound,
    ...(opts.preemptions === 'all' && opts.stateCache && strategy === 'dfs' ? { stateful: true } : {}),
  };
}

/**
 * The stateful search is one unit: its cache is what prunes, and a cache shared by threads would
 * make what is pruned depend on their timing. One cache, one thread: the same counts whatever --jobs.
 */
function statefulUnit(budget: number): { units: Unit[]; boundSkipped: number; runs: number } {
  return { units: [{ kind: 'dfs', index: 0, prefix: [], sleep: [], budget }], boundSkipped: 0, runs: 0 };
}

/**
 * PCT's guarantee (Burckhardt et al., ASPLOS 2010, Theorem 1): one run finds a bug of depth d with
 * probability ≥ 1/(n·k^(d−1)), n tasks and k steps; N independent runs all miss it with
 * probability ≤ (1 − that)^N. k is the decisions of the default run (not every step: the model
 * only decides where tasks could interleave), n the tasks of that run (bio completions included).
 */
export function pctMissBound(n: number, k: number, d: number, runs: number): number {
  const p = 1 / (Math.max(1, n) * Math.max(1, k) ** (d - 1));
  return (1 - p) ** runs;
}

function sampledCoverage(
  strategy: 'random' | 'pct',
  schedules: number,
  depth: number,
  k = 0,
  n = 0,
): Coverage {
  let what = `${schedules} random schedules`;
  if (strategy === 'pct') {
    const miss = pctMissBound(n, k, depth, schedules);
    const shown = miss < 0.001 ? miss.toExponential(1) : miss.toFixed(3);
    what = `${schedules} PCT schedules of depth ${depth} (n=${n} tasks, k=${k} decisions: a bug of depth ≤ ${depth} is missed by all with probability ≤ ${shown})`;
  }
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
async function searchDfs(scenario: Scenario, scheme: Scheme, opts: SearchOptions): Promise<SearchOutcome> {
  const params = await searchParams(scenario, scheme, opts, 'dfs');
  warmUnitPool(opts.jobs ?? 1);
  const frontier = params.stateful
    ? statefulUnit(opts.schedules)
    : await dfsFrontier(scenario, scheme, params, opts.schedules);
  const { units, boundSkipped } = frontier;
  opts.onPlan?.(units.length);
  const left = opts.schedules - frontier.runs;
  const results = await runUnits(scenario, scheme, params, units, opts.jobs ?? 1, opts.onProgress, left);
  const failure = firstFailure(results);
  const schedules = results.reduce((n, r) => n + r.schedules, 0);
  const cacheHits = results.reduce((n, r) => n + (r.cacheHits ?? 0), 0);
  const sleepPruned = results.reduce((n, r) => n + r.pruned, 0) - cacheHits;
  const pruned = sleepPruned + results.reduce((n, r) => n + (r.porSkipped ?? 0), 0);
  const skipped = boundSkipped + results.reduce((n, r) => n + r.boundSkipped, 0);
  const complete = !failure && results.length === units.length && results.every((r) => r.complete);
  const bound = params.preemptions;
  const states = results.reduce((n, r) => n + (r.states ?? 0), 0);
  const counted = complete
    ? `all schedules (no preemption bound): ${schedules} runs`
    : `the first ${schedules} schedules (no preemption bound)`;
  const unbounded = bound >= DEFAULTS.unbounded;
  const head = unbounded
    ? `${counted}, ${pruned} pruned as equivalent${params.stateful ? `, ${states} states visited, ${cacheHits} runs cut at a visited state` : ''}`
    : `${complete ? 'all' : 'the first'} ${schedules} schedules with ≤ ${bound} preemptions, ${pruned} pruned as equivalent`;
  const coverage: Coverage = {
    strategy: 'dfs',
    schedules,
    pruned,
    sleepPruned,
    boundSkipped: skipped,
    complete,
    ...(unbounded ? { unbounded: true } : { preemptions: bound }),
    ...(params.stateful ? { states, cacheHits } : {}),
    text: `${head}${params.por ? '' : ' (no partial-order reduction)'}${complete || failure ? '' : ' — budget exhausted, not a proof'}`,
  };
  return { failure, coverage, ...undecided(results) };
}
