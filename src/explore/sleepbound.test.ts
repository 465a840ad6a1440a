/**
 * Sleep sets under a preemption bound (boundedSleep, src/explore/dfs.ts): a choice explored at a
 * node sleeps in a sibling's subtree only where the run it stands for costs no more preemptions —
 * with its first step's footprint, or with its whole run of the CPU's. The outcome-level net is
 * explore.test.ts (campaign-2172 at ≤ 1, and the campaign table at the same bound on both sides).
 */
import { describe, expect, it } from 'vitest';
import { boundedSleep, type DfsNode } from './dfs.js';

const STEP = [10];
const BLOCK = [10, 12, 15];

/** A node where `current` ran before the decision (runnable or not); tasks 0–2 explored there. */
function node(current: number, currentRunnable: boolean, runnableAfter: number[], blocks = true): DfsNode {
  return {
    runnable: [0, 1, 2],
    chosen: 0,
    current,
    currentRunnable,
    preemptionsBefore: 0,
    backtrack: new Set(),
    done: new Set([0, 1, 2]),
    sleep: new Map(),
    steps: new Map([0, 1, 2].map((id) => [id, STEP])),
    runnableAfter: new Set(runnableAfter),
    ...(blocks ? { blocks: new Map([0, 1, 2].map((id) => [id, BLOCK])) } : {}),
  };
}

describe('boundedSleep', () => {
  it('the running task, explored first, sleeps in a preempting sibling with its step (c→q preempts, d→q at most)', () => {
    expect(boundedSleep(node(0, true, [0]), 0, 1, 1)).toEqual(STEP);
    expect(boundedSleep(node(0, true, []), 0, 1, 1)).toEqual(STEP);
  });

  it('a preempting choice still runnable after its step sleeps in another preempting sibling with its whole block', () => {
    // d=1 moved before q=2: c→d preempts as c→q did; d1→q would be a switch away from a runnable
    // task, so d's whole run of the CPU moves, and it sleeps with that run's footprint.
    expect(boundedSleep(node(0, true, [1]), 1, 2, 2)).toEqual(BLOCK);
    // Its block unknown (its run was cut by the end of the run): it stays awake.
    expect(boundedSleep(node(0, true, [1], false), 1, 2, 2)).toBeNull();
    // It blocked or exited in its step: d→q is free, its step is enough.
    expect(boundedSleep(node(0, true, []), 1, 2, 2)).toEqual(STEP);
  });

  it('a preempting choice stays awake in the running task’s subtree (c→d preempts, c→q did not)', () => {
    expect(boundedSleep(node(0, true, []), 1, 0, 2)).toBeNull();
  });

  it('where the running task blocked, a choice still runnable after its step sleeps with its block', () => {
    expect(boundedSleep(node(0, false, [1]), 1, 2, 2)).toEqual(BLOCK);
    expect(boundedSleep(node(0, false, []), 1, 2, 2)).toEqual(STEP);
  });

  it('without a bound (--preemptions all) every sleeper keeps its step', () => {
    expect(boundedSleep(node(0, true, [1]), 1, 0, Number.MAX_SAFE_INTEGER)).toEqual(STEP);
  });
});
