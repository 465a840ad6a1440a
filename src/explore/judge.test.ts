/**
 * The judgement memo (judge.ts): a run judged from the memo gets exactly the judgement the oracles
 * give it afresh, and a DFS reaches the same observable outcome often enough for it to pay.
 */
import { describe, expect, it } from 'vitest';
import { builtin, scheme } from '../test-support/named.js';
import { backtrack, type DfsNode, DfsRunStrategy } from './dfs.js';
import { JudgeMemo, judgeRun } from './judge.js';
import { runOnce } from './run.js';

describe('the judgement memo', () => {
  it.each([
    ['dio-write-vs-mmap-store', 'vfs2019'],
    ['dio-write-vs-buffered-read', 'xfs'],
  ])('%s under %s: every run judged from the memo as afresh', async (name, s) => {
    const sc = builtin(name);
    const memo = new JudgeMemo();
    let prefix: DfsNode[] = [];
    let runs = 0;
    const kinds = new Set<string>();
    for (; runs < 300; runs++) {
      const strat = new DfsRunStrategy(prefix, true, 1);
      const run = await runOnce(sc, scheme(s), strat);
      const fresh = judgeRun(run.world, run.result);
      expect(judgeRun(run.world, run.result, memo)).toEqual(fresh);
      for (const f of fresh.findings) kinds.add(f.kind);
      const next = backtrack(strat.nodes, 1, { boundSkipped: 0 });
      if (!next) break;
      prefix = next;
    }
    // Findings and ok runs both went through it, and it was hit.
    if (name === 'dio-write-vs-mmap-store') expect(kinds.has('lost-write')).toBe(true);
    expect(memo.size).toBeGreaterThan(1);
    expect(memo.size).toBeLessThan(runs);
  });
});
