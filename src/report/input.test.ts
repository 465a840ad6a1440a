import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../explore/check.js';
import { checkProvenance } from './input.js';

const base: CheckResult = {
  scenario: 's',
  scheme: 'x',
  seed: 1,
  schedules: 26,
  verdict: 'ok',
  finding: null,
  findings: [],
  replay: null,
  report: null,
  coverage: {
    strategy: 'dfs',
    schedules: 26,
    pruned: 3,
    boundSkipped: 0,
    complete: true,
    preemptions: 2,
    text: 'all 26 schedules with ≤ 2 preemptions, 3 pruned as equivalent',
  },
};

describe('the header says how a check was backed', () => {
  it('a DFS names no seed (it has none)', () => {
    expect(checkProvenance(base)).toBe(
      'no forbidden finding in all 26 schedules with ≤ 2 preemptions, 3 pruned as equivalent',
    );
    const found = { ...base, finding: { kind: 'lost-write' } } as unknown as CheckResult;
    const minimal = {
      proven: true,
      text: 'the fewest: a complete DFS finds no lost-write without preemption',
      runs: 5,
    };
    expect(checkProvenance({ ...found, shrunk: { from: 3, to: 1, runs: 9, minimal } })).toBe(
      'found by dfs in run 26; shrunk from 3 to 1 preemption, the fewest: a complete DFS finds no lost-write without preemption',
    );
  });

  it('a random search names its seed', () => {
    const r = {
      ...base,
      coverage: { ...base.coverage, strategy: 'random' as const, text: '1000 random schedules' },
    };
    expect(checkProvenance(r)).toBe('no forbidden finding in 1000 random schedules (seed 1)');
    const found = { ...r, finding: { kind: 'lost-write' } } as unknown as CheckResult;
    expect(checkProvenance(found)).toBe('found by random in schedule 26, seed 1');
  });
});
