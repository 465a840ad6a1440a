import { describe, expect, it } from 'vitest';
import { Sim } from './sched.js';
import { RandomStrategy, ReplayStrategy } from './strategy.js';

async function counterRace(seed: number) {
  const sim = new Sim({ strategy: new RandomStrategy(seed), trace: true });
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

describe('smoke', () => {
  it('runs', async () => {
    let lost = 0;
    for (let s = 0; s < 50; s++) if ((await counterRace(s)).v !== 2) lost++;
    expect(lost).toBeGreaterThan(0);
    const { r } = await counterRace(3);
    expect(r.outcome.kind).toBe('done');
    const sim2 = new Sim({ strategy: new ReplayStrategy(r.schedule), trace: true });
    expect(sim2).toBeTruthy();
  });
});
