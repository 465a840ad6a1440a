import { describe, expect, it } from 'vitest';
import { Sim } from '../sim/sched.js';
import { ReplayStrategy } from '../sim/strategy.js';
import type { Task } from '../sim/task.js';
import { PageLock } from './bitlock.js';
import { Lockdep } from './lockdep.js';
import { Mutex } from './mutex.js';
import { RwSemaphore } from './rwsem.js';

/** Runs `body` as a single task under `lockdep` (a serial run: nothing can deadlock). */
async function once(lockdep: Lockdep, body: (t: Task) => Promise<void>): Promise<void> {
  const sim = new Sim({ strategy: new ReplayStrategy([]), lockObserver: lockdep });
  sim.spawn('P', body);
  const r = await sim.run();
  expect(r.outcome.kind).toBe('done');
}

describe('Lockdep', () => {
  it('reports a three-lock cycle learned over three runs, with the chain and the sites', async () => {
    const lockdep = new Lockdep();
    const iRwsem = new RwSemaphore('i_rwsem(f)', 'i_rwsem');
    const invalidate = new RwSemaphore('invalidate_lock(f)', 'invalidate_lock');
    const folio = new PageLock('folio f:0');
    // Truncate: i_rwsem -> invalidate_lock.
    await once(lockdep, async (t) => {
      await iRwsem.downWrite(t, 'do_truncate:inode_lock');
      await invalidate.downWrite(t, 'ext4_setattr:filemap_invalidate_lock');
      invalidate.upWrite(t);
      iRwsem.upWrite(t);
    });
    // Fault: invalidate_lock -> folio lock.
    await once(lockdep, async (t) => {
      await invalidate.downRead(t, 'filemap_fault:filemap_invalidate_lock_shared');
      await folio.lock(t, 'filemap_fault:folio_lock');
      folio.unlock(t);
      invalidate.upRead(t);
    });
    expect(lockdep.check()).toBeNull();
    // A (wrong) path taking i_rwsem under a folio lock closes the cycle.
    await once(lockdep, async (t) => {
      await folio.lock(t, 'bad_write_end:folio_lock');
      await iRwsem.downRead(t, 'bad_write_end:inode_lock_shared');
      iRwsem.upRead(t);
      folio.unlock(t);
    });
    const report = lockdep.check();
    expect(report?.runs).toBe(3);
    expect(report?.cycle.map((e) => `${e.from}->${e.to} run${e.run}`)).toEqual([
      'i_rwsem->invalidate_lock run1',
      'invalidate_lock->folio_lock run2',
      'folio_lock->i_rwsem run3',
    ]);
    const text = lockdep.format(report!);
    expect(text).toContain(
      'P[0] is trying to acquire lock:\n  (i_rwsem){read}, at: bad_write_end:inode_lock_shared',
    );
    expect(text).toContain('-> #2 (folio_lock){excl}:\n       filemap_fault:folio_lock');
    expect(text).toContain('-> #1 (invalidate_lock){write}:\n       ext4_setattr:filemap_invalidate_lock');
    expect(text).toContain('Chain exists of:\n  i_rwsem --> invalidate_lock --> folio_lock --> i_rwsem');
  });

  it('same-class nesting is not a cycle', async () => {
    const lockdep = new Lockdep();
    const f0 = new PageLock('folio f:0');
    const f1 = new PageLock('folio f:1');
    await once(lockdep, async (t) => {
      await f0.lock(t, 'a');
      await f1.lock(t, 'b');
      f1.unlock(t);
      f0.unlock(t);
    });
    await once(lockdep, async (t) => {
      await f1.lock(t, 'a');
      await f0.lock(t, 'b');
      f0.unlock(t);
      f1.unlock(t);
    });
    expect(lockdep.edges()).toEqual([]);
    expect(lockdep.check()).toBeNull();
  });

  it('a trylock adds no edge into the lock it takes, but what it holds orders later locks', async () => {
    const lockdep = new Lockdep();
    const a = new Mutex('a', 'A');
    const b = new Mutex('b', 'B');
    await once(lockdep, async (t) => {
      await a.lock(t, 'a');
      expect(b.trylock(t, 'b:trylock')).toBe(true);
      b.unlock(t);
      a.unlock(t);
    });
    await once(lockdep, async (t) => {
      await b.lock(t, 'b');
      await a.lock(t, 'a');
      a.unlock(t);
      b.unlock(t);
    });
    expect(lockdep.edges().map((e) => `${e.from}->${e.to}`)).toEqual(['B->A']);
    expect(lockdep.check()).toBeNull();
    await once(lockdep, async (t) => {
      expect(a.trylock(t, 'a:trylock')).toBe(true);
      await b.lock(t, 'b');
      b.unlock(t);
      a.unlock(t);
    });
    expect(lockdep.check()?.cycle.map((e) => `${e.from}->${e.to} ${e.fromSite}`)).toEqual([
      'B->A b',
      'A->B a:trylock',
    ]);
  });
});
