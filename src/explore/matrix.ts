/**
 * The matrix: every scenario (the built-in ones, or the user's) under every scheme, each cell a
 * whole search (cell.ts) run on a pool of worker threads, and the measures under the same schemes
 * (scalability.ts, measures.ts). A cell is a preemption-bounded DFS where it completes within its
 * budget, else the random search (cell.ts): its coverage says which backs the verdict. Cells come
 * back in input order, so the matrix does not depend on the number of workers. Showing it is
 * report/'s (text, markdown and HTML); this module only measures.
 */
import { Piscina } from 'piscina';
import type { Scenario } from '../litmus/ast.js';
import { SCHEMES, type Scheme } from '../schemes/index.js';
import { builtinScenarios } from './builtin.js';
import { type CellResult, type CellTask, cellUnder, DFS_BUDGET } from './cell.js';
import type { Coverage, Verdict } from './check.js';
import { FAIRNESS_STORMS, type FairnessRow, fairnessTable } from './measures.js';
import { WORKER, WORKER_LIMITS } from './pool.js';
import { disjointWritersScenario, measureScalability } from './scalability.js';
import { workersCanLoad } from './schemefile.js';

export interface MatrixOptions {
  /** Random schedules per cell (those whose DFS does not complete within `dfsBudget`). */
  schedules: number;
  seed: number;
  /** Worker threads running cells. */
  jobs: number;
  /** Most runs of a cell's DFS before it falls back to random (0: random only; default DFS_BUDGET). */
  dfsBudget?: number;
  /** DFS preemption bound K (default 2). */
  preemptions?: number;
  /** The scenarios (default: the built-in ones). */
  scenarios?: readonly Scenario[];
  /** How each scenario is named in replay strings (default its name; a file: its path). */
  scenarioRefs?: readonly string[];
  /** The columns: built-in or loaded from files (explore/schemefile.ts); all of SCHEMES if absent. */
  schemes?: readonly Scheme[];
  /** Skip the scalability and fairness measures (a matrix of the user's scenarios). */
  noMeasures?: boolean;
  /** Told of every finished cell (progress display). */
  onCell?: (done: number, total: number, r: CellResult) => void;
}

/** A cell as `pagelab matrix --json` has it. */
export interface MatrixRow {
  scenario: string;
  scheme: string;
  verdict: Verdict;
  schedules: number;
  replay: string | null;
  /** The finding's summary, the n/a reason, or why the oracles could not decide (inconclusive). */
  summary: string | null;
  /** What backs the verdict: the search that covered the cell (JSON field, added). */
  coverage: Coverage;
}

/** A type, not an interface: the HTML page takes it as a record of measure rows. */
export type MatrixMeasures = {
  fairness: FairnessRow[];
  scalability: { scheme: string; writers: number; speedup: number }[];
  /** Fairness across nodes (issue 19): the storm on node A, the O_DIRECT write on node B. */
  fairness_nodes: FairnessRow[];
};

const noMeasures = (): MatrixMeasures => ({ fairness: [], scalability: [], fairness_nodes: [] });

export interface Matrix {
  seed: number;
  schedules: number;
  dfsBudget: number;
  preemptions: number;
  scenarios: Scenario[];
  schemes: readonly Scheme[];
  rows: MatrixRow[];
  measures: MatrixMeasures;
}

/**
 * Runs matrix cells, each a whole search, on `jobs` worker threads; results in input order. In
 * this thread cell i runs under `schemes[i]`, the matrix's own object; a worker resolves its name.
 */
async function runCells(
  tasks: CellTask[],
  schemes: readonly Scheme[],
  jobs: number,
  onCell?: MatrixOptions['onCell'],
): Promise<CellResult[]> {
  let done = 0;
  const told = (r: CellResult): CellResult => {
    onCell?.(++done, tasks.length, r);
    return r;
  };
  if (jobs <= 1) {
    const out: CellResult[] = [];
    for (const [i, t] of tasks.entries()) out.push(told(await cellUnder(t, schemes[i])));
    return out;
  }
  const pool = new Piscina<CellTask, CellResult>({
    filename: WORKER,
    name: 'cell',
    minThreads: jobs,
    maxThreads: jobs,
    resourceLimits: WORKER_LIMITS,
  });
  try {
    return await Promise.all(tasks.map(async (t) => told(await pool.run(t))));
  } finally {
    await pool.destroy();
  }
}

/** The verdict of every scenario under every scheme, scenario-major. */
async function matrixRows(
  scenarios: readonly Scenario[],
  schemes: readonly Scheme[],
  opts: MatrixOptions,
): Promise<MatrixRow[]> {
  const cells: CellTask[] = [];
  const cellSchemes: Scheme[] = [];
  scenarios.forEach((scenario, i) => {
    for (const scheme of schemes) {
      cellSchemes.push(scheme);
      cells.push({
        scenarioText: scenario.text,
        scenarioSource: scenario.source,
        scenarioRef: opts.scenarioRefs?.[i] ?? scenario.name,
        scheme: scheme.name,
        opts: { schedules: opts.schedules, seed: opts.seed, preemptions: opts.preemptions },
        dfsBudget: opts.dfsBudget ?? DFS_BUDGET,
      });
    }
  });
  // A scheme a script built itself exists in this thread only (explore/schemefile.ts).
  const jobs = schemes.every(workersCanLoad) ? opts.jobs : 1;
  const results = await runCells(cells, cellSchemes, jobs, opts.onCell);
  return results.map((r, i) => ({
    scenario: r.scenario,
    scheme: cells[i].scheme,
    verdict: r.verdict,
    schedules: r.schedules,
    replay: r.replay,
    summary: r.finding?.summary ?? r.reason ?? r.inconclusive?.reason ?? null,
    coverage: r.coverage,
  }));
}

/** Scalability and fairness (on one node, and across nodes) of every scheme that can express their scenarios. */
async function matrixMeasures(schemes: readonly Scheme[]): Promise<MatrixMeasures> {
  const scalability: MatrixMeasures['scalability'] = [];
  const disjointWriters = disjointWritersScenario(1);
  for (const scheme of schemes) {
    if (scheme.notApplicable?.(disjointWriters)) continue;
    for (const { writers, speedup } of await measureScalability(scheme))
      scalability.push({ scheme: scheme.name, writers, speedup });
  }
  const fairness = await fairnessTable(schemes);
  return { fairness, scalability, fairness_nodes: await fairnessTable(schemes, FAIRNESS_STORMS, true) };
}

export async function measureMatrix(opts: MatrixOptions): Promise<Matrix> {
  const scenarios = [...(opts.scenarios ?? builtinScenarios())];
  const schemes = opts.schemes ?? SCHEMES;
  const rows = await matrixRows(scenarios, schemes, opts);
  const measures = opts.noMeasures ? noMeasures() : await matrixMeasures(schemes);
  return {
    seed: opts.seed,
    schedules: opts.schedules,
    dfsBudget: opts.dfsBudget ?? DFS_BUDGET,
    preemptions: opts.preemptions ?? 2,
    scenarios,
    schemes,
    rows,
    measures,
  };
}
