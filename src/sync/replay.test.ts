import { describe, expect, it } from 'vitest';
import { type RunResult, Sim, type Strategy } from '../sim/sched.js';
import { decodeSchedule, encodeSchedule } from '../sim/schedule.js';
import { RandomStrategy, ReplayStrategy } from '../sim/strategy.js';
import { PageLock } from './bitlock.js';
import { type RangeHandle, RangeLock } from './rangelock.js';
import { RwSemaphore } from './rwsem.js';
import { TwoStateLock } from './twostate.js';

/**
 * A DIO-like task (range excl, then "block"), a fault-like task ("add", then a shared range) and a
 * reader (rwsem, folio lock, range): the first two can deadlock on each other.
 */
async function mixed(strategy: Strategy): Promise<RunResult> {
  const sim = new Sim({ strategy, trace: true });
  const range = new RangeLock('iolock(f)', 'iolock');
  const pagecache = new TwoStateLock('pagecache(f)', { kind: 'original' }, 'pagecache');
  const sem = new RwSemaphore('i_rwsem(f)', 'i_rwsem');
  const folio = new PageLock('folio f:0');
  sim.spawn('dio', async (t) => {
    const h = (await range.lock(t, 0, 64, 'excl', 'dio:range_lock', null)) as RangeHandle;
    await t.point('dio:between');
    await pagecache.lock(t, 1, 'dio:block_get');
    await t.point('dio:io');
    pagecache.unlock(t, 1);
    range.unlock(t, h);
  });
  sim.spawn('fault', async (t) => {
    await pagecache.lock(t, 0, 'fault:add_get');
    await t.point('fault:between');
    const h = (await range.lock(t, 32, 40, 'shared', 'fault:range_lock', null)) as RangeHandle;
    range.unlock(t, h);
    pagecache.unlock(t, 0);
  });
  sim.spawn('reader', async (t) => {
    await sem.downRead(t, 'reader:inode_lock_shared');
    await folio.lock(t, 'reader:folio_lock');
    await t.point('reader:copy');
    folio.unlock(t);
    const h = (await range.lock(t, 100, 110, 'shared', 'reader:range_lock', null)) as RangeHandle;
    await t.point('reader:more');
    range.unlock(t, h);
    sem.upRead(t);
  });
  return sim.run();
}

describe('replay', () => {
  it('a failing run replays from its encoded schedule to a byte-identical trace', async () => {
    let failing: RunResult | null = null;
    let done = 0;
    for (let seed = 0; seed < 200 && !failing; seed++) {
      const r = await mixed(new RandomStrategy(seed));
      if (r.outcome.kind === 'deadlock') failing = r;
      else done++;
    }
    expect(failing).not.toBeNull();
    expect(done).toBeGreaterThan(0);
    const r = failing as RunResult;
    const report = (r.outcome as { kind: 'deadlock'; report: { cycle: string[] } }).report;
    expect([...report.cycle].sort()).toEqual(['dio[0]', 'fault[1]']);
    const replay = new ReplayStrategy(decodeSchedule(encodeSchedule(r.schedule)));
    const again = await mixed(replay);
    expect(replay.divergences).toBe(0);
    expect(again.outcome).toEqual(r.outcome);
    expect(again.schedule).toEqual(r.schedule);
    expect(JSON.stringify(again.trace)).toBe(JSON.stringify(r.trace));
  });
});
