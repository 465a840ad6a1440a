import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EDEADLK } from '../sim/errno.js';
import { accessObject, dependent, encodeAccess, encodeGroupAccess, objectId } from '../sim/footprint.js';
import { type DeadlockReport, Sim } from '../sim/sched.js';
import { ReplayStrategy, TimedStrategy } from '../sim/strategy.js';
import type { Task } from '../sim/task.js';
import { LockContext } from './lockctx.js';
import { Lockdep } from './lockdep.js';
import { FootprintLog, spin } from './testutil.test-support.js';
import { type TwoState, type TwoStateFairness, TwoStateLock } from './twostate.js';

const ADD: TwoState = 0;
const BLOCK: TwoState = 1;

interface StreamShape {
  /** Number of faulting tasks ("add" holders). */
  faulters: number;
  /** lock(add)/hold/unlock/gap iterations per faulter. */
  iters: number;
  hold: number;
  gap: number;
  /** Virtual start time of faulter k is k * stagger. */
  stagger: number;
  /** When the DIO writer asks for "block". */
  dioAt: number;
}

/**
 * Seed 000's starvation: faulting tasks take "add" in overlapping holds while a DIO writer asks
 * for "block". Under TimedStrategy each task behaves as if on its own CPU; waits are virtual ticks.
 */
async function faultStreamVsDio(f: TwoStateFairness, s: StreamShape) {
  const sim = new Sim({ strategy: new TimedStrategy() });
  const lock = new TwoStateLock('ei_pagecache_lock(f)', f, 'ei_pagecache_lock');
  let longestAddHold = 0;
  let dioWait = -1;
  for (let k = 0; k < s.faulters; k++) {
    const body = async (t: import('../sim/task.js').Task) => {
      for (let i = 0; i < s.iters; i++) {
        await lock.lock(t, ADD, 'bch2_page_fault:bch2_pagecache_add_get');
        const from = t.time;
        await spin(t, s.hold, 'filemap_fault');
        longestAddHold = Math.max(longestAddHold, t.time - from);
        lock.unlock(t, ADD);
        await spin(t, s.gap, 'gap');
      }
    };
    sim.spawn(`fault${k}`, body, { time: k * s.stagger });
  }
  const dio = sim.spawn(
    'dio',
    async (t) => {
      const asked = t.time;
      await lock.lock(t, BLOCK, 'bch2_direct_write:bch2_pagecache_block_get');
      dioWait = t.time - asked;
      await spin(t, 2, 'dio');
      lock.unlock(t, BLOCK);
    },
    { time: s.dioAt },
  );
  const r = await sim.run();
  return { outcome: r.outcome.kind, dioWait, dioWaitTicksMax: dio.counters.waitTicksMax, longestAddHold };
}

const SHAPE: StreamShape = { faulters: 3, iters: 0, hold: 3, gap: 1, stagger: 1, dioAt: 2 };

describe('TwoStateLock', () => {
  it('states are shared within themselves and exclude each other; the value counts holders', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const lock = new TwoStateLock('l', { kind: 'original' });
    const seen: (number | boolean)[] = [];
    sim.spawn('P0', async (t) => {
      await lock.lock(t, ADD, 'a1');
      await lock.lock(t, ADD, 'a2');
      seen.push(lock.value, lock.trylock(t, BLOCK, 'b?'));
      lock.unlock(t, ADD);
      lock.unlock(t, ADD);
      seen.push(lock.value, lock.trylock(t, BLOCK, 'b1'), lock.trylock(t, BLOCK, 'b2'), lock.value);
      seen.push(lock.trylock(t, ADD, 'a?'));
      lock.unlock(t, BLOCK);
      lock.unlock(t, BLOCK);
      seen.push(lock.value);
    });
    expect((await sim.run()).outcome.kind).toBe('done');
    expect(seen).toEqual([-2, false, 0, true, true, 2, false, 0]);
  });

  it("original: a stream of 'add' holders starves a 'block' waiter; its wait grows with the stream", async () => {
    const waits: number[] = [];
    for (const iters of [5, 10, 20, 40]) {
      const r = await faultStreamVsDio({ kind: 'original' }, { ...SHAPE, iters });
      expect(r.outcome).toBe('done');
      // One sleep: the count never reached 0 while the stream lasted, so it was never even woken.
      expect(r.dioWaitTicksMax).toBe(r.dioWait);
      expect(r.longestAddHold).toBe(3);
      waits.push(r.dioWait);
    }
    // It gets the lock only when the stream ends: 4 ticks per iteration of the stream.
    expect(waits).toEqual([19, 39, 79, 159]);
    // Past any bound one picks: here 10x the deadline used below, for a 40-iteration stream.
    expect(waits[3]).toBeGreaterThan(10 * 8);
  });

  it("deadline: the 'block' waiter waits at most deadline + the longest 'add' hold", async () => {
    for (const iters of [5, 10, 20, 40]) {
      const r = await faultStreamVsDio({ kind: 'deadline', deadlineTicks: 8 }, { ...SHAPE, iters });
      expect(r.outcome).toBe('done');
      expect(r.dioWaitTicksMax).toBe(10);
      expect(r.dioWaitTicksMax).toBeLessThanOrEqual(8 + r.longestAddHold);
    }
  });

  it('deadline bound holds for random stream shapes and deadlines (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          faulters: fc.integer({ min: 1, max: 5 }),
          iters: fc.integer({ min: 1, max: 30 }),
          hold: fc.integer({ min: 1, max: 8 }),
          gap: fc.integer({ min: 0, max: 3 }),
          stagger: fc.integer({ min: 0, max: 4 }),
          dioAt: fc.integer({ min: 0, max: 10 }),
        }),
        fc.integer({ min: 0, max: 30 }),
        async (shape, deadlineTicks) => {
          const r = await faultStreamVsDio({ kind: 'deadline', deadlineTicks }, shape);
          expect(r.outcome).toBe('done');
          // Measured from the first request, across any lost re-races.
          expect(r.dioWait).toBeLessThanOrEqual(deadlineTicks + r.longestAddHold);
        },
      ),
      { seed: 4004, numRuns: 150 },
    );
  });

  it('original: add inside add never waits, even with a block waiter queued', async () => {
    const sim = new Sim({ strategy: new TimedStrategy() });
    const lock = new TwoStateLock('l', { kind: 'original' });
    sim.spawn('writer', async (t) => {
      await lock.lock(t, ADD, 'bch2_buffered_write');
      await spin(t, 20);
      await lock.lock(t, ADD, 'bch2_page_fault'); // fault on the same file during the copy
      lock.unlock(t, ADD);
      lock.unlock(t, ADD);
    });
    sim.spawn(
      'dio',
      async (t) => {
        await lock.lock(t, BLOCK, 'bch2_direct_write');
        lock.unlock(t, BLOCK);
      },
      { time: 1 },
    );
    expect((await sim.run()).outcome.kind).toBe('done');
  });

  it('deadline: add inside add deadlocks behind an expired block waiter; a lock context returns EDEADLK', async () => {
    const scenario = async (useCtx: boolean) => {
      const sim = new Sim({ strategy: new TimedStrategy() });
      const lock = new TwoStateLock('l', { kind: 'deadline', deadlineTicks: 5 });
      let inner = 1;
      sim.spawn('writer', async (t) => {
        const ctx = useCtx ? new LockContext(t).attach() : null;
        if (ctx) await lock.lockCtx(t, ADD, 'bch2_buffered_write');
        else await lock.lock(t, ADD, 'bch2_buffered_write');
        await spin(t, 20);
        if (ctx) inner = await lock.lockCtx(t, ADD, 'bch2_page_fault');
        else await lock.lock(t, ADD, 'bch2_page_fault');
        if (inner === 0 || !ctx) lock.unlock(t, ADD);
        lock.unlock(t, ADD);
        ctx?.detach();
      });
      sim.spawn(
        'dio',
        async (t) => {
          await lock.lock(t, BLOCK, 'bch2_direct_write');
          lock.unlock(t, BLOCK);
        },
        { time: 1 },
      );
      return { r: await sim.run(), inner, refusals: lock.refusals };
    };
    const plain = await scenario(false);
    expect(plain.r.outcome.kind).toBe('deadlock');
    const report = (plain.r.outcome as { report: DeadlockReport }).report;
    expect(report.cycle).toEqual(['writer[0]']);
    expect(report.waits.map((w) => `${w.task} ${w.site}`)).toEqual([
      'writer[0] bch2_page_fault',
      'dio[1] bch2_direct_write',
    ]);
    const withCtx = await scenario(true);
    expect(withCtx.r.outcome.kind).toBe('done');
    expect(withCtx.inner).toBe(-EDEADLK);
  });

  it('lockdep: add/add across two inodes is no cycle (original), add/block is, and so is add/add with a deadline', async () => {
    const learn = async (f: TwoStateFairness, s1: TwoState, s2: TwoState) => {
      const lockdep = new Lockdep();
      for (const order of [0, 1]) {
        const sim = new Sim({ strategy: new ReplayStrategy([]), lockObserver: lockdep });
        const m = new TwoStateLock('m', f, 'pagecache_m');
        const n = new TwoStateLock('n', f, 'pagecache_n');
        sim.spawn('P', async (t) => {
          const [a, sa, b, sb] = order === 0 ? ([m, s1, n, s2] as const) : ([n, s1, m, s2] as const);
          await a.lock(t, sa, 'outer');
          await b.lock(t, sb, 'inner');
          b.unlock(t, sb);
          a.unlock(t, sa);
        });
        await sim.run();
      }
      return lockdep.check();
    };
    expect(await learn({ kind: 'original' }, ADD, ADD)).toBeNull();
    expect(await learn({ kind: 'original' }, ADD, BLOCK)).not.toBeNull();
    expect(await learn({ kind: 'deadline', deadlineTicks: 4 }, ADD, ADD)).not.toBeNull();
  });
});

describe('TwoStateLock footprints (partial-order reduction)', () => {
  const obj = objectId('ei_pagecache_lock(f)');

  it("two 'add' holders' steps commute; a release with a sleeper writes the lock", async () => {
    const log = new FootprintLog();
    const sim = new Sim({ strategy: log });
    const lock = new TwoStateLock('ei_pagecache_lock(f)', { kind: 'original' }, 'ei_pagecache_lock');
    const fault = async (t: Task) => {
      await t.pointRecorded('fault');
      await lock.lock(t, ADD, 'bch2_page_fault');
      await t.pointRecorded('filemap_fault');
      lock.unlock(t, ADD);
      await t.pointRecorded('done');
    };
    sim.spawn('a', fault);
    sim.spawn('b', fault);
    sim.spawn('dio', async (t) => {
      await t.pointRecorded('dio');
      await lock.lock(t, BLOCK, 'bch2_direct_write');
      lock.unlock(t, BLOCK);
    });
    expect((await sim.run()).outcome.kind).toBe('done');
    const lockSteps = (name: string) =>
      log.steps.filter((s) => s.task === name && s.fp.some((x) => accessObject(x) === obj)).map((s) => s.fp);
    const [aTake, aRelease] = lockSteps('a');
    const [bTake] = lockSteps('b');
    expect(aTake).toEqual([encodeGroupAccess(obj, ADD)]);
    // b takes "add" while a holds it: commutes with a's acquisition.
    expect(dependent(aTake, bTake)).toBe(false);
    // dio sleeps for "block" (a write); a's release then wakes nobody yet (b holds "add") but may
    // be the last one: it writes the lock, so it conflicts with b's acquisition and release.
    expect(aRelease).toContain(encodeAccess(obj, true));
    expect(dependent(aRelease, bTake)).toBe(true);
    const [dioTake] = lockSteps('dio');
    expect(dependent(dioTake, aTake)).toBe(true);
  });
});
