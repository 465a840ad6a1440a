/**
 * The explorer's contract: every strategy finds a seeded bug and shows it shrunk; bounded DFS
 * certifies what it covered; results do not depend on the number of workers; partial-order
 * reduction never changes a verdict.
 */
import { describe, expect, it } from 'vitest';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { builtinScenarios, findBuiltin } from '../litmus/builtin.js';
import { findScheme, SCHEMES } from '../schemes/index.js';
import { pagelab } from '../schemes/pagelab.js';
import type { Scheme } from '../schemes/scheme.js';
import { decodeSchedule } from '../sim/schedule.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { checkScenario, parseReplayString, runOnce, type StrategyName } from './run.js';

function builtin(name: string) {
  const s = findBuiltin(name);
  if (!s) throw new Error(name);
  return s;
}

/**
 * pagelab with its DIO-vs-refault coordination removed (test only): the O_DIRECT write takes no
 * "block" range, so a store can refault the page between the two invalidations, as in xfs.
 */
const broken: Scheme = {
  ...pagelab,
  name: 'pagelab-broken',
  ops: {
    ...pagelab.ops,
    async writeIter(t, inode, pos, len, ubuf, direct) {
      if (!direct) return pagelab.ops.writeIter(t, inode, pos, len, ubuf, direct);
      await inode.iRwsem.downRead(t, 'broken_dio_write:inode_lock_shared');
      try {
        return await iomapDioRw(t, inode, pos, len, ubuf, true);
      } finally {
        inode.iRwsem.upRead(t);
      }
    },
  },
};

/** Hand-written minimal counterexample: P0 runs to its submit, P1 stores, P0 finishes: one switch. */
const HAND_WRITTEN = '0*4.1*6';

describe('a deliberately broken pagelab is caught by every strategy, shrunk', () => {
  const sc = builtin('dio-write-vs-mmap-store');
  it('the hand-written schedule shows the lost write', async () => {
    const run = await runOnce(sc, broken, new ReplayStrategy(decodeSchedule(HAND_WRITTEN)));
    expect(run.findings.map((f) => f.kind)).toContain('lost-write');
  });

  for (const strategy of ['random', 'pct', 'dfs'] as StrategyName[]) {
    it(`${strategy} finds lost-write and shrinks it to no more switches or steps than the hand-written one`, async () => {
      const r = await checkScenario(sc, broken, { schedules: 2000, seed: 5, scenarioRef: sc.name, strategy });
      expect(r.verdict).toBe('lost-write');
      expect(r.finding?.bytes).toEqual({ region: 'f', start: 0, end: 32 });
      const hand = await runOnce(sc, broken, new ReplayStrategy(decodeSchedule(HAND_WRITTEN)));
      const shown = r.report?.result;
      expect(shown).toBeDefined();
      expect(r.shrunk?.to).toBeLessThanOrEqual(1);
      expect(shown?.steps).toBeLessThanOrEqual(hand.result.steps);
      // The replay string replays the shrunk run.
      const p = parseReplayString(r.replay as string);
      const again = await runOnce(sc, broken, new ReplayStrategy(p.schedule), { trace: true });
      expect(JSON.stringify(again.result.trace)).toBe(JSON.stringify(r.report?.result.trace));
    });
  }

  it('the real pagelab passes the same searches', async () => {
    for (const strategy of ['random', 'pct', 'dfs'] as StrategyName[]) {
      const r = await checkScenario(sc, pagelab, {
        schedules: 2000,
        seed: 5,
        scenarioRef: sc.name,
        strategy,
      });
      expect(r.verdict).toBe('ok');
    }
  });
});

describe('bounded DFS certifies pagelab on the seed scenarios', () => {
  for (const name of [
    'dio-write-vs-mmap-store',
    'dio-write-vs-mmap-load',
    'dio-write-vs-buffered-read',
    'punch-vs-fault',
    'collapse-vs-fault',
    'insert-vs-fault',
  ]) {
    it(name, async () => {
      const r = await checkScenario(builtin(name), pagelab, {
        schedules: 1_000_000,
        seed: 1,
        scenarioRef: name,
        strategy: 'dfs',
        preemptions: 2,
      });
      expect(r.verdict).toBe('ok');
      expect(r.coverage.complete).toBe(true);
      expect(r.coverage.schedules).toBeGreaterThan(10);
      expect(r.coverage.text).toBe(
        `all ${r.coverage.schedules} schedules with ≤ 2 preemptions, ${r.coverage.pruned} pruned as equivalent`,
      );
    });
  }
});

/**
 * DPOR is only as sound as the footprints the model records (src/sim/footprint.ts). The net: every
 * built-in scenario under every scheme, exhaustive DFS with ≤ 1 preemption with and without POR,
 * wherever the search without POR finishes within the budget: the verdicts must agree.
 */
describe('partial-order reduction preserves every verdict', () => {
  const BUDGET = 150;
  it('every scenario under every scheme, ≤ 1 preemption', async () => {
    const differ: string[] = [];
    let compared = 0;
    let without = 0;
    let withPor = 0;
    // fault-storm-vs-dio: 4 tasks and 24 faults, beyond exhaustive search (random and pct only).
    for (const sc of builtinScenarios().filter((x) => x.name !== 'fault-storm-vs-dio')) {
      for (const s of SCHEMES) {
        const opts = {
          schedules: BUDGET,
          seed: 1,
          scenarioRef: sc.name,
          strategy: 'dfs' as const,
          preemptions: 1,
          shrink: false,
          jobs: 1,
        };
        const full = await checkScenario(sc, s, { ...opts, por: false });
        if (full.verdict === 'n/a' || (full.verdict === 'ok' && !full.coverage.complete)) continue;
        const por = await checkScenario(sc, s, opts);
        compared++;
        if (
          (por.verdict === 'ok') !== (full.verdict === 'ok') ||
          (por.verdict === 'ok' && !por.coverage.complete)
        ) {
          differ.push(`${sc.name} under ${s.name}: ${full.verdict} without POR, ${por.verdict} with`);
        }
        if (full.verdict === 'ok') {
          without += full.coverage.schedules;
          withPor += por.coverage.schedules + por.coverage.pruned;
        }
      }
    }
    expect(differ).toEqual([]);
    expect(compared).toBeGreaterThan(140);
    // And it does reduce: fewer runs than the plain bounded DFS over the certified cells.
    expect(withPor).toBeLessThan(without);
  }, 120_000);

  it('independent O_DIRECT writers to disjoint ranges commute: ≥ 10x fewer runs under pagelab', async () => {
    const sc = builtin('dio-writers-disjoint');
    const opts = {
      schedules: 1_000_000,
      seed: 1,
      scenarioRef: sc.name,
      strategy: 'dfs' as const,
      preemptions: 2,
      jobs: 1,
    };
    const full = await checkScenario(sc, pagelab, { ...opts, por: false });
    const por = await checkScenario(sc, pagelab, opts);
    expect(full.verdict).toBe('ok');
    expect(por.verdict).toBe('ok');
    expect(por.coverage.complete).toBe(true);
    expect((por.coverage.schedules + por.coverage.pruned) * 10).toBeLessThanOrEqual(full.coverage.schedules);
  });
});

describe('results do not depend on the number of workers', () => {
  for (const strategy of ['random', 'pct', 'dfs'] as StrategyName[]) {
    it(strategy, async () => {
      const sc = builtin('punch-vs-fault');
      const s = findScheme('vfs2019') as Scheme;
      const opts = { schedules: 3000, seed: 9, scenarioRef: sc.name, strategy };
      const one = await checkScenario(sc, s, { ...opts, jobs: 1 });
      const two = await checkScenario(sc, s, { ...opts, jobs: 2 });
      expect(two.verdict).toBe(one.verdict);
      expect(two.replay).toBe(one.replay);
      expect(two.coverage).toEqual(one.coverage);
    });
  }
});
