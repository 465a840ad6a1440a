import { describe, expect, it } from 'vitest';
import { type DeadlockReport, Sim } from '../sim/sched.js';
import { ReplayStrategy, TimedStrategy } from '../sim/strategy.js';
import { PageLock } from './bitlock.js';
import { Completion } from './completion.js';
import { acquisitions, spin } from './testutil.test-support.js';

describe('PageLock (folio lock)', () => {
  it('hands the bit to the first folio_lock waiter; folio_wait_locked waiters ahead of it are woken, those behind are not', async () => {
    const sim = new Sim({ strategy: new TimedStrategy(), trace: true });
    const folio = new PageLock('folio f:0');
    const log: string[] = [];
    sim.spawn('owner', async (t) => {
      await folio.lock(t, 'filemap_add_folio');
      await spin(t, 10);
      folio.unlock(t);
    });
    sim.spawn(
      'waitA',
      async (t) => {
        await folio.waitUnlocked(t, 'folio_wait_locked');
        log.push(`waitA@${t.time} locked=${folio.locked}`);
      },
      { time: 1 },
    );
    sim.spawn(
      'locker',
      async (t) => {
        expect(folio.trylock(t, 'trylock')).toBe(false);
        await folio.lock(t, 'filemap_fault:folio_lock');
        log.push(`locker@${t.time}`);
        await spin(t, 5);
        folio.unlock(t);
      },
      { time: 2 },
    );
    sim.spawn(
      'waitB',
      async (t) => {
        await folio.waitUnlocked(t, 'folio_wait_locked');
        log.push(`waitB@${t.time} locked=${folio.locked}`);
      },
      { time: 3 },
    );
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    // At t=10 waitA (queued before the locker) wakes; the locker is handed the bit, so the bit is
    // never seen clear and waitB (queued behind it) sleeps on until the locker unlocks at t=15.
    expect(log).toEqual(['waitA@10 locked=true', 'locker@10', 'waitB@15 locked=false']);
    expect(acquisitions(r)).toEqual(['owner:folio f:0 excl', 'locker:folio f:0 excl']);
  });

  it('a folio locked by one task can be unlocked by the I/O completion', async () => {
    const sim = new Sim({ strategy: new TimedStrategy(), trace: true });
    const folio = new PageLock('folio f:1');
    const bio = new Completion('bio#1', 'bio');
    let heldAfter = -1;
    sim.spawn('reader', async (t) => {
      await folio.lock(t, 'filemap_read_folio');
      const irq = t.sim.spawn(
        'irq:bio#1',
        async (it) => {
          folio.unlock(it); // end_io: folio_end_read
          bio.complete(it);
        },
        { irq: true, time: t.time + 5 },
      );
      bio.setWaker(irq);
      await folio.waitUnlocked(t, 'folio_wait_locked');
      await bio.wait(t, 'submit_bio_wait');
      heldAfter = t.held.length;
    });
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    expect(heldAfter).toBe(0);
    const releases = r.trace!.events().filter((e) => e.kind === 'release');
    expect(releases.map((e) => `${r.tasks[e.task].name} ${e.site} ${e.detail}`)).toEqual([
      'irq:bio#1 folio_unlock folio f:1 excl',
    ]);
  });

  it('waiting on a folio one has locked oneself deadlocks, and the report says so', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const folio = new PageLock('folio f:2');
    sim.spawn('P', async (t) => {
      await folio.lock(t, 'write_begin');
      await folio.lock(t, 'fault_in_same_page');
    });
    const r = await sim.run();
    expect(r.outcome.kind).toBe('deadlock');
    const report = (r.outcome as { report: DeadlockReport }).report;
    expect(report.cycle).toEqual(['P[0]']);
    expect(report.held).toEqual([
      { task: 'P[0]', lock: 'folio f:2', mode: 'excl', site: 'write_begin', time: 0 },
    ]);
  });

  it('unlocking an unlocked folio is an invariant finding', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const folio = new PageLock('folio f:3');
    sim.spawn('P', async (t) => folio.unlock(t));
    expect((await sim.run()).outcome).toEqual({
      kind: 'invariant',
      task: 'P[0]',
      message: 'folio_unlock: P[0] unlocks folio f:3, which is not locked',
    });
  });
});
