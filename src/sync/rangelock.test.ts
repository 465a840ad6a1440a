import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EDEADLK } from '../sim/errno.js';
import { type DeadlockReport, Sim } from '../sim/sched.js';
import { RandomStrategy, ReplayStrategy, TimedStrategy } from '../sim/strategy.js';
import type { Task } from '../sim/task.js';
import { type Interval, IntervalTree } from './intervaltree.js';
import { LockContext } from './lockctx.js';
import { type RangeHandle, RangeLock, type RangeMode } from './rangelock.js';
import { spin } from './testutil.test-support.js';

function overlap(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  return a.start < b.end && b.start < a.end;
}

function conflictingPairs(held: readonly RangeHandle[]): string[] {
  const bad: string[] = [];
  for (let i = 0; i < held.length; i++) {
    for (let j = i + 1; j < held.length; j++) {
      const a = held[i];
      const b = held[j];
      if (overlap(a, b) && (a.mode === 'excl' || b.mode === 'excl'))
        bad.push(`${a.start}-${a.end}/${b.start}-${b.end}`);
    }
  }
  return bad;
}

async function lockOk(
  l: RangeLock,
  t: Task,
  s: number,
  e: number,
  m: RangeMode,
  site: string,
): Promise<RangeHandle> {
  const h = await l.lock(t, s, e, m, site, null);
  if (typeof h === 'number') throw new Error(`unexpected errno ${h}`);
  return h;
}

describe('IntervalTree', () => {
  it('agrees with a brute-force list under random inserts, removals and queries (property)', () => {
    type Item = Interval & { id: number };
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('ins' as const),
        start: fc.integer({ min: 0, max: 60 }),
        len: fc.integer({ min: 1, max: 20 }),
      }),
      fc.record({ kind: fc.constant('del' as const), pick: fc.nat() }),
      fc.record({
        kind: fc.constant('query' as const),
        start: fc.integer({ min: 0, max: 80 }),
        len: fc.integer({ min: 1, max: 30 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const tree = new IntervalTree<Item>();
        const list: Item[] = [];
        let seq = 0;
        for (const o of ops) {
          if (o.kind === 'ins') {
            const it: Item = { start: o.start, end: o.start + o.len, seq: ++seq, id: seq };
            tree.insert(it);
            list.push(it);
          } else if (o.kind === 'del' && list.length > 0) {
            const [it] = list.splice(o.pick % list.length, 1);
            expect(tree.remove(it)).toBe(true);
            expect(tree.remove(it)).toBe(false);
          } else if (o.kind === 'query') {
            const q = { start: o.start, end: o.start + o.len };
            const got: number[] = [];
            tree.overlapping(q.start, q.end, (it) => got.push(it.id));
            const want = list
              .filter((it) => overlap(it, q))
              .sort((a, b) => a.start - b.start || a.seq - b.seq)
              .map((it) => it.id);
            expect(got).toEqual(want);
          }
          expect(tree.validate()).toBeNull();
          expect(tree.size).toBe(list.length);
        }
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('RangeLock', () => {
  it('holds disjoint exclusive ranges at the same time', async () => {
    const sim = new Sim({ strategy: new TimedStrategy() });
    const l = new RangeLock('f range', 'xfs_range');
    const snapshots: string[] = [];
    for (const [name, s, e] of [
      ['A', 0, 64],
      ['B', 64, 128],
      ['C', 200, 300],
    ] as const) {
      sim.spawn(name, async (t) => {
        const h = await lockOk(l, t, s, e, 'excl', `${name}:range_write_lock`);
        await spin(t, 3);
        snapshots.push(
          l
            .held()
            .map((x) => `${x.owner.name}[${x.start},${x.end})`)
            .join(' '),
        );
        l.unlock(t, h);
      });
    }
    expect((await sim.run()).outcome.kind).toBe('done');
    expect(snapshots[0]).toBe('A[0,64) B[64,128) C[200,300)');
  });

  it('never holds two overlapping conflicting ranges, and serves conflicting requests FIFO (property)', async () => {
    const req = fc.record({
      start: fc.integer({ min: 0, max: 40 }),
      len: fc.integer({ min: 1, max: 16 }),
      mode: fc.constantFrom<RangeMode>('shared', 'excl'),
      hold: fc.integer({ min: 0, max: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(req, { minLength: 1, maxLength: 4 }), { minLength: 2, maxLength: 4 }),
        fc.nat(),
        async (plans, seed) => {
          const sim = new Sim({ strategy: new RandomStrategy(seed) });
          const l = new RangeLock('f', 'range');
          const violations: string[] = [];
          /** Arrival order and grant order of every request, to check FIFO among conflicts. */
          const arrivals: {
            start: number;
            end: number;
            mode: RangeMode;
            arrived: number;
            granted: number;
          }[] = [];
          let clock = 0;
          plans.forEach((plan, k) => {
            sim.spawn(`P${k}`, async (t) => {
              for (const p of plan) {
                await t.point('before');
                const rec = {
                  start: p.start,
                  end: p.start + p.len,
                  mode: p.mode,
                  arrived: ++clock,
                  granted: -1,
                };
                arrivals.push(rec);
                const h = await lockOk(l, t, rec.start, rec.end, p.mode, 'lock');
                rec.granted = ++clock;
                violations.push(...conflictingPairs(l.held()));
                for (let i = 0; i < p.hold; i++) {
                  await t.point('hold');
                  violations.push(...conflictingPairs(l.held()));
                }
                l.unlock(t, h);
              }
            });
          });
          const r = await sim.run();
          // One range at a time per task: nothing can deadlock.
          expect(r.outcome.kind).toBe('done');
          expect(violations).toEqual([]);
          for (const a of arrivals) {
            for (const b of arrivals) {
              if (a.arrived < b.arrived && overlap(a, b) && (a.mode === 'excl' || b.mode === 'excl')) {
                expect(a.granted).toBeLessThan(b.granted);
              }
            }
          }
        },
      ),
      { seed: 2017, numRuns: 300 },
    );
  });

  it('serves conflicting waiters in arrival order and lets non-conflicting ones through', async () => {
    const sim = new Sim({ strategy: new TimedStrategy() });
    const l = new RangeLock('f', 'range');
    const log: string[] = [];
    const user = (name: string, at: number, s: number, e: number, m: RangeMode, hold: number) =>
      sim.spawn(
        name,
        async (t) => {
          const h = await lockOk(l, t, s, e, m, `${name}:lock`);
          log.push(`${name}@${t.time}`);
          await spin(t, hold);
          l.unlock(t, h);
        },
        { time: at },
      );
    user('H', 0, 0, 100, 'excl', 10); // holds everything until t=10
    user('W1', 1, 0, 10, 'excl', 5); // waits for H
    user('R2', 2, 5, 15, 'shared', 1); // waits for H and for the earlier W1 (overlap [5,10))
    user('R3', 3, 50, 60, 'shared', 1); // waits for H only
    user('R4', 4, 12, 20, 'shared', 1); // waits for H only: overlaps R2, but shared/shared
    user('W5', 5, 0, 100, 'excl', 1); // waits for everybody before it
    expect((await sim.run()).outcome.kind).toBe('done');
    expect(log).toEqual(['H@0', 'W1@10', 'R3@10', 'R4@10', 'R2@15', 'W5@16']);
  });

  it('a reader waits behind an earlier queued overlapping writer; trylock fails on a queued conflict', async () => {
    const sim = new Sim({ strategy: new TimedStrategy() });
    const l = new RangeLock('f', 'range');
    const seen: (string | boolean)[] = [];
    sim.spawn('R1', async (t) => {
      const h = await lockOk(l, t, 0, 10, 'shared', 'R1');
      await spin(t, 5);
      l.unlock(t, h);
    });
    sim.spawn('W', async (t) => l.unlock(t, await lockOk(l, t, 0, 10, 'excl', 'W')), { time: 1 });
    sim.spawn(
      'R2',
      async (t) => {
        seen.push(l.trylock(t, 5, 6, 'shared', 'R2:try', null) !== null);
        seen.push(l.trylock(t, 20, 30, 'excl', 'R2:try-disjoint', null) !== null);
        const h = await lockOk(l, t, 5, 6, 'shared', 'R2');
        seen.push(`R2 granted@${t.time} waiting=${l.waiting().length}`);
        l.unlock(t, h);
        l.unlock(t, l.held().find((x) => x.owner === t && x.start === 20) as RangeHandle);
      },
      { time: 2 },
    );
    expect((await sim.run()).outcome.kind).toBe('done');
    expect(seen).toEqual([false, true, 'R2 granted@5 waiting=0']);
  });

  it("re-acquiring a conflicting range under the task's own context returns EDEADLK", async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]), trace: true });
    const l = new RangeLock('f', 'range');
    const rets: (number | string)[] = [];
    sim.spawn('dio', async (t) => {
      const ctx = new LockContext(t).attach();
      const h = (await l.lock(t, 0, 64, 'excl', 'iomap_dio_rw:range_lock')) as RangeHandle;
      // GUP faults on an mmap of the same file range: the fault's shared lock would wait for us.
      const fault = await l.lock(t, 32, 48, 'shared', 'filemap_fault:range_lock');
      rets.push(fault as number);
      // A disjoint range under the same context is fine.
      const other = await l.lock(t, 64, 128, 'shared', 'filemap_fault:range_lock');
      rets.push(typeof other === 'number' ? other : 'granted');
      l.unlock(t, other as RangeHandle);
      l.unlock(t, h);
      rets.push(ctx.refused);
      ctx.detach();
    });
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    expect(rets).toEqual([-EDEADLK, 'granted', 1]);
    expect(JSON.stringify(r.trace)).toContain(
      'EDEADLK: f shared [32,48) would wait for a range held by its own lock context',
    );
  });

  it('detects the self-deadlock through a queued writer; without a context the run deadlocks', async () => {
    const scenario = async (ctxOn: boolean) => {
      const sim = new Sim({ strategy: new TimedStrategy() });
      const l = new RangeLock('f', 'range');
      let inner: number | string = '';
      sim.spawn('reader', async (t) => {
        const ctx = ctxOn ? new LockContext(t).attach() : null;
        const h = (await l.lock(t, 0, 64, 'shared', 'outer', ctx)) as RangeHandle;
        await spin(t, 5);
        // Shared inside shared: compatible, but a writer queued at t=1 over [0,64) is ahead of us.
        const r = await l.lock(t, 8, 16, 'shared', 'inner', ctx);
        inner = typeof r === 'number' ? r : 'granted';
        if (typeof r !== 'number') l.unlock(t, r);
        l.unlock(t, h);
        ctx?.detach();
      });
      sim.spawn('writer', async (t) => l.unlock(t, await lockOk(l, t, 0, 64, 'excl', 'truncate')), {
        time: 1,
      });
      return { r: await sim.run(), inner };
    };
    const withCtx = await scenario(true);
    expect(withCtx.r.outcome.kind).toBe('done');
    expect(withCtx.inner).toBe(-EDEADLK);
    const without = await scenario(false);
    expect(without.r.outcome.kind).toBe('deadlock');
    const report = (without.r.outcome as { report: DeadlockReport }).report;
    expect([...report.cycle].sort()).toEqual(['reader[0]', 'writer[1]']);
    expect(report.waits.map((w) => `${w.task} ${w.waitsFor} <- ${w.heldBy}`)).toEqual([
      'reader[0] f shared [8,16) <- writer[1]',
      'writer[1] f excl [0,64) <- reader[0]',
    ]);
  });

  it('uses the task context by default; unlocking a range twice is an invariant finding', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const l = new RangeLock('f', 'range');
    let ret: number | RangeHandle = 0;
    sim.spawn('P', async (t) => {
      new LockContext(t).attach();
      const h = (await l.lock(t, 0, 8, 'excl', 'outer')) as RangeHandle;
      ret = await l.lock(t, 4, 5, 'excl', 'inner');
      l.unlock(t, h);
      l.unlock(t, h);
    });
    const r = await sim.run();
    expect(ret).toBe(-EDEADLK);
    expect(r.outcome).toEqual({
      kind: 'invariant',
      task: 'P[0]',
      message: 'range_unlock: P[0] unlocks f excl [0,8), not held',
    });
  });

  it('the chain walk refuses the wait that closes a cycle across two locks; without it, a deadlock', async () => {
    // Two O_DIRECT writes: each holds "block" on its file, then faults on the other's ("add").
    const scenario = async (chainWalk: boolean) => {
      const sim = new Sim({ strategy: new TimedStrategy(), trace: true });
      const a = new RangeLock('a', 'pagecache', { chainWalk });
      const b = new RangeLock('b', 'pagecache', { chainWalk });
      const rets: Record<string, number | string> = {};
      const dio = (name: string, mine: RangeLock, theirs: RangeLock, at: number) =>
        sim.spawn(
          name,
          async (t) => {
            const ctx = new LockContext(t).attach();
            const h = (await mine.lock(t, 0, 64, 'block', 'dio')) as RangeHandle;
            await spin(t, 5);
            const f = await theirs.lock(t, 0, 64, 'add', 'fault');
            rets[name] = typeof f === 'number' ? f : 'granted';
            if (typeof f !== 'number') theirs.unlock(t, f);
            mine.unlock(t, h);
            ctx.detach();
          },
          { time: at },
        );
      dio('P0', a, b, 0);
      dio('P1', b, a, 1);
      return { r: await sim.run(), rets };
    };
    const walk = await scenario(true);
    expect(walk.r.outcome.kind).toBe('done');
    // P0 asks first (t=5) and sleeps: no cycle yet. P1's request (t=6) would close it.
    expect(walk.rets).toEqual({ P0: 'granted', P1: -EDEADLK });
    expect(JSON.stringify(walk.r.trace)).toContain(
      "EDEADLK: a add [0,64) would wait for a range through P0[0]'s wait for b add [0,64) held by its own lock context",
    );
    const without = await scenario(false);
    expect(without.r.outcome.kind).toBe('deadlock');
    const report = (without.r.outcome as { report: DeadlockReport }).report;
    expect([...report.cycle].sort()).toEqual(['P0[0]', 'P1[1]']);
  });

  it('the chain walk lets a wait through another task sleep when it closes no cycle', async () => {
    const sim = new Sim({ strategy: new TimedStrategy() });
    const a = new RangeLock('a', 'pagecache', { chainWalk: true });
    const b = new RangeLock('b', 'pagecache', { chainWalk: true });
    const c = new RangeLock('c', 'pagecache', { chainWalk: true });
    const log: string[] = [];
    // P0 holds a, waits for b (held by P1, which waits for c, held by P2, which waits for nothing).
    const chain = (name: string, mine: RangeLock, next: RangeLock | null, at: number, hold: number) =>
      sim.spawn(
        name,
        async (t) => {
          const ctx = new LockContext(t).attach();
          const h = (await mine.lock(t, 0, 64, 'block', 'dio')) as RangeHandle;
          await spin(t, hold);
          if (next) {
            const f = await next.lock(t, 0, 64, 'add', 'fault');
            log.push(`${name}:${typeof f === 'number' ? f : `granted@${t.time}`}`);
            if (typeof f !== 'number') next.unlock(t, f);
          }
          mine.unlock(t, h);
          ctx.detach();
        },
        { time: at },
      );
    chain('P0', a, b, 0, 5);
    chain('P1', b, c, 1, 5);
    chain('P2', c, null, 2, 20);
    expect((await sim.run()).outcome.kind).toBe('done');
    expect(log).toEqual(['P1:granted@22', 'P0:granted@22']);
  });
});
