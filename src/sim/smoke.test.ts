import { describe, expect, it } from 'vitest';
import { Sim, type Strategy } from './sched.js';
import { RandomStrategy, ReplayStrategy } from './strategy.js';

/** Two tasks increment a shared counter with a load and a store: the classic lost update. */
async function counterRace(strategy: Strategy) {
  const sim = new Sim({ strategy, trace: true });
  const shared = { v: 0 };
  for (let i = 0; i < 2; i++) {
    sim.spawn(`P${i}`, async (t) => {
      await t.point('load', 0, false);
      const v = shared.v;
      await t.point('store', 0, true);
      shared.v = v + 1;
    });
  }
  const r = await sim.run();
  return { r, v: shared.v };
}

/** Seed 0's random run loses an update (both tasks load 0 before either stores); seed 1's does not. */
const LOST = 0;
const KEPT = 1;

describe('smoke: the counter race', () => {
  it('a random schedule finds the lost update; another does not lose it', async () => {
    const lost = await counterRace(new RandomStrategy(LOST));
    expect(lost.v).toBe(1);
    expect(lost.r.outcome.kind).toBe('done');
    expect(lost.r.schedule).toEqual([1, 0, 0, 1, 0]);
    expect((await counterRace(new RandomStrategy(KEPT))).v).toBe(2);
  });

  it("replaying a run's schedule gives the same outcome, counter, schedule and trace", async () => {
    for (const [seed, v] of [
      [LOST, 1],
      [KEPT, 2],
    ]) {
      const original = await counterRace(new RandomStrategy(seed));
      const replay = new ReplayStrategy(original.r.schedule);
      const again = await counterRace(replay);
      expect(replay.divergences).toBe(0);
      expect(again.v).toBe(v);
      expect(again.r.outcome).toEqual(original.r.outcome);
      expect(again.r.schedule).toEqual(original.r.schedule);
      expect(again.r.steps).toBe(original.r.steps);
      expect(again.r.trace?.events()).toEqual(original.r.trace?.events());
    }
  });

  it('the two runs have different traces (so the comparison above can fail)', async () => {
    const lost = await counterRace(new RandomStrategy(LOST));
    const kept = await counterRace(new RandomStrategy(KEPT));
    expect(lost.r.trace?.events()).not.toEqual(kept.r.trace?.events());
  });
});
