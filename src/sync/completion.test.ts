import { describe, expect, it } from 'vitest';
import { type DeadlockReport, Sim } from '../sim/sched.js';
import { ReplayStrategy, TimedStrategy } from '../sim/strategy.js';
import { Completion } from './completion.js';
import { spin } from './testutil.test-support.js';

describe('Completion', () => {
  it('wait blocks until complete(); later waits return at once; holders() is the expected waker', async () => {
    const sim = new Sim({ strategy: new TimedStrategy() });
    const c = new Completion('bio#7', 'bio');
    const log: string[] = [];
    let holdersWhileWaiting: string[] = [];
    const irq = sim.spawn(
      'irq',
      async (t) => {
        await spin(t, 4);
        holdersWhileWaiting = c.holders().map(String);
        c.complete(t);
      },
      { irq: true },
    );
    c.setWaker(irq);
    sim.spawn('P', async (t) => {
      await c.wait(t, 'submit_bio_wait');
      log.push(`P@${t.time}`);
      await c.wait(t, 'again');
      log.push(`P again@${t.time}`);
    });
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    expect(log).toEqual(['P@4', 'P again@4']);
    expect(holdersWhileWaiting).toEqual(['irq[0]']);
    expect(c.done).toBe(true);
    expect(c.holders()).toEqual([]);
  });

  it('a completion nobody will complete is a deadlock naming the waiter and the site', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const c = new Completion('pins of folio f:0', 'folio_pin');
    sim.spawn('writeback', async (t) => c.wait(t, 'folio_wait_pinned'));
    const r = await sim.run();
    expect(r.outcome.kind).toBe('deadlock');
    const report = (r.outcome as { report: DeadlockReport }).report;
    expect(report.waits).toEqual([
      {
        task: 'writeback[0]',
        waitsFor: 'pins of folio f:0',
        lockClass: 'folio_pin',
        site: 'folio_wait_pinned',
        since: 0,
        heldBy: [],
      },
    ]);
  });
});
