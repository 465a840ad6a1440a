import { describe, expect, it } from 'vitest';
import { EDEADLK } from '../sim/errno.js';
import { type DeadlockReport, Sim } from '../sim/sched.js';
import { ReplayStrategy, TimedStrategy } from '../sim/strategy.js';
import type { Task } from '../sim/task.js';
import { LockContext } from './lockctx.js';
import { Lockdep } from './lockdep.js';
import { RwSemaphore } from './rwsem.js';
import { acquisitions, spin } from './testutil.test-support.js';

type Op = 'r' | 'w';

/** Spawns a task at virtual time `at` that takes `sem` in `op`, holds it `hold` ticks, drops it. */
function user(
  sim: Sim,
  sem: RwSemaphore,
  name: string,
  op: Op,
  at: number,
  hold: number,
  log: string[] = [],
): Task {
  return sim.spawn(
    name,
    async (t) => {
      if (op === 'r') await sem.downRead(t, `${name}:down_read`);
      else await sem.downWrite(t, `${name}:down_write`);
      log.push(`${name}@${t.time}`);
      await spin(t, hold);
      if (op === 'r') sem.upRead(t);
      else sem.upWrite(t);
    },
    { time: at },
  );
}

describe('RwSemaphore', () => {
  it('a reader arriving after a queued writer waits behind it (no writer starvation)', async () => {
    const sim = new Sim({ strategy: new TimedStrategy(), trace: true });
    const sem = new RwSemaphore('i_rwsem', 'i_rwsem');
    user(sim, sem, 'R1', 'r', 0, 10);
    user(sim, sem, 'W', 'w', 2, 2);
    let trylock: boolean | null = null;
    let readersWhenR2Came = -1;
    sim.spawn(
      'R2',
      async (t) => {
        // The lock is read-held and only a writer waits: a reader-preferring lock would let us in.
        readersWhenR2Came = sem.readers;
        trylock = sem.downReadTrylock(t, 'R2:down_read_trylock');
        await sem.downRead(t, 'R2:down_read');
        sem.upRead(t);
      },
      { time: 4 },
    );
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    expect(readersWhenR2Came).toBe(1);
    expect(trylock).toBe(false);
    expect(acquisitions(r)).toEqual(['R1:i_rwsem read', 'W:i_rwsem write', 'R2:i_rwsem read']);
    // R2 slept from t=4 until W, granted at t=10 when R1 drained, released at t=12.
    expect(r.tasks[2].counters.waitTicksMax).toBe(8);
  });

  it('hands off in queue order; in a reader phase all queued readers go together (phase-fair)', async () => {
    const sim = new Sim({ strategy: new TimedStrategy(), trace: true });
    const sem = new RwSemaphore('sem');
    const log: string[] = [];
    user(sim, sem, 'W0', 'w', 0, 10, log);
    user(sim, sem, 'R1', 'r', 1, 3, log);
    user(sim, sem, 'W2', 'w', 2, 3, log);
    user(sim, sem, 'R3', 'r', 3, 3, log);
    user(sim, sem, 'W4', 'w', 4, 3, log);
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    // W0 releases at t=10: the first waiter is a reader, so R1 and R3 (behind W2) get it together,
    // as rwsem_mark_wake() does since 5.3; then the writers in their order.
    expect(log).toEqual(['W0@0', 'R1@10', 'R3@10', 'W2@13', 'W4@16']);
  });

  it('downgrade_write wakes the readers at the head of the queue, not a writer', async () => {
    const sim = new Sim({ strategy: new TimedStrategy(), trace: true });
    const sem = new RwSemaphore('sem');
    const log: string[] = [];
    sim.spawn('W0', async (t) => {
      await sem.downWrite(t, 'W0:down_write');
      await spin(t, 5);
      sem.downgradeWrite(t);
      log.push(`W0 downgraded@${t.time} readers=${sem.readers}`);
      await spin(t, 5);
      sem.upRead(t);
    });
    user(sim, sem, 'R1', 'r', 1, 2, log);
    user(sim, sem, 'W2', 'w', 2, 1, log);
    user(sim, sem, 'R3', 'r', 3, 2, log);
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    expect(log).toEqual(['W0 downgraded@5 readers=3', 'R1@5', 'R3@5', 'W2@10']);
    expect(acquisitions(r)[1]).toBe('W0:sem read (downgraded from write)');
  });

  it('recursive down_read deadlocks once a writer queued in between; a lock context returns EDEADLK', async () => {
    const scenario = async (useCtx: boolean) => {
      const sim = new Sim({ strategy: new TimedStrategy(), trace: true });
      const sem = new RwSemaphore('i_rwsem(f)', 'i_rwsem');
      let second = 1;
      sim.spawn('R', async (t) => {
        const ctx = useCtx ? new LockContext(t).attach() : null;
        if (ctx) expect(await sem.downReadCtx(t, 'outer:down_read')).toBe(0);
        else await sem.downRead(t, 'outer:down_read');
        await spin(t, 3);
        if (ctx) second = await sem.downReadCtx(t, 'inner:down_read');
        else await sem.downRead(t, 'inner:down_read');
        sem.upRead(t);
        ctx?.detach();
      });
      user(sim, sem, 'W', 'w', 1, 1);
      return { r: await sim.run(), second };
    };
    const plain = await scenario(false);
    expect(plain.r.outcome.kind).toBe('deadlock');
    const report = (plain.r.outcome as { report: DeadlockReport }).report;
    expect(report.cycle).toEqual(['R[0]']);
    expect(report.waits.map((w) => `${w.task} ${w.waitsFor} ${w.site} <- ${w.heldBy}`)).toEqual([
      'R[0] i_rwsem(f) inner:down_read <- R[0]',
      'W[1] i_rwsem(f) W:down_write <- R[0]',
    ]);
    const withCtx = await scenario(true);
    expect(withCtx.r.outcome.kind).toBe('done');
    expect(withCtx.second).toBe(-EDEADLK);
  });

  it('a task unlocking what it does not hold is an invariant finding', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const sem = new RwSemaphore('sem');
    sim.spawn('P0', async (t) => sem.upRead(t));
    const r = await sim.run();
    expect(r.outcome).toEqual({
      kind: 'invariant',
      task: 'P0[0]',
      message: 'up_read: P0[0] does not hold sem for read',
    });
  });

  it('lockdep reports a cycle of down_read()s (a queued writer makes it a deadlock)', async () => {
    const lockdep = new Lockdep();
    const run = async (first: 'X' | 'Y') => {
      const sim = new Sim({ strategy: new ReplayStrategy([]), lockObserver: lockdep });
      const x = new RwSemaphore('x', 'X');
      const y = new RwSemaphore('y', 'Y');
      const [a, b] = first === 'X' ? [x, y] : [y, x];
      sim.spawn('P', async (t) => {
        await a.downRead(t, `${a.lockClass}-first`);
        await b.downRead(t, `${b.lockClass}-second`);
        b.upRead(t);
        a.upRead(t);
      });
      return sim.run();
    };
    await run('X');
    expect(lockdep.check()).toBeNull();
    await run('Y');
    const report = lockdep.check();
    expect(report?.cycle.map((e) => `${e.from}->${e.to}`)).toEqual(['X->Y', 'Y->X']);
    expect(lockdep.format(report!)).toContain('  rlock(Y);\n                               rlock(X);');
  });
});
