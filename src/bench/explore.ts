/**
 * Explorer benchmarks (issue 5). Figures:
 * - explore.schedules_per_sec.<scenario>.<scheme>: random-strategy runs per second (model + oracles)
 *   for each seed scenario under vfs2019 and pagelab;
 * - explore.time_to_first.<scenario>.<strategy>: median seconds to the first finding over 5 seeds,
 *   for random, pct and dfs, on each seed race under its historical scheme;
 * - explore.por_reduction.<scenario>: runs of DFS without POR ÷ with POR at the same bound;
 * - explore.parallel_speedup: the same bounded DFS with 1 worker ÷ with 2;
 * - explore.vs_fastcheck.<scenario>: our schedules/s ÷ fast-check's fc.scheduler() driving the very
 *   same model code (every `await t.point()` becomes an `s.schedule()` promise) on one seed race.
 */
import fc from 'fast-check';
import { judge } from '../explore/judge.js';
import { checkScenario, runOnce, type StrategyName } from '../explore/run.js';
import type { Scenario } from '../litmus/ast.js';
import { findBuiltin } from '../litmus/builtin.js';
import { buildWorld, spawnTasks } from '../litmus/world.js';
import { findScheme } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
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

async function schedulesPerSec(ctx: BenchContext, sc: Scenario, sch: Scheme): Promise<Rate> {
  let seed = 0;
  const BATCH = 200;
  return measureRate(
    ctx,
    `${sc.name}/${sch.name}`,
    async () => {
      for (let i = 0; i < BATCH; i++) await runOnce(sc, sch, new RandomStrategy(mixSeed(7, seed++)));
    },
    { units: BATCH, timeMs: 400, warmupMs: 200 },
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
      judge(world, await sim.run());
      runs++;
      return true;
    }),
    { numRuns, seed },
  );
  if (details.failed) throw new Error(`fast-check run failed: ${String(details.errorInstance)}`);
  return runs;
}

async function parallelSpeedup(ctx: BenchContext): Promise<number> {
  const sc = scenario('dio-write-vs-buffered-read');
  const sch = scheme('pagelab');
  const time = async (jobs: number) => {
    const t0 = performance.now();
    const r = await checkScenario(sc, sch, {
      schedules: 1_000_000,
      seed: 1,
      scenarioRef: sc.name,
      strategy: 'dfs',
      preemptions: 2,
      jobs,
    });
    if (!r.coverage.complete) throw new Error('bench: parallel DFS incomplete');
    return performance.now() - t0;
  };
  const t1 = await time(1);
  const t2 = await time(2);
  ctx.log(`  dfs ${sc.name}/pagelab: 1 job ${(t1 / 1000).toFixed(2)} s, 2 jobs ${(t2 / 1000).toFixed(2)} s`);
  return t1 / t2;
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
    const porScenario = scenario('dio-write-vs-buffered-read');
    const runs = async (por: boolean) => {
      const r = await checkScenario(porScenario, scheme('pagelab'), {
        schedules: 1_000_000,
        seed: 1,
        scenarioRef: porScenario.name,
        strategy: 'dfs',
        preemptions: 2,
        por,
        jobs: 1,
      });
      return r.coverage.schedules + r.coverage.pruned;
    };
    const without = await runs(false);
    const withPor = await runs(true);
    figures.push({
      key: `explore.por_reduction.${porScenario.name}`,
      value: without / withPor,
      unit: 'x',
      label: `DFS runs without ÷ with POR (${without} / ${withPor}), ≤2 preemptions`,
      target: 10,
    });
    figures.push({
      key: 'explore.parallel_speedup',
      value: await parallelSpeedup(ctx),
      unit: 'x',
      label: 'bounded DFS, 1 worker ÷ 2 workers',
      target: 1.7,
    });
    const race = scenario('dio-write-vs-mmap-store');
    const vfs = scheme('vfs2019');
    const ours = await schedulesPerSec(ctx, race, vfs);
    let fcSeed = 1;
    const FC_BATCH = 100;
    const theirs = await measureRate(
      ctx,
      `fast-check ${race.name}`,
      async () => void (await fastCheckRuns(race, vfs, FC_BATCH, fcSeed++)),
      { units: FC_BATCH, timeMs: 400, warmupMs: 200 },
    );
    figures.push({
      key: `explore.vs_fastcheck.${race.name}`,
      value: ours.perSec / theirs.perSec,
      unit: 'x',
      label: `schedules/s of ours ÷ fc.scheduler() on the same model (${Math.round(theirs.perSec)}/s)`,
      target: 3,
    });
    return figures;
  },
);
