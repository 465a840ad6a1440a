import { describe, expect, it } from 'vitest';
import { parseLitmus } from '../litmus/parse.js';
import { SCHEMES } from '../schemes/index.js';
import { checkScenario } from './check.js';

const TWO_NODES = parseLitmus(
  'litmus two-nodes\nfile f 1p dirty\nP0: pwrite f 0 8\nP1: pread f 0 8 direct\nnode A: P0\nnode B: P1\n',
);

describe('a scenario with nodes', () => {
  it('is n/a under every scheme, with the reason, and runs no schedule', async () => {
    for (const scheme of SCHEMES) {
      const r = await checkScenario(TWO_NODES, scheme, { seed: 1, schedules: 5, scenarioRef: 'two-nodes' });
      expect([r.verdict, r.schedules, r.reason]).toEqual([
        'n/a',
        0,
        `${scheme.name} runs on one node in the model (one page cache, no DLM); the scenario puts its tasks on 2 nodes (docs/cluster.md)`,
      ]);
    }
  });
});
