/**
 * One campaign cell: a generated program under one scheme. It is checked by a preemption-bounded
 * DFS with partial-order reduction (explore/units.ts) within a budget of runs; a DFS that covers
 * its whole bounded tree is a certificate. Where the budget runs out first, PCT samples
 * (explore/check.ts); where it finds nothing either, the same DFS goes on to a larger budget, to a
 * certificate or a finding. Only a cell whose DFS does not finish in that either stays with PCT,
 * and its record says so and why: a PCT "ok" is evidence, not a proof.
 * A finding's schedule is shrunk (explore/shrink.ts) before its replay string is recorded, and the
 * finding is minimised: ops first (delta debugging, gen/ddmin.ts), then the schedule.
 * Plain JSON in and out, so a piscina worker runs it (worker.ts).
 */
import type { Finding } from '../check/oracles.js';
import { checkScenario } from '../explore/check.js';
import { decisive } from '../explore/judge.js';
import { replayString, runOnce } from '../explore/run.js';
import { resolveSchemeRef } from '../explore/schemefile.js';
import { shrinkSchedule } from '../explore/shrink.js';
import { DfsUnitSearch, type SearchParams, type UnitResult } from '../explore/units.js';
import { canonical } from '../gen/canon.js';
import { ddmin } from '../gen/ddmin.js';
import { signature } from '../gen/signature.js';
import { litmusText, type Program, programKey } from '../gen/space.js';
import { findingLitmus } from '../gen/write.js';
import type { Scenario } from '../litmus/ast.js';
import { parseLitmus } from '../litmus/parse.js';
import type { Scheme } from '../schemes/scheme.js';
import { ReplayStrategy } from '../sim/strategy.js';

export interface CellBudget {
  /** Most DFS runs (complete and pruned) before the cell tries PCT. */
  dfsRuns: number;
  /**
   * Most DFS runs in all where PCT found nothing: the DFS goes on from `dfsRuns` to this, to complete
   * the certificate (no more than `dfsRuns` if smaller).
   */
  certifyRuns: number;
  /** DFS preemption bound. */
  preemptions: number;
  /** PCT schedules of the fallback. */
  pctSchedules: number;
  seed: number;
}

/**
 * `certifyRuns` is sized on what the DFS of pagelab's and bkl's cells needs (docs/campaign.md,
 * "Complete certificates"): 83 % of the cells of pagelab's shard 4/64 that stopped at `dfsRuns`
 * finish within it, and all but 3 of bkl's shard 4/16; every run past it costs most in the cells
 * that do not finish at all. `dfsRuns` keeps what PCT finds, and its replay, as it was.
 */
export const DEFAULT_BUDGET: CellBudget = {
  dfsRuns: 400,
  certifyRuns: 20_000,
  preemptions: 2,
  pctSchedules: 100,
  seed: 1,
};

export interface CampaignCellTask {
  /** The program's index in the space (or in the random stream). */
  index: number;
  /** The program's name; replay strings name it as `<name>.litmus`. */
  name: string;
  program: Program;
  scheme: string;
  budget: CellBudget;
}

/** What backs a cell's verdict. */
export interface Certificate {
  /** dfs: the bounded DFS finished or found; pct: its budget ran out and PCT sampled. */
  method: 'dfs' | 'pct' | 'none';
  /** The whole bounded tree was covered with nothing forbidden found. */
  complete: boolean;
  schedules: number;
  pruned: number;
  preemptions?: number;
  depth?: number;
  /** pct: why the cell has no certificate (its DFS's budget and bound); absent if PCT found. */
  reason?: string;
  /** pct: runs (complete and pruned) its DFS made; they cost as much as PCT's schedules. */
  dfsRuns?: number;
  /**
   * dfs: PCT's schedules, sampled (and found nothing) before the DFS went on past `dfsRuns`: the
   * cell's cost, not part of the certificate.
   */
  sampled?: number;
}

export interface RecordFinding {
  kind: Finding['kind'];
  summary: string;
  details: string[];
  ops: string[];
}

/** A finding with its ops minimised (delta debugging) and its schedule shrunk. */
export interface Minimised {
  /** The minimised program in one line (gen/space.ts programKey). */
  program: string;
  /** A ready `.litmus` file: the minimised program with forbid/expect lines (gen/write.ts). */
  litmus: string;
  replay: string;
  /** Ops dropped, and the searches delta debugging made. */
  dropped: number;
  tests: number;
}

export interface CellOutcome {
  /**
   * inconclusive: nothing forbidden found, but the data oracles could not decide some run in full
   * (check/linearize.ts's budget): never read as ok; `reason` says which bytes were not judged.
   */
  verdict: 'ok' | 'n/a' | 'inconclusive' | Finding['kind'];
  reason?: string;
  findings: RecordFinding[];
  certificate: Certificate;
  replay: string | null;
  /** Deduplication key of the finding (gen/signature.ts); null without a finding. */
  signature: string | null;
  minimised: Minimised | null;
}

function recordFinding(f: Finding): RecordFinding {
  return { kind: f.kind, summary: f.summary, details: f.details, ops: f.ops };
}

/**
 * Steps of a DFS run that DPOR tracks; the rest of a longer run is searched as the plain DFS
 * (explore/dfs.ts, saturate). A run of a 2 × 1 program that terminates takes well under this; a
 * livelock takes the whole step bound (20,000), which DPOR tracked in minutes.
 */
export const POR_STEPS = 1000;

function dfsParams(b: CellBudget): SearchParams {
  return {
    strategy: 'dfs',
    seed: b.seed,
    depth: 3,
    expectedSteps: 0,
    preemptions: b.preemptions,
    por: true,
    porSteps: POR_STEPS,
  };
}

interface DfsResult {
  complete: boolean;
  schedules: number;
  pruned: number;
  failure: number[] | null;
  /** Why the first run the oracles could not decide in full was not, if one was not. */
  inconclusive: string | null;
}

function dfsResult(r: UnitResult): DfsResult {
  return {
    complete: r.complete,
    schedules: r.schedules,
    pruned: r.pruned,
    failure: r.failure?.schedule ?? null,
    inconclusive: r.inconclusive?.reason ?? null,
  };
}

/**
 * The bounded DFS in this thread, from the root: `run(n)` goes on until a failure, the end of the
 * tree, or n runs in all. One unit whose prefix is empty is the plain DPOR search
 * (explore/units.ts): a cell runs on one thread, so the frontier that splits a `check` across
 * workers would only cost runs — it expands its decisions in full, without POR, so two tasks on
 * disjoint files paid ~80 frontier runs for a tree DPOR covers in one.
 */
function boundedDfs(
  scenario: Scenario,
  scheme: Scheme,
  b: CellBudget,
): { run(n: number): Promise<DfsResult> } {
  const root = { kind: 'dfs' as const, index: 0, prefix: [], sleep: [], budget: b.dfsRuns };
  const search = new DfsUnitSearch(scenario, scheme, dfsParams(b), root);
  return { run: async (n) => dfsResult(await search.run(n)) };
}

/** A search for a forbidden finding: the bounded DFS, then PCT if its budget ran out. */
interface Found {
  certificate: Certificate;
  failure: { kind: Finding['kind']; schedule: number[] } | null;
  /** No failure, but some run's data was not judged in full: the first such run's reason. */
  inconclusive: string | null;
}

function dfsCertificate(dfs: DfsResult, b: CellBudget): Certificate {
  return {
    method: 'dfs',
    complete: dfs.complete,
    schedules: dfs.schedules,
    pruned: dfs.pruned,
    preemptions: b.preemptions,
  };
}

/** A DFS that found or finished: its failure's kind (the decisive finding of its replay). */
async function dfsFound(
  scenario: Scenario,
  scheme: Scheme,
  dfs: DfsResult,
  cert: Certificate,
): Promise<Found> {
  if (!dfs.failure) return { certificate: cert, failure: null, inconclusive: dfs.inconclusive };
  const run = await runOnce(scenario, scheme, new ReplayStrategy(dfs.failure));
  const kind = (decisive(run.findings, scenario.forbid) as Finding).kind;
  return { certificate: cert, failure: { kind, schedule: dfs.failure }, inconclusive: null };
}

/**
 * The DFS to `dfsRuns`; where it did not finish, PCT; where PCT found nothing, the same DFS on to
 * `certifyRuns`. A finding PCT makes is kept as PCT made it (with its replay), so going on changes
 * no cell that has one; a DFS that then finds one PCT missed reports it (method dfs, as any DFS
 * finding). A DFS that finishes only after PCT has a complete certificate whose `sampled` says what
 * PCT cost; one that does not finish leaves the cell with PCT and the reason.
 */
async function searchProgram(scenario: Scenario, scheme: Scheme, ref: string, b: CellBudget): Promise<Found> {
  const search = boundedDfs(scenario, scheme, b);
  const dfs = await search.run(b.dfsRuns);
  if (dfs.failure || dfs.complete) return dfsFound(scenario, scheme, dfs, dfsCertificate(dfs, b));
  const r = await checkScenario(scenario, scheme, {
    scenarioRef: ref,
    strategy: 'pct',
    schedules: b.pctSchedules,
    seed: b.seed,
    jobs: 1,
    shrink: false,
  });
  const schedule = r.report?.result.schedule.slice();
  const pct: Certificate = {
    method: 'pct',
    complete: false,
    schedules: r.coverage.schedules,
    pruned: 0,
    depth: r.coverage.depth,
  };
  if (r.finding && schedule)
    return { certificate: pct, failure: { kind: r.finding.kind, schedule }, inconclusive: null };
  const pctUndecided = r.inconclusive?.reason ?? null;
  const more = b.certifyRuns > b.dfsRuns ? await search.run(b.certifyRuns) : dfs;
  if (more.failure || more.complete) {
    const cert = { ...dfsCertificate(more, b), sampled: r.coverage.schedules };
    const found = await dfsFound(scenario, scheme, more, cert);
    return { ...found, inconclusive: found.failure ? null : (found.inconclusive ?? pctUndecided) };
  }
  const runs = Math.max(b.dfsRuns, b.certifyRuns);
  const certificate: Certificate = {
    ...pct,
    reason: `the DFS with ≤ ${b.preemptions} preemptions did not finish in ${runs} runs`,
    dfsRuns: more.schedules + more.pruned,
  };
  return { certificate, failure: null, inconclusive: pctUndecided ?? more.inconclusive };
}

/**
 * Runs a shrink may make per finding. explore's default (400) is sized for one `check`; a campaign
 * shrinks every finding of every cell twice (as found, and after minimising), and a no-progress
 * run costs the whole step bound (20,000 steps), so 400 runs of a livelock took minutes per cell.
 */
const SHRINK_RUNS = 40;

/** Shrinks a failing schedule and judges its replay: the decisive finding first. */
async function shrunkFailure(
  scenario: Scenario,
  scheme: Scheme,
  ref: string,
  failure: NonNullable<Found['failure']>,
): Promise<{ findings: Finding[]; replay: string }> {
  const shrunk = await shrinkSchedule(
    scenario,
    scheme,
    failure.schedule,
    failure.kind,
    undefined,
    SHRINK_RUNS,
  );
  const run = await runOnce(scenario, scheme, new ReplayStrategy(shrunk.schedule));
  const shown = decisive(run.findings, scenario.forbid);
  if (!shown) throw new Error(`campaign: ${ref} under ${scheme.name}: the shrunk schedule shows nothing`);
  return {
    findings: [shown, ...run.findings.filter((f) => f !== shown)],
    replay: replayString(ref, scheme.name, shrunk.schedule),
  };
}

function scenarioOf(p: Program, name: string): Scenario {
  return parseLitmus(litmusText(p, name), `${name}.litmus`);
}

/** The program with only the ops at the given (task, op) positions; tasks left empty go. */
function keepOps(p: Program, keep: readonly [number, number][]): Program {
  const tasks = p.tasks
    .map((ops, t) => ops.filter((_, i) => keep.some(([kt, ki]) => kt === t && ki === i)))
    .filter((ops) => ops.length > 0);
  return { geometry: p.geometry, tasks };
}

/**
 * Ops first: delta debugging over the program's ops, keeping a subset while a search still finds a
 * finding of the same kind under the scheme; then the schedule of the result, shrunk. The search is
 * the cell's first budget (DFS to `dfsRuns`, then PCT) unless the cell's finding took the DFS past
 * it (`budget`): a subset PCT sees nothing in is not searched on to a certificate.
 */
async function minimise(
  t: CampaignCellTask,
  scheme: Scheme,
  kind: Finding['kind'],
  budget: CellBudget,
): Promise<{ minimised: Minimised; signature: string }> {
  const positions = t.program.tasks.flatMap((ops, ti) => ops.map((_, i): [number, number] => [ti, i]));
  const name = `${t.name}-${fileSafe(scheme.name)}-min`;
  const { items, tests } = await ddmin(positions, async (keep) => {
    if (keep.length === 0) return false;
    const f = await searchProgram(
      scenarioOf(keepOps(t.program, keep), name),
      scheme,
      `${name}.litmus`,
      budget,
    );
    return f.failure?.kind === kind;
  });
  const program = canonical(keepOps(t.program, items));
  const scenario = scenarioOf(program, name);
  const found = await searchProgram(scenario, scheme, `${name}.litmus`, budget);
  if (found.failure?.kind !== kind)
    throw new Error(`campaign: ${name}: the minimised program lost its ${kind}`);
  const { findings, replay } = await shrunkFailure(scenario, scheme, `${name}.litmus`, found.failure);
  const sig = signature(scheme.name, kind, program, findings[0].details);
  const minimised: Minimised = {
    program: programKey(program),
    litmus: findingLitmus(program, name, { scheme: scheme.name, kind, replay, signature: sig }),
    replay,
    dropped: positions.length - items.length,
    tests,
  };
  return { minimised, signature: sig };
}

/** A scheme's name as part of a file name: a scheme file's path by its base name, `my_scheme`. */
function fileSafe(scheme: string): string {
  const base = scheme.split('/').pop() ?? scheme;
  return base.replace(/\.m?js$/, '').replace(/[^A-Za-z0-9_-]+/g, '_');
}

export async function runCampaignCell(t: CampaignCellTask): Promise<CellOutcome> {
  // A registry name, or a scheme file by its path (loaded once per thread, from the same cwd).
  const scheme = await resolveSchemeRef(t.scheme);
  const ref = `${t.name}.litmus`;
  const scenario = scenarioOf(t.program, t.name);
  const none: Certificate = { method: 'none', complete: false, schedules: 0, pruned: 0 };
  const na = scheme.notApplicable?.(scenario) ?? null;
  const empty = { findings: [], replay: null, signature: null, minimised: null };
  if (na) return { verdict: 'n/a', reason: na, certificate: none, ...empty };
  const found = await searchProgram(scenario, scheme, ref, t.budget);
  if (!found.failure && found.inconclusive)
    return { verdict: 'inconclusive', reason: found.inconclusive, certificate: found.certificate, ...empty };
  if (!found.failure) return { verdict: 'ok', certificate: found.certificate, ...empty };
  const { findings, replay } = await shrunkFailure(scenario, scheme, ref, found.failure);
  const kind = findings[0].kind;
  const past = found.certificate.sampled !== undefined;
  const budget = past ? t.budget : { ...t.budget, certifyRuns: t.budget.dfsRuns };
  const { minimised, signature: sig } = await minimise(t, scheme, kind, budget);
  return {
    verdict: kind,
    findings: findings.map(recordFinding),
    certificate: found.certificate,
    replay,
    signature: sig,
    minimised,
  };
}
