/**
 * `campaign --native`'s records and summary. The summary is a function of the records alone; the
 * text of a failing record names each outcome the model does not allow. No test here touches the
 * kernel (src/cli/campaign.test.ts runs a slice on it, without asserting that a race was hit).
 */
import { describe, expect, it } from 'vitest';
import { formatNativeSummary, formatNotAllowed, type NativeRecord, summarizeNative } from './native.js';

function rec(index: number, over: Partial<NativeRecord>): NativeRecord {
  return {
    type: 'native',
    index,
    program: `p${index}`,
    litmus: '',
    conflicts: [],
    scheme: 'ext4',
    skipped: null,
    seed: index,
    iterations: 10,
    elapsed_ms: 100,
    hung: null,
    outcomes: [{ count: 10, kinds: { ok: 10 }, outcome: ['A0 = 4096'], allowed: true }],
    not_allowed: [],
    unobserved: 0,
    model: { complete: true, coverage: 'complete DFS', runs: 3, outcomes: 1 },
    ...over,
  };
}

const BAD = { count: 2, kinds: { 'lost-write': 2 }, outcome: ['A0 = 4096', 'f: B0'], allowed: false };

const RECORDS = [
  rec(0, {}),
  rec(1, { skipped: 'no DAX', iterations: 0, elapsed_ms: 0, outcomes: [], model: null }),
  rec(2, { outcomes: [rec(2, {}).outcomes[0], BAD], not_allowed: [BAD.outcome] }),
  rec(3, { skipped: 'no DAX', iterations: 0, elapsed_ms: 0, outcomes: [], model: null }),
  rec(4, { skipped: 'collapse range', iterations: 0, elapsed_ms: 0, outcomes: [], model: null }),
  rec(5, { hung: 7, model: { complete: false, coverage: 'sampled', runs: 9, outcomes: 2 } }),
];

describe('campaign --native summary', () => {
  it('counts runs, groups skips by reason (most first), lists programs with outcomes not allowed and hangs', () => {
    expect(summarizeNative('exhaustive 2x1', 'ext4', 'ext4', RECORDS)).toEqual({
      type: 'native-summary',
      space: 'exhaustive 2x1',
      fs: 'ext4',
      scheme: 'ext4',
      programs: 6,
      ran: 3,
      skipped: { 'no DAX': 2, 'collapse range': 1 },
      iterations: 30,
      elapsed_ms: 300,
      not_allowed: [2],
      hung: [5],
      model_complete: 2,
    });
  });

  it('prints the summary table', () => {
    expect(formatNativeSummary(summarizeNative('exhaustive 2x1', 'ext4', 'ext4', RECORDS))).toEqual([
      'campaign --native: exhaustive 2x1, host ext4, compared with scheme ext4',
      '  programs 6: ran 3, skipped 3',
      '  iterations 30 in 0.3 s on the kernel (kernel time) (10.0 programs/s)',
      '  model sets from a complete bounded DFS: 2/3 (the rest sampled)',
      '  skipped     2  no DAX',
      '  skipped     1  collapse range',
      '  programs with an outcome the model does NOT allow: 1 (2)',
      '  programs with a hung iteration: 1 (5)',
    ]);
  });

  it('names each outcome the model does not allow, and nothing for a record that passes', () => {
    expect(formatNotAllowed(RECORDS[0])).toEqual([]);
    expect(formatNotAllowed(RECORDS[2])).toEqual([
      'program 2 (p2) under ext4: observed but NOT allowed by the model:',
      '       2  lost-write',
      '          A0 = 4096',
      '          f: B0',
    ]);
  });
});
