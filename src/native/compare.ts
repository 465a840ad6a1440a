/**
 * The model's outcome set for a scenario under a scheme: every outcome (src/native/outcome.ts) a
 * preemption-bounded DFS with partial-order reduction reaches, with the finding kinds the oracles
 * give it. When the DFS finishes within its budget the set is complete for that bound; when it does
 * not, random schedules are added and the set is labelled sampled. Then the comparison with what
 * the kernel did: observed and allowed, observed but not allowed (a fidelity bug), allowed but
 * never observed.
 */
import { backtrack, type DfsNode, DfsRunStrategy } from '../explore/dfs.js';
import { runOnce } from '../explore/run.js';
import type { Scenario } from '../litmus/ast.js';
import type { Scheme } from '../schemes/scheme.js';
import { mixSeed } from '../sim/rng.js';
import { encodeSchedule } from '../sim/schedule.js';
import { RandomStrategy } from '../sim/strategy.js';
import { modelOutcome, type Outcome } from './outcome.js';

export interface ModelOutcome {
  outcome: Outcome;
  /** Finding kinds the oracles gave the first run that reached it ('ok' if none). */
  kinds: string[];
  /** A schedule reaching it: `pagelab replay '<scenario>:<scheme>:<schedule>'`. */
  schedule: string;
}

export interface ModelSet {
  scheme: string;
  outcomes: Map<string, ModelOutcome>;
  complete: boolean;
  /** What backs the set: "complete DFS, ≤ 2 preemptions, N runs" or "sampled: ...". */
  coverage: string;
  runs: number;
}

export interface ModelSetOptions {
  preemptions: number;
  /** Most DFS runs before falling back to sampling. */
  dfsRuns: number;
  /** Random schedules added when the DFS does not finish. */
  sampled: number;
  seed: number;
}

export const MODEL_SET_DEFAULTS: ModelSetOptions = {
  preemptions: 2,
  dfsRuns: 20_000,
  sampled: 3000,
  seed: 1,
};

function kindsOf(findings: readonly { kind: string }[]): string[] {
  const k = [...new Set(findings.map((f) => f.kind))].sort();
  return k.length ? k : ['ok'];
}

async function addRun(
  set: Map<string, ModelOutcome>,
  sc: Scenario,
  scheme: Scheme,
  strategy: DfsRunStrategy | RandomStrategy,
) {
  const rep = await runOnce(sc, scheme, strategy);
  const o = modelOutcome(sc, rep);
  if (o && !set.has(o.key))
    set.set(o.key, {
      outcome: o,
      kinds: kindsOf(rep.findings),
      schedule: encodeSchedule(rep.result.schedule),
    });
}

/** The outcomes the model allows for `sc` under `scheme`. */
export async function modelOutcomes(
  sc: Scenario,
  scheme: Scheme,
  opts: ModelSetOptions = MODEL_SET_DEFAULTS,
): Promise<ModelSet> {
  const outcomes = new Map<string, ModelOutcome>();
  const stats = { boundSkipped: 0 };
  let prefix: DfsNode[] = [];
  let runs = 0;
  for (;;) {
    const strategy = new DfsRunStrategy(prefix, true, opts.preemptions);
    await addRun(outcomes, sc, scheme, strategy);
    runs++;
    const next = backtrack(strategy.nodes, opts.preemptions, stats);
    if (!next) {
      return {
        scheme: scheme.name,
        outcomes,
        complete: true,
        coverage: `complete DFS with ≤ ${opts.preemptions} preemptions (partial-order reduction): ${runs} runs`,
        runs,
      };
    }
    if (runs >= opts.dfsRuns) break;
    prefix = next;
  }
  for (let i = 0; i < opts.sampled; i++)
    await addRun(outcomes, sc, scheme, new RandomStrategy(mixSeed(opts.seed, i)));
  return {
    scheme: scheme.name,
    outcomes,
    complete: false,
    coverage: `sampled: the DFS with ≤ ${opts.preemptions} preemptions did not finish in ${opts.dfsRuns} runs; plus ${opts.sampled} random schedules (seed ${opts.seed})`,
    runs: runs + opts.sampled,
  };
}

export interface Comparison {
  /** Observed outcome keys the model allows. */
  allowed: string[];
  /** Observed outcome keys the model does not allow: fidelity bugs, to fix or explain. */
  notAllowed: string[];
  /** Model outcomes never observed (reported, not an error). */
  unobserved: string[];
}

/** Splits the observed outcomes (keys) against the model's set. A hung iteration matches a deadlock or livelock. */
export function compareOutcomes(observed: Iterable<string>, model: ModelSet): Comparison {
  const seen = new Set(observed);
  const stuck = [...model.outcomes.keys()].some((k) => k === '(deadlock)' || k === '(no-progress)');
  const allows = (k: string) => model.outcomes.has(k) || (k === HUNG_KEY && stuck);
  const allowed = [...seen].filter(allows);
  const notAllowed = [...seen].filter((k) => !allows(k));
  const unobserved = [...model.outcomes.keys()].filter(
    (k) => !seen.has(k) && !((k === '(deadlock)' || k === '(no-progress)') && seen.has(HUNG_KEY)),
  );
  return { allowed, notAllowed, unobserved };
}

/** The key of an iteration the watchdog caught. */
export const HUNG_KEY = '(hung)';
