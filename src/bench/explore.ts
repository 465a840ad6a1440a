/**
 * Explorer benchmarks (issue 5). Figures:
 * - explore.schedules_per_sec.<scenario>.<scheme>: random-strategy runs per second (model + oracles)
 *   for each seed scenario under vfs2019 and pagelab;
 * - explore.time_to_first.<scenario>.<strategy>: median seconds to the first finding over 5 seeds,
 *   for random, pct and dfs, on each seed race under its historical scheme;
 * - explore.por_reduction.<scenario>: runs of DFS without POR ÷ with POR at the same bound (≤ 2
 *   preemptions, pagelab), for each seed scenario both finish; the target is on the largest;
 * - explore.dfs_seconds.<scenario>: seconds for the DFS with POR (≤ 2 preemptions, pagelab, one
 *   thread) to certify each built-in scenario; the target is a minute;
 * - explore.cost_growth.<n>: µs per op of 20 random schedules (run and oracles) of `P0: loop n
 *   pread f 0 64` against `P1: pwrite f 0 8` under xfs, at n = 16, 64, 256, 1024 (issue 17: the
 *   value at 1024 at most 1.5× the value at 16);
 * - explore.dfs_seconds.fault-storm-vs-dio.<scheme>: the DFS with POR (≤ 2 preemptions, one thread)
 *   of fault-storm-vs-dio under every scheme that applies; NaN (null in --json) where it does not
 *   finish within STORM_RUNS runs;
 * - explore.complete_seconds.<scenario>: `--preemptions all` (no bound, DPOR with sleep sets, one
 *   thread) of each one-node built-in scenario under pagelab; where it does not finish within
 *   COMPLETE_BUDGET runs, the same search with the state cache (`--state-cache`, the label says so);
 *   NaN (null in --json) where neither finishes (issue 17: each in ≤ 60 s);
 * - explore.parallel_speedup: the same bounded DFS (a large one, without POR) on 1 thread ÷ 2;
 * - explore.vs_fastcheck.<scenario>: our schedules/s ÷ fast-check's fc.scheduler() driving the very
 *   same model code (every `await t.point()` becomes an `s.schedule()` promise) on one seed race.
 */
import fc from 'fast-check';
import { builtinScenarios, findBuiltin, PAGELAB_KNOWN_RACES } from '../explore/builtin.js';
import { checkScenario, type StrategyName } from '../explore/check.js';
import { judgeRun } from '../explore/judge.js';
import { runOnce } from '../explore/run.js';
import type { Scenario } from '../litmus/ast.js';
import { parseLitmus } from '../litmus/parse.js';
import { buildWorld, spawnTasks } from '../litmus/world.js';
import { findScheme, SCHEMES } from '../schemes/index.js';
import { type Scheme, scenarioNotApplicable } from '../schemes/scheme.js';
import { mixSeed } from '../sim/rng.js';
import { type RunResult, Sim } from '../sim/sched.js';
import { RandomStrategy } from '../sim/strategy.js';
import { Task, TaskState, type Waitable } from '../sim/task.js';
import { measureRate, type Rate } from './measure.js';
import { type BenchContext, type Figure, register } from './registry.js';

const SEED_SCENARIOS = [
  'dio-write-vs-mmap-store',
  'dio-write-vs-mmap-load',
  'dio-write-vs-buffered-read',
  'punch-vs-fault',
  'collapse-vs-fault',
  'insert-vs-fault',
  'dio-writers-disjoint',
];
/** Seed races and the historical scheme the seeds attribute each to. */
const SEED_RACES: [string, string][] = [
  ['dio-write-vs-mmap-store', 'vfs2019'],
  ['punch-vs-fault', 'vfs2019'],
  ['collapse-vs-fault', 'vfs2019'],
  ['insert-vs-fault', 'vfs2019'],
];

function scenario(name: string): Scenario {
  const s = findBuiltin(name);
  if (!s) throw new Error(`bench: no scenario ${name}`);
  return s;
}

function scheme(name: string): Scheme {
  const s = findScheme(name);
  if (!s) throw new Error(`bench: no scheme ${name}`);
  return s;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The first measurement of a process warms the JIT up on the model for longer (see versusFastCheck). */
let jitWarm = false;

async function schedulesPerSec(ctx: BenchContext, sc: Scenario, sch: Scheme): Promise<Rate> {
  let seed = 0;
  const warmupMs = jitWarm ? 200 : 1500;
  jitWarm = true;
  const BATCH = 200;
  return measureRate(
    ctx,
    `${sc.name}/${sch.name}`,
    async () => {
      for (let i = 0; i < BATCH; i++) await runOnce(sc, sch, new RandomStrategy(mixSeed(7, seed++)));
    },
    { units: BATCH, timeMs: 400, warmupMs },
  );
}

async function timeToFirst(sc: Scenario, sch: Scheme, strategy: StrategyName): Promise<number> {
  const times: number[] = [];
  for (let seed = 1; seed <= 5; seed++) {
    const t0 = performance.now();
    const r = await checkScenario(sc, sch, {
      schedules: 1_000_000,
      seed,
      scenarioRef: sc.name,
      strategy,
      shrink: false,
      jobs: 1,
    });
    if (r.verdict === 'ok')
      throw new Error(`bench: ${strategy} found nothing in ${sc.name} under ${sch.name}`);
    times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

/** Runs model code under fast-check's scheduler: every scheduling point is an s.schedule() promise. */
class FastCheckSim extends Sim {
  private readonly bodies: Promise<unknown>[] = [];
  constructor(private readonly s: fc.Scheduler) {
    super({ strategy: { name: 'fast-check', pick: () => null } });
  }
  override spawn(
    name: string,
    body: (t: Task) => Promise<unknown>,
    opts: { irq?: boolean; time?: number } = {},
  ): Task {
    const t = new Task(this, this.tasks.length, name, opts.irq ?? false, 0);
    this.tasks.push(t);
    this.bodies.push(this.s.schedule(Promise.resolve(), name).then(() => body(t)));
    return t;
  }
  override point(_t: Task, site: string): Promise<void> {
    return this.s.schedule(Promise.resolve(), site);
  }
  override block(t: Task, on: Waitable, _site: string): Promise<void> {
    t.state = TaskState.Blocked;
    t.blockedOn = on;
    return new Promise<void>((resolve) => {
      t.resume = resolve;
    });
  }
  override wake(t: Task): void {
    if (t.state !== TaskState.Blocked) return;
    t.state = TaskState.Runnable;
    const r = t.resume;
    t.resume = null;
    // Re-enter fast-check's control before running on.
    this.s.schedule(Promise.resolve(), 'wake').then(() => r?.());
  }
  override async run(): Promise<RunResult> {
    await this.s.waitIdle();
    await Promise.all(this.bodies);
    return {
      outcome: { kind: 'done' },
      steps: 0,
      schedule: [],
      preemptions: 0,
      time: 0,
      tasks: this.tasks,
      trace: null,
    };
  }
}

async function fastCheckRuns(sc: Scenario, sch: Scheme, numRuns: number, seed: number): Promise<number> {
  let runs = 0;
  const details = await fc.check(
    fc.asyncProperty(fc.scheduler(), async (s) => {
      const sim = new FastCheckSim(s);
      const world = buildWorld(sc, sch);
      spawnTasks(sim, world);
      judgeRun(world, await sim.run());
      runs++;
      return true;
    }),
    { numRuns, seed },
  );
  if (details.failed) throw new Error(`fast-check run failed: ${String(details.errorInstance)}`);
  return runs;
}

/** Preemption-bounded DFS of a scenario under pagelab: the runs it takes, or null past the budget. */
async function dfsRuns(name: string, por: boolean, jobs = 1): Promise<{ runs: number; ms: number } | null> {
  const sc = scenario(name);
  const t0 = performance.now();
  const r = await checkScenario(sc, scheme('pagelab'), {
    schedules: POR_BUDGET,
    seed: 1,
    scenarioRef: sc.name,
    strategy: 'dfs',
    preemptions: 2,
    por,
    jobs,
  });
  if (r.verdict !== 'ok') throw new Error(`bench: pagelab ${r.verdict} on ${name}`);
  return r.coverage.complete ? { runs: runsMade(r.coverage), ms: performance.now() - t0 } : null;
}

/**
 * The runs a DFS made: its schedules and the runs the sleep sets abandoned part-way. Not
 * `pruned`, which also counts the choices DPOR left out, never run: counted as runs, they took
 * por_reduction on gup-nofault-reentry from 2011 to 654 with the same 13 schedules run.
 */
function runsMade(c: { schedules: number; pruned: number; sleepPruned?: number }): number {
  return c.schedules + (c.sleepPruned ?? c.pruned);
}

/** Runs of `--preemptions all` the bench allows a scenario (~60 s at ~1000 runs/s). */
const COMPLETE_BUDGET = 60_000;
/** The state-cached search's budget, where the plain one did not finish (~1,500 runs/s). */
const COMPLETE_CACHED_BUDGET = 150_000;

/**
 * `--preemptions all` of a scenario under pagelab on one thread: seconds, runs, and whether the
 * search finished within COMPLETE_BUDGET runs (if not, its seconds are those of the budget, not of
 * a proof).
 */
async function completeSeconds(
  sc: Scenario,
): Promise<{ runs: number; s: number; complete: boolean; stateCache: boolean }> {
  // Without the state cache first (faster where it finishes); where it does not, the same search
  // caching visited states (--state-cache: dio-write-vs-buffered-read, whose tree has far more
  // schedules than states), from scratch, timed alone.
  const plain = await completeSearch(sc, false, COMPLETE_BUDGET);
  if (plain.complete) return { ...plain, stateCache: false };
  return { ...(await completeSearch(sc, true, COMPLETE_CACHED_BUDGET)), stateCache: true };
}

async function completeSearch(
  sc: Scenario,
  stateCache: boolean,
  budget: number,
): Promise<{ runs: number; s: number; complete: boolean }> {
  const t0 = performance.now();
  const r = await checkScenario(sc, scheme('pagelab'), {
    schedules: budget,
    seed: 1,
    scenarioRef: sc.name,
    strategy: 'dfs',
    preemptions: 'all',
    ...(stateCache ? { stateCache: true } : {}),
    jobs: 1,
  });
  if (r.verdict !== 'ok' && r.verdict !== 'inconclusive')
    throw new Error(`bench: pagelab ${r.verdict} on ${sc.name}`);
  const s = (performance.now() - t0) / 1000;
  return { runs: runsMade(r.coverage), s, complete: r.coverage.complete };
}

/** Built-in scenarios pagelab runs: not those with `node` lines (n/a under a one-node scheme), nor its known races. */
function pagelabScenarios(ctx: BenchContext, what: string): Scenario[] {
  return builtinScenarios().filter((sc) => {
    const na = scenarioNotApplicable(scheme('pagelab'), sc);
    if (na) ctx.log(`  ${what} ${sc.name}/pagelab: n/a (${na.split(';')[0]})`);
    const known = PAGELAB_KNOWN_RACES.includes(sc.name);
    if (known) ctx.log(`  ${what} ${sc.name}/pagelab: left out, a known race (docs/pagelab-scheme.md)`);
    return !na && !known;
  });
}

/** Runs a DFS without POR may take in the POR comparison (~1 minute at ~4000 runs/s). */
const POR_BUDGET = 200_000;

/** The seed scenarios the POR comparison considers (fault-storm-vs-dio is out of plain DFS's reach). */
const POR_SCENARIOS = [
  ...SEED_SCENARIOS,
  'gup-nofault-reentry',
  'pinned-page-fsync',
  'dax-hole-fault-vs-write',
];

/**
 * The same bounded DFS on 1 and on 2 threads, alternately, twice each (the best of each counts: the
 * machine's noise is ±15%). The largest DFS the bench has: gup-nofault-reentry under pagelab with
 * ≤ 3 preemptions and without POR (178,212 runs, ~8.5 s on one thread), so that the serial frontier,
 * the thread start and the worker's cold JIT are amortised. A worker thread is a fresh V8 isolate:
 * its first ~14,000 runs go at ~60% speed while it compiles the model (measured: ~0.5 s lost on its
 * first unit), a fixed cost that on the 72,000-run DFS used before held the figure at 1.5–1.7.
 */
async function parallelSpeedup(ctx: BenchContext): Promise<{ speedup: number; runs: number }> {
  const sc = scenario('gup-nofault-reentry');
  const time = async (jobs: number) => {
    const t0 = performance.now();
    const r = await checkScenario(sc, scheme('pagelab'), {
      schedules: 1_000_000,
      seed: 1,
      scenarioRef: sc.name,
      strategy: 'dfs',
      preemptions: 3,
      por: false,
      jobs,
    });
    if (!r.coverage.complete) throw new Error('bench: parallel DFS incomplete');
    return { ms: performance.now() - t0, runs: r.coverage.schedules };
  };
  const one = [await time(1)];
  const two = [await time(2)];
  one.push(await time(1));
  two.push(await time(2));
  const best = (xs: { ms: number }[]) => Math.min(...xs.map((x) => x.ms));
  ctx.log(
    `  dfs ${sc.name}/pagelab ≤3 preemptions, no POR: 1 job ${one.map((x) => (x.ms / 1000).toFixed(2)).join(', ')} s; 2 jobs ${two.map((x) => (x.ms / 1000).toFixed(2)).join(', ')} s`,
  );
  return { speedup: best(one) / best(two), runs: one[0].runs };
}

/** The ops per task of explore.cost_growth. */
const COST_SIZES = [16, 64, 256, 1024];
const COST_SCHEDULES = 20;

/** µs per op of COST_SCHEDULES random schedules of the read loop against one write (issue 17). */
async function costPerOp(n: number): Promise<number> {
  const sc = parseLitmus(
    `litmus cost-${n}\npage 64\nfile f 1p written\nP0: loop ${n} pread f 0 64\nP1: pwrite f 0 8\n`,
    `cost-${n}.litmus`,
  );
  const opts = {
    schedules: COST_SCHEDULES,
    seed: 1,
    scenarioRef: sc.name,
    strategy: 'random' as const,
    jobs: 1,
  };
  await checkScenario(sc, scheme('xfs'), { ...opts, schedules: 2 }); // warm-up
  const t0 = performance.now();
  const r = await checkScenario(sc, scheme('xfs'), opts);
  if (r.verdict !== 'ok') throw new Error(`bench: xfs ${r.verdict} on the cost scenario`);
  return ((performance.now() - t0) * 1000) / (COST_SCHEDULES * (n + 1));
}

/** The run budget of fault-storm-vs-dio's DFS per scheme. */
const STORM_RUNS = 60_000;

/**
 * fault-storm-vs-dio's DFS (≤ 2 preemptions, POR, one thread) under a scheme: seconds, runs and
 * whether it finished within STORM_RUNS runs; null where the scheme does not apply.
 */
async function faultStormSeconds(
  sch: Scheme,
): Promise<{ s: number; runs: number; complete: boolean } | null> {
  const sc = scenario('fault-storm-vs-dio');
  if (scenarioNotApplicable(sch, sc)) return null;
  const t0 = performance.now();
  const r = await checkScenario(sc, sch, {
    // dax and dax2017 certify in ~48,000 (issue 17); the schemes that do not are cut off here.
    schedules: STORM_RUNS,
    seed: 1,
    scenarioRef: sc.name,
    strategy: 'dfs',
    preemptions: 2,
    jobs: 1,
  });
  const s = (performance.now() - t0) / 1000;
  return { s, runs: runsMade(r.coverage), complete: r.coverage.complete };
}

const VS_ROUNDS = 5;

/**
 * Ours against fast-check's scheduler on one seed race, in alternating rounds (ours, theirs, ours,
 * ...) so that a change of load on the machine, or a major GC, hits both sides alike; the figure is
 * the median of the per-round ratios. The first round is preceded by a warm-up long enough for
 * the JIT to settle on the model (the first ~5,000 runs of a process are 3-5x slower than the rest).
 */
async function versusFastCheck(
  ctx: BenchContext,
  race: Scenario,
  sch: Scheme,
): Promise<{ ratio: number; ours: number; theirs: number }> {
  let ourSeed = 0;
  let fcSeed = 1;
  const BATCH = 200;
  const FC_BATCH = 100;
  const ours: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < VS_ROUNDS; round++) {
    const warmupMs = round === 0 ? 1500 : 0;
    const a = await measureRate(
      ctx,
      `${race.name}/${sch.name} r${round}`,
      async () => {
        for (let i = 0; i < BATCH; i++) await runOnce(race, sch, new RandomStrategy(mixSeed(9, ourSeed++)));
      },
      { units: BATCH, timeMs: 400, warmupMs },
    );
    const b = await measureRate(
      ctx,
      `fast-check ${race.name} r${round}`,
      async () => void (await fastCheckRuns(race, sch, FC_BATCH, fcSeed++)),
      { units: FC_BATCH, timeMs: 400, warmupMs },
    );
    ours.push(a.perSec);
    theirs.push(b.perSec);
    ratios.push(a.perSec / b.perSec);
  }
  return { ratio: median(ratios), ours: median(ours), theirs: median(theirs) };
}

register(
  'explore',
  'explorer: schedules/s, time to first finding, POR, parallel speedup, vs fast-check',
  async (ctx) => {
    const figures: Figure[] = [];
    for (const name of SEED_SCENARIOS) {
      for (const s of ['vfs2019', 'pagelab']) {
        const r = await schedulesPerSec(ctx, scenario(name), scheme(s));
        figures.push({
          key: `explore.schedules_per_sec.${name}.${s}`,
          value: r.perSec,
          unit: 'schedules/s',
          label: `random runs of ${name} under ${s}`,
          rme: r.rme,
        });
      }
    }
    for (const [name, s] of SEED_RACES) {
      for (const strategy of ['random', 'pct', 'dfs'] as StrategyName[]) {
        const secs = await timeToFirst(scenario(name), scheme(s), strategy);
        ctx.log(`  time to first ${name}/${s}/${strategy}: ${secs.toFixed(3)} s`);
        const goal = strategy === 'pct' ? ', target ≤ 1 s' : '';
        figures.push({
          key: `explore.time_to_first.${name}.${strategy}`,
          value: secs,
          unit: 's',
          label: `median time to the first finding over 5 seeds (${s}${goal})`,
        });
      }
    }
    // POR: runs without ÷ with, per seed scenario; the target is for the largest one that finishes
    // both ways within the budget.
    const por: { name: string; without: number; with: number }[] = [];
    for (const name of POR_SCENARIOS) {
      const without = await dfsRuns(name, false);
      const withPor = await dfsRuns(name, true);
      if (!without || !withPor) continue;
      ctx.log(`  dfs ${name}/pagelab ≤2 preemptions: ${without.runs} runs without POR, ${withPor.runs} with`);
      por.push({ name, without: without.runs, with: withPor.runs });
    }
    const largest = por.reduce((a, b) => (b.without > a.without ? b : a));
    for (const p of por) {
      figures.push({
        key: `explore.por_reduction.${p.name}`,
        value: p.without / p.with,
        unit: 'x',
        label: `DFS runs without ÷ with POR (${p.without} / ${p.with}), ≤2 preemptions, pagelab${p === largest ? ', the largest seed scenario' : ''}`,
        ...(p === largest ? { target: 10 } : {}),
      });
    }
    // Certification: DFS with POR, ≤2 preemptions, under pagelab, on one thread, every scenario.
    for (const sc of pagelabScenarios(ctx, 'dfs')) {
      const r = await dfsRuns(sc.name, true);
      if (!r) throw new Error(`bench: DFS of ${sc.name} under pagelab did not finish`);
      ctx.log(
        `  dfs ${sc.name}/pagelab ≤2 preemptions with POR: ${r.runs} runs, ${(r.ms / 1000).toFixed(2)} s`,
      );
      figures.push({
        key: `explore.dfs_seconds.${sc.name}`,
        value: r.ms / 1000,
        unit: 's',
        label: `DFS ≤2 preemptions with POR under pagelab, 1 thread: complete, ${r.runs} runs`,
        target: 60,
        lowerIsBetter: true,
      });
    }
    const costs: number[] = [];
    for (const n of COST_SIZES) {
      const us = await costPerOp(n);
      costs.push(us);
      ctx.log(`  cost per op at ${n} ops: ${us.toFixed(1)} µs`);
      figures.push({
        key: `explore.cost_growth.${n}`,
        value: us,
        unit: 'µs/op',
        label: `µs per op, ${COST_SCHEDULES} random schedules of ${n} preads vs 1 pwrite, xfs`,
        ...(n === 1024 ? { target: costs[0] * 1.5, lowerIsBetter: true } : {}),
      });
    }
    for (const sch of SCHEMES) {
      const r = await faultStormSeconds(sch);
      const budget = STORM_RUNS.toLocaleString('en');
      ctx.log(
        `  dfs fault-storm-vs-dio/${sch.name} ≤2 preemptions: ${r ? `${r.runs} runs, ${r.s.toFixed(2)} s${r.complete ? '' : ` — not certified within ${budget} runs`}` : 'n/a'}`,
      );
      if (!r) continue;
      figures.push({
        key: `explore.dfs_seconds.fault-storm-vs-dio.${sch.name}`,
        // Cut off by the budget: no time to report (NaN: null in --json, a miss in the table).
        value: r.complete ? r.s : Number.NaN,
        unit: 's',
        label: r.complete
          ? `DFS ≤2 preemptions with POR, 1 thread: complete, ${r.runs} runs`
          : `DFS ≤2 preemptions with POR, 1 thread: not certified within ${budget} runs (${r.s.toFixed(1)} s)`,
        target: 60,
        lowerIsBetter: true,
      });
    }
    for (const sc of pagelabScenarios(ctx, 'complete')) {
      const r = await completeSeconds(sc);
      const budget = (r.stateCache ? COMPLETE_CACHED_BUDGET : COMPLETE_BUDGET).toLocaleString('en');
      const how = r.stateCache ? ', state cache' : '';
      ctx.log(
        `  dfs ${sc.name}/pagelab, no preemption bound${how}: ${r.runs} runs, ${r.s.toFixed(2)} s${r.complete ? '' : ` — not complete within ${budget} runs`}`,
      );
      // A search cut off by the budget has no time to report: NaN (null in --json, "not finished"
      // in the table, a miss against the target).
      figures.push({
        key: `explore.complete_seconds.${sc.name}`,
        value: r.complete ? r.s : Number.NaN,
        unit: 's',
        label: r.complete
          ? `DFS with no preemption bound (all schedules), POR${how}, pagelab, 1 thread: ${r.runs} runs`
          : `DFS with no preemption bound, POR${how}, pagelab, 1 thread: not complete within ${budget} runs (${r.s.toFixed(1)} s)`,
        target: 60,
        lowerIsBetter: true,
      });
    }
    const par = await parallelSpeedup(ctx);
    figures.push({
      key: 'explore.parallel_speedup',
      value: par.speedup,
      unit: 'x',
      label: `DFS ≤3 preemptions of gup-nofault-reentry/pagelab without POR (${par.runs} runs), 1 thread ÷ 2, best of 2`,
      target: 1.7,
    });
    const vs = await versusFastCheck(ctx, scenario('dio-write-vs-mmap-store'), scheme('vfs2019'));
    figures.push({
      key: 'explore.vs_fastcheck.dio-write-vs-mmap-store',
      value: vs.ratio,
      unit: 'x',
      label: `schedules/s of ours ÷ fc.scheduler() on the same model (${Math.round(vs.ours)}/s vs ${Math.round(vs.theirs)}/s), median of ${VS_ROUNDS} alternating rounds`,
      target: 3,
    });
    return figures;
  },
);
