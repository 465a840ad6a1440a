import { describe, expect, it } from 'vitest';
import { checkScenario } from '../explore/check.js';
import { parseLitmus } from '../litmus/parse.js';
import { scheme } from '../test-support/named.js';
import { fromCheck } from './input.js';
import { buildModel, findingLines } from './model.js';

// Issue 16: a task that repeats an identical op. Under dax2017 the second load, which begins after
// the write returned, still sees the zero page the first one mapped: the finding is about it.
const TWICE = `litmus load-twice
page 64
file f 3p hole
map m f 0 3p shared
P1: pwrite f 128 64
P2: load m+128 8; load m+128 8
`;

describe('the finding focus follows op instances, not op text', async () => {
  const r = await checkScenario(parseLitmus(TWICE), scheme('dax2017'), {
    schedules: 1000,
    seed: 1,
    scenarioRef: 'load-twice',
  });
  const m = buildModel(fromCheck(r));
  const loads = m.rows.filter((x) => x.text.startsWith('» load') || x.text.startsWith('« load'));

  it('the stale read names the second load by its tag', () => {
    expect(r.verdict).toBe('stale-read');
    expect(r.finding?.summary).toMatch(/^P2's `load m\+128 8` read bytes \[128,136\) of f as zeroes/);
    expect(r.finding?.opTags?.length).toBe(2);
  });

  it('✖ lands on the second load’s return and ▶ on its call; the first load is not marked', () => {
    expect(loads.map((x) => x.text.slice(0, 14))).toEqual([
      '» load m+128 8',
      '« load m+128 8',
      '» load m+128 8',
      '« load m+128 8',
    ]);
    expect(loads.map((x) => [x.key, x.anchor])).toEqual([
      [false, false],
      [false, false],
      [true, false],
      [true, true],
    ]);
    expect(m.focus.anchor).toBe(loads[3].seq);
  });

  it('the explanation names the instance: P2.2, the second of two identical loads', () => {
    const f = r.finding as NonNullable<typeof r.finding>;
    expect(findingLines(f, m.input.ops).slice(0, 2)).toEqual([
      "stale-read: P2's `load m+128 8` read bytes [128,136) of f as zeroes",
      "the op: P2.2, P2's 2nd `load m+128 8`",
    ]);
  });
});
