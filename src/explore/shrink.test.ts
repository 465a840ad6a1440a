import { describe, expect, it } from 'vitest';
import { builtin, scheme } from '../test-support/named.js';
import { checkScenario } from './check.js';
import { decisive } from './judge.js';
import { replaySchedule } from './run.js';
import { search } from './search.js';
import { fewestPreemptions, replayCounting, shrinkSchedule } from './shrink.js';

/** A random search's first failure, shrunk greedily. */
async function greedy(scenario: string, schemeName: string, seed: number) {
  const sc = builtin(scenario);
  const k = scheme(schemeName);
  const out = await search(sc, k, { strategy: 'random', schedules: 300, seed, jobs: 1 });
  const failure = out.failure;
  if (!failure) throw new Error(`${scenario} under ${schemeName}: no finding`);
  return {
    sc,
    k,
    kind: failure.finding.kind,
    shrunk: await shrinkSchedule(sc, k, failure.schedule, failure.finding.kind),
  };
}

describe('the shrinker reaches the fewest preemptions DFS shows exist, or says it did not', () => {
  it('dax-hole-fault-vs-write under dax2017: greedy stops at 3, the DFS finds 1 and proves 0 has none', async () => {
    const { sc, k, kind, shrunk } = await greedy('dax-hole-fault-vs-write', 'dax2017', 1);
    expect([kind, shrunk.preemptions]).toEqual(['stale-read', 3]);
    const f = await fewestPreemptions(sc, k, shrunk, kind, { budget: 2000 });
    expect(f.preemptions).toBe(1);
    expect(f.minimal).toEqual({
      proven: true,
      text: 'the fewest: a complete DFS finds no stale-read without preemption',
      runs: 5,
    });
    const again = await replayCounting(sc, k, f.schedule);
    expect(again).toEqual({ preemptions: 1, kind: 'stale-read' });
  });

  it('out of budget it says so, and keeps the greedy schedule', async () => {
    const { sc, k, kind, shrunk } = await greedy('pinned-page-fsync', 'ext4-pin-block', 2);
    expect([kind, shrunk.preemptions]).toEqual(['deadlock', 5]);
    const f = await fewestPreemptions(sc, k, shrunk, kind, { budget: 100 });
    expect(f.preemptions).toBe(5);
    expect(f.schedule).toEqual(shrunk.schedule);
    expect(f.minimal).toEqual({
      proven: false,
      text: 'minimal not proven (a complete DFS finds no deadlock without preemption; the DFS with ≤ 1 preemption did not finish within the budget of 100 runs)',
      // 72 before sleep sets kept to the bound (boundedSleep, src/explore/dfs.ts).
      runs: 79,
    });
  });

  it('check shows the fewest: its replay string replays a run of 1 preemption with the finding', async () => {
    const sc = builtin('dax-hole-fault-vs-write');
    const k = scheme('dax2017');
    const r = await checkScenario(sc, k, { schedules: 1000, seed: 1, scenarioRef: sc.name });
    expect(r.shrunk).toMatchObject({ to: 1, minimal: { proven: true } });
    const run = await replaySchedule(sc, k, r.report?.result.schedule ?? []);
    expect(decisive(run.findings, sc.forbid)?.kind).toBe('stale-read');
  });
});
