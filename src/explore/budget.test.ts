/**
 * `--schedules N` of a DFS is the most runs it makes, the frontier's included, and whatever the
 * number of workers: the units share the budget in index order (pool.ts), they do not each get it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findScheme } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import { Sim } from '../sim/sched.js';
import { findBuiltin } from './builtin.js';
import { checkScenario } from './check.js';
import { SharedBudget } from './pool.js';
import type { Unit, UnitResult } from './units.js';

const storm = findBuiltin('fault-storm-vs-dio');
const vfs2019 = findScheme('vfs2019') as Scheme;
const opts = {
  seed: 1,
  scenarioRef: 'fault-storm-vs-dio',
  strategy: 'dfs' as const,
  por: false,
  shrink: false,
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the DFS budget is the most runs of the whole search', () => {
  it('fault-storm-vs-dio under vfs2019, no POR, --schedules 10: at most 10 runs (it made 820)', async () => {
    if (!storm) throw new Error('fault-storm-vs-dio');
    const runs = vi.spyOn(Sim.prototype, 'run');
    const r = await checkScenario(storm, vfs2019, { ...opts, schedules: 10, jobs: 1 });
    expect(runs.mock.calls.length).toBeLessThanOrEqual(10);
    expect(r.coverage.schedules + r.coverage.pruned).toBeLessThanOrEqual(10);
    expect(r.coverage.schedules).toBeGreaterThan(0);
    expect(r.coverage.complete).toBe(false);
    expect(r.coverage.text).toContain('budget exhausted, not a proof');
  });

  for (const schedules of [10, 500]) {
    it(`--schedules ${schedules}: the same runs and coverage on 1 and 2 workers`, async () => {
      if (!storm) throw new Error('fault-storm-vs-dio');
      const one = await checkScenario(storm, vfs2019, { ...opts, schedules, jobs: 1 });
      const two = await checkScenario(storm, vfs2019, { ...opts, schedules, jobs: 2 });
      expect(two.coverage).toEqual(one.coverage);
      expect(one.coverage.schedules + one.coverage.pruned).toBeLessThanOrEqual(schedules);
    });
  }
});

describe('SharedBudget: shares in index order, exact whatever order units finish in', () => {
  const unit = (index: number): Unit => ({ kind: 'dfs', index, prefix: [index], sleep: [], budget: 0 });
  const result = (index: number, runs: number, complete: boolean): UnitResult => ({
    index,
    failure: null,
    schedules: runs,
    pruned: 0,
    boundSkipped: 0,
    complete,
  });

  it('a unit handed out early gets an upper bound; the one that ran past its share is cut by a re-run', async () => {
    const b = new SharedBudget(10);
    // Unit 2 starts first: units 0 and 1 are running, each makes at least one run.
    expect(b.bound(2)).toBe(8);
    b.record(result(2, 8, false)); // ran out of its bound of 8
    b.record(result(0, 4, true));
    expect(b.bound(1)).toBe(6);
    b.record(result(1, 3, true));
    const units = [0, 1, 2, 3].map(unit);
    const reruns: Unit[] = [];
    const settled = await b.settle(
      units,
      [result(0, 4, true), result(1, 3, true), result(2, 8, false)],
      (u) => {
        reruns.push(u);
        return Promise.resolve(result(u.index, u.kind === 'dfs' ? u.budget : 0, false));
      },
    );
    // Exact shares: 10, 6, 3, 0: unit 2 is re-run with 3 runs, unit 3 never counts.
    expect(reruns).toEqual([{ ...unit(2), budget: 3 }]);
    expect(settled.map((r) => [r.index, r.schedules])).toEqual([
      [0, 4],
      [1, 3],
      [2, 3],
    ]);
  });

  it('a unit that finished within its exact share stands as it ran', async () => {
    const b = new SharedBudget(10);
    const settled = await b.settle([unit(0), unit(1)], [result(0, 2, true), result(1, 8, true)], () => {
      throw new Error('no re-run needed');
    });
    expect(settled.map((r) => r.schedules)).toEqual([2, 8]);
  });
});
