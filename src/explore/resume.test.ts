/**
 * A DFS unit's search stopped at a budget and resumed makes exactly the runs one search with the
 * larger budget makes (DfsUnitSearch): a campaign cell stops its DFS at `dfsRuns`, samples with PCT,
 * and goes on to `certifyRuns` (src/campaign/cell.ts), and its certificate must be that one DFS's.
 */
import { describe, expect, it } from 'vitest';
import { findScheme } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import { findBuiltin } from './builtin.js';
import { DfsUnitSearch, runUnit, type SearchParams, type Unit } from './units.js';

const params: SearchParams = {
  strategy: 'dfs',
  seed: 1,
  depth: 3,
  expectedSteps: 0,
  preemptions: 2,
  por: true,
  porSteps: 1000,
};
const root = (budget: number): Extract<Unit, { kind: 'dfs' }> => ({
  kind: 'dfs',
  index: 0,
  prefix: [],
  sleep: [],
  budget,
});

function setup(scenario: string, scheme: string) {
  const s = findBuiltin(scenario);
  const sch = findScheme(scheme) as Scheme;
  if (!s) throw new Error(scenario);
  return { s, sch };
}

describe('a DFS unit resumed', () => {
  it('dio-buffers-crossed-pages under pagelab: stopped at 37, then 90, then on: the one search to the end', async () => {
    const { s, sch } = setup('dio-buffers-crossed-pages', 'pagelab');
    const fresh = await runUnit(s, sch, params, root(100_000));
    expect(fresh.complete).toBe(true);
    expect(fresh.schedules).toBeGreaterThan(90);
    const search = new DfsUnitSearch(s, sch, params, root(37));
    const at37 = await search.run(37);
    expect(at37).toMatchObject({ complete: false, failure: null });
    expect(at37.schedules + at37.pruned).toBe(37);
    // The same as a search stopped at 90 from the start.
    expect(await search.run(90)).toEqual(await runUnit(s, sch, params, root(90)));
    expect(await search.run(100_000)).toEqual(fresh);
    // Over: asked again, the same result, no more runs.
    expect(await search.run(200_000)).toEqual(fresh);
  });

  it('dio-write-vs-mmap-store under vfs2019: stopped at 10, resumed, finds the lost write in the same run', async () => {
    const { s, sch } = setup('dio-write-vs-mmap-store', 'vfs2019');
    const fresh = await runUnit(s, sch, params, root(100_000));
    expect(fresh.failure?.finding.kind).toBe('lost-write');
    const search = new DfsUnitSearch(s, sch, params, root(10));
    expect((await search.run(10)).failure).toBeNull();
    const resumed = await search.run(100_000);
    expect(resumed).toEqual(fresh);
    expect(resumed.failure?.runs).toBe(fresh.schedules + fresh.pruned);
  });
});
