/**
 * Units of search work: the split that lets a search run on several worker threads (and, later,
 * several machines) with a result that does not depend on how many there are.
 *
 * - random / pct: a unit is a chunk of schedule indices [start, end); schedule i is seeded
 *   mixSeed(seed, i) whatever runs it. The result is the lowest failing index.
 * - dfs: a unit is a prefix of choices, the root of a subtree of the bounded decision tree, with
 *   the sleep set its last decision carries. The frontier is built by expanding the tree until it
 *   has at least FRONTIER_UNITS units (or FRONTIER_DEPTH levels, or its runs would pass half the
 *   budget) — a rule that ignores the number of workers. Each unit is explored without
 *   backtracking above its prefix; the units share what the frontier left of the budget, in index
 *   order (pool.ts); the result is the failure of the lowest-numbered failing unit.
 * A unit and its result are plain JSON (docs/scaling.md).
 */
import type { Finding } from '../check/oracles.js';
import type { Scenario } from '../litmus/ast.js';
import type { Scheme } from '../schemes/scheme.js';
import { mixSeed } from '../sim/rng.js';
import type { Strategy } from '../sim/sched.js';
import { RandomStrategy } from '../sim/strategy.js';
import { backtrack, boundedSleep, closeStates, type DfsNode, DfsRunStrategy } from './dfs.js';
import { decisive, JudgeMemo } from './judge.js';
import { PctStrategy } from './pct.js';
import { type RunReport, runOnce } from './run.js';
import { StateCache, StateTracker } from './stateful.js';

export const CHUNK_SCHEDULES = 64;

/**
 * Runs between two turns of the event loop: a unit run on the main thread beside worker threads
 * must let it hand the workers their next units (a run is all microtasks: without a macrotask turn
 * the loop would not see a worker's message until the whole unit is done).
 */
const YIELD_EVERY = 16;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
export const FRONTIER_UNITS = 64;
export const FRONTIER_DEPTH = 12;

export interface SearchParams {
  strategy: 'random' | 'pct' | 'dfs';
  seed: number;
  depth: number;
  /** PCT's k: decisions of a default run. */
  expectedSteps: number;
  preemptions: number;
  por: boolean;
  stepBound?: number;
  /** DFS: steps of a run after which DPOR saturates it (DfsRunStrategy's porSteps). */
  porSteps?: number;
  /** DFS with state caching (`--preemptions all`: src/explore/stateful.ts). */
  stateful?: boolean;
}

/** A sleeping task: its id and the footprint of the step it would take (src/sim/footprint.ts). */
export type SleepEntry = [id: number, footprint: number[]];

export type Unit =
  | { kind: 'chunk'; index: number; start: number; end: number }
  | {
      kind: 'dfs';
      index: number;
      prefix: number[];
      sleep: SleepEntry[];
      /** The most runs it may make (its share of the search's budget, pool.ts). */
      budget: number;
      /** Preemptions its prefix used (a hint for the order units are handed out in). */
      preemptions?: number;
    };

export interface UnitFailure {
  finding: Finding;
  schedule: number[];
  /** Runs of this unit up to and including the failing one. */
  runs: number;
}

/** A unit as a worker receives it: the scenario as its litmus text, the scheme as its name. */
export interface WorkerTask {
  scenarioText: string;
  scenarioSource: string;
  scheme: string;
  params: SearchParams;
  unit: Unit;
}

/** Runs the data oracles could not decide (linearize.ts): how many, and the first one. */
export interface UnitInconclusive {
  runs: number;
  reason: string;
  schedule: number[];
}

export interface UnitResult {
  index: number;
  failure: UnitFailure | null;
  /** Runs of the unit without a forbidden finding that the oracles could not decide in full. */
  inconclusive?: UnitInconclusive;
  schedules: number;
  pruned: number;
  boundSkipped: number;
  /** dfs with POR: choices left out as independent of what ran (each ≥ 1 equivalent schedule). */
  porSkipped?: number;
  /** dfs: the unit's subtree was covered entirely. */
  complete: boolean;
  /** Stateful dfs: distinct states visited, and runs cut at a state already explored. */
  states?: number;
  cacheHits?: number;
}

export async function runUnit(
  scenario: Scenario,
  scheme: Scheme,
  p: SearchParams,
  unit: Unit,
): Promise<UnitResult> {
  return unit.kind === 'chunk' ? runChunk(scenario, scheme, p, unit) : runDfsUnit(scenario, scheme, p, unit);
}

function sampledStrategy(p: SearchParams, i: number): Strategy {
  const seed = mixSeed(p.seed, i);
  return p.strategy === 'pct' ? new PctStrategy(seed, p.depth, p.expectedSteps) : new RandomStrategy(seed);
}

async function runChunk(
  scenario: Scenario,
  scheme: Scheme,
  p: SearchParams,
  u: Extract<Unit, { kind: 'chunk' }>,
): Promise<UnitResult> {
  const undecided = new Undecided();
  const memo = new JudgeMemo();
  for (let i = u.start; i < u.end; i++) {
    if ((i - u.start) % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
    const run = await runOnce(scenario, scheme, sampledStrategy(p, i), { stepBound: p.stepBound, memo });
    const f = decisive(run.findings, scenario.forbid);
    if (!f) undecided.note(run);
    if (f) {
      const failure = { finding: f, schedule: run.result.schedule.slice(), runs: i - u.start + 1 };
      return {
        index: u.index,
        failure,
        schedules: i - u.start + 1,
        pruned: 0,
        boundSkipped: 0,
        complete: false,
      };
    }
  }
  return {
    index: u.index,
    failure: null,
    ...undecided.result(),
    schedules: u.end - u.start,
    pruned: 0,
    boundSkipped: 0,
    complete: false,
  };
}

/** Counts a unit's runs the oracles could not decide, keeping the first (in the unit's order). */
class Undecided {
  private first: UnitInconclusive | null = null;

  note(run: RunReport): void {
    if (!run.inconclusive) return;
    if (this.first) this.first.runs++;
    else this.first = { runs: 1, reason: run.inconclusive, schedule: run.result.schedule.slice() };
  }

  result(): { inconclusive?: UnitInconclusive } {
    return this.first ? { inconclusive: this.first } : {};
  }
}

/**
 * Prefix nodes for a unit: nothing above the last is backtracked, and the last one's sleep set is
 * the unit's (the sleepers entering its subtree).
 */
function unitPrefixNodes(prefix: readonly number[], sleep: readonly SleepEntry[]): DfsNode[] {
  return prefix.map((chosen, k) => ({
    runnable: [chosen],
    chosen,
    current: chosen,
    currentRunnable: false,
    preemptionsBefore: 0,
    backtrack: new Set([chosen]),
    done: new Set([chosen]),
    sleep: k === prefix.length - 1 ? new Map(sleep) : new Map(),
    steps: new Map(),
  }));
}

function runDfsUnit(
  scenario: Scenario,
  scheme: Scheme,
  p: SearchParams,
  u: Extract<Unit, { kind: 'dfs' }>,
): Promise<UnitResult> {
  return new DfsUnitSearch(scenario, scheme, p, u).run(u.budget);
}

/**
 * A DFS unit's search, resumable: `run(n)` goes on until the unit has made n runs in all (complete
 * and pruned), a failure or the end of its subtree. Every run depends only on the runs before it,
 * so stopping at n and going on to m makes exactly the runs one search with budget m makes — a
 * campaign cell (src/campaign/cell.ts) stops its DFS at a first budget, samples with PCT, and goes
 * on only where PCT found nothing.
 */
export class DfsUnitSearch {
  private readonly stats = { boundSkipped: 0, porSkipped: 0 };
  private schedules = 0;
  private pruned = 0;
  private prefixNodes: DfsNode[];
  private readonly undecided = new Undecided();
  private readonly memo = new JudgeMemo();
  private readonly cache: StateCache | null;
  /** The search's last result once it is over (a failure or a complete subtree). */
  private over: UnitResult | null = null;

  constructor(
    private readonly scenario: Scenario,
    private readonly scheme: Scheme,
    private readonly p: SearchParams,
    private readonly u: Extract<Unit, { kind: 'dfs' }>,
  ) {
    this.prefixNodes = unitPrefixNodes(u.prefix, u.sleep);
    this.cache = p.stateful ? new StateCache() : null;
  }

  private result(complete: boolean, failure: UnitFailure | null): UnitResult {
    const cache = this.cache;
    return {
      index: this.u.index,
      failure,
      ...this.undecided.result(),
      schedules: this.schedules,
      pruned: this.pruned,
      boundSkipped: this.stats.boundSkipped,
      porSkipped: this.stats.porSkipped,
      complete,
      ...(cache ? { states: cache.states, cacheHits: cache.hits } : {}),
    };
  }

  async run(budget: number): Promise<UnitResult> {
    if (this.over) return this.over;
    const { scenario, scheme, p, u, cache } = this;
    // Resumed at its budget already: nothing more (a fresh search makes its first run whatever).
    if (this.schedules + this.pruned > 0 && this.schedules + this.pruned >= budget)
      return this.result(false, null);
    for (;;) {
      if ((this.schedules + this.pruned) % YIELD_EVERY === YIELD_EVERY - 1) await yieldToEventLoop();
      const tracker = cache ? new StateTracker(cache) : null;
      const strat = new DfsRunStrategy(
        this.prefixNodes,
        p.por,
        p.preemptions,
        u.prefix.length,
        tracker,
        p.porSteps,
      );
      const run = await runOnce(scenario, scheme, strat, {
        stepBound: p.stepBound,
        memo: this.memo,
        ...(tracker ? { onWorld: (sim, world) => tracker.attach(sim, world) } : {}),
      });
      if (run.result.outcome.kind === 'pruned') this.pruned++;
      else this.schedules++;
      const f = decisive(run.findings, scenario.forbid);
      if (!f) this.undecided.note(run);
      if (f) {
        const runs = this.schedules + this.pruned;
        this.over = this.result(false, { finding: f, schedule: run.result.schedule.slice(), runs });
        return this.over;
      }
      const next = backtrack(strat.nodes, p.preemptions, this.stats, u.prefix.length);
      if (!next) {
        this.over = this.result(true, null);
        return this.over;
      }
      if (cache) closeStates(strat.nodes, next.length);
      this.prefixNodes = next;
      if (this.schedules + this.pruned >= budget) return this.result(false, null);
    }
  }
}

/**
 * The frontier of DFS units (depends on the scenario, scheme, bound and budget only, never on
 * workers). Its decisions are expanded in full — every runnable task within the bound, less the
 * asleep — so a race found inside a unit that would add a choice above the unit's prefix needs
 * nothing: that choice is some other unit. Below the frontier, each unit runs DPOR. Expanding a
 * level costs a run per unit of it, taken from `budget` (the search's `--schedules`): the frontier
 * spends at most half of it, and `runs` says how much.
 */
export async function dfsFrontier(
  scenario: Scenario,
  scheme: Scheme,
  p: SearchParams,
  budget: number,
): Promise<{ units: Unit[]; boundSkipped: number; runs: number }> {
  let level: { prefix: number[]; sleep: SleepEntry[]; preemptions: number }[] = [
    { prefix: [], sleep: [], preemptions: 0 },
  ];
  let boundSkipped = 0;
  let runs = 0;
  for (let depth = 0; depth < FRONTIER_DEPTH && level.length < FRONTIER_UNITS; depth++) {
    if (runs + level.length > Math.floor(budget / 2)) break;
    runs += level.length;
    const next: typeof level = [];
    let grew = false;
    for (const unit of level) {
      const strat = new DfsRunStrategy(
        unitPrefixNodes(unit.prefix, unit.sleep),
        p.por,
        p.preemptions,
        unit.prefix.length,
      );
      await runOnce(scenario, scheme, strat, { stepBound: p.stepBound });
      const node = strat.nodes[unit.prefix.length];
      if (!node) {
        next.push(unit); // the run ended before this decision: a leaf
        continue;
      }
      grew = true;
      // The default choice ran in this run, so its step is known: it sleeps in its siblings (where
      // the bound allows: boundedSleep).
      const order = [node.chosen, ...node.runnable.filter((id) => id !== node.chosen)];
      for (const alt of order) {
        if (node.sleep.has(alt)) continue;
        const preempts = node.currentRunnable && alt !== node.current ? 1 : 0;
        if (node.preemptionsBefore + preempts > p.preemptions) {
          boundSkipped++;
          continue;
        }
        const sleep: SleepEntry[] = p.por ? [...node.sleep] : [];
        const asleep =
          p.por && alt !== node.chosen ? boundedSleep(node, node.chosen, alt, p.preemptions) : null;
        if (asleep) sleep.push([node.chosen, asleep]);
        next.push({ prefix: [...unit.prefix, alt], sleep, preemptions: node.preemptionsBefore + preempts });
      }
    }
    level = next;
    if (!grew) break;
  }
  return {
    units: level.map((u, index) => ({
      kind: 'dfs',
      index,
      prefix: u.prefix,
      sleep: u.sleep,
      budget: budget - runs,
      preemptions: u.preemptions,
    })),
    boundSkipped,
    runs,
  };
}
