import { describe, expect, it } from 'vitest';
import { parseLitmus } from '../litmus/parse.js';
import { SCHEMES } from '../schemes/index.js';
import { checkScenario } from './check.js';

const TWO_NODES = parseLitmus(
  'litmus two-nodes\nfile f 1p written\nP0: pwrite f 0 8\nP1: pread f 0 8 direct\nnode A: P0\nnode B: P1\n',
);
const ONE_NODE = parseLitmus(
  'litmus one-node\nfile f 1p written\nP0: pwrite f 0 8\nP1: pread f 0 8 direct\n',
);

describe('a scenario with nodes', () => {
  it('is n/a under every one-node scheme, with the reason, and runs no schedule', async () => {
    for (const scheme of SCHEMES.filter((s) => !s.cluster)) {
      const r = await checkScenario(TWO_NODES, scheme, { seed: 1, schedules: 5, scenarioRef: 'two-nodes' });
      expect([r.verdict, r.schedules, r.reason]).toEqual([
        'n/a',
        0,
        `${scheme.name} runs on one node in the model (one page cache, no DLM); the scenario puts its tasks on 2 nodes (docs/cluster.md)`,
      ]);
    }
  });

  it('runs under the cluster schemes: gfs2 ok, gfs2-nodf-read stale-read (docs/cluster.md)', async () => {
    const verdicts = [];
    for (const scheme of SCHEMES.filter((s) => s.cluster)) {
      const r = await checkScenario(TWO_NODES, scheme, {
        seed: 1,
        schedules: 1000,
        scenarioRef: 'two-nodes',
      });
      verdicts.push([scheme.name, r.verdict]);
    }
    expect(verdicts).toEqual([
      ['gfs2', 'ok'],
      ['gfs2-nodf-read', 'stale-read'],
    ]);
  });

  it('gfs2-nodf-read is n/a without nodes, with its reason', async () => {
    const scheme = SCHEMES.find((s) => s.name === 'gfs2-nodf-read');
    const r = await checkScenario(ONE_NODE, scheme as (typeof SCHEMES)[number], {
      seed: 1,
      schedules: 5,
      scenarioRef: 'one-node',
    });
    expect([r.verdict, r.reason]).toEqual([
      'n/a',
      'gfs2-nodf-read differs from gfs2 in what other nodes see: it is defined for scenarios with node lines (docs/cluster.md)',
    ]);
  });
});
