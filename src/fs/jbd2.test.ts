import { describe, expect, it } from 'vitest';
import { Sim, type Strategy } from '../sim/sched.js';
import { ReplayStrategy } from '../sim/strategy.js';
import type { Task } from '../sim/task.js';
import { Journal, TState } from './jbd2.js';

/** Each decision runs the next runnable task after the current one (by id). */
class RoundRobin implements Strategy {
  readonly name = 'round-robin';
  pick(runnable: readonly Task[], current: Task): Task {
    return runnable.find((t) => t.id > current.id) ?? runnable[0];
  }
}

async function spin(t: Task, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await t.point('hold');
}

describe('jbd2: handles, T_LOCKED and the commit', () => {
  it('the commit waits for the open handle; a handle started while T_LOCKED waits and joins the next transaction', async () => {
    const sim = new Sim({ strategy: new RoundRobin(), trace: true });
    const j = new Journal('jbd2');
    const log: string[] = [];
    sim.spawn('A', async (t) => {
      const h = await j.start(t, 1, 'A:start');
      await spin(t, 6);
      log.push(`A stops in transaction ${h.transaction.tid}`);
      j.stop(t, h);
    });
    sim.spawn('B', async (t) => {
      while (j.transaction(1)?.state !== TState.Locked) await t.point('wait for T_LOCKED');
      const h = await j.start(t, 1, 'B:start');
      log.push(`B started in transaction ${h.transaction.tid}`);
      j.stop(t, h);
    });
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    expect(log).toEqual(['A stops in transaction 1', 'B started in transaction 2']);
    expect(j.transaction(1)?.state).toBe(TState.Finished);
    const waits = r.trace
      ?.events()
      .filter((e) => e.kind === 'wait')
      .map((e) => `${r.tasks[e.task].name}:${e.site}`);
    expect(waits).toContain('kjournald2:1:jbd2_journal_commit_transaction:jbd2_journal_wait_updates');
    expect(waits).toContain('B:start_this_handle:wait_transaction_locked');
  });

  it('a nested start shares the handle (h_ref); only the outer stop ends it', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const j = new Journal('jbd2');
    sim.spawn('A', async (t) => {
      const outer = await j.start(t, 1, 'outer');
      const inner = await j.start(t, 1, 'inner');
      expect(inner).toBe(outer);
      j.stop(t, inner);
      expect(j.transaction(1)?.updates.length).toBe(1);
      j.stop(t, outer);
      expect(j.transaction(1)?.updates.length).toBe(0);
      expect(t.held).toEqual([]);
    });
    expect((await sim.run()).outcome.kind).toBe('done');
  });

  it('fsync waits for the commit of the transaction (jbd2_complete_transaction)', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const j = new Journal('jbd2');
    let committedBeforeReturn = false;
    sim.spawn('A', async (t) => {
      const h = await j.start(t, 1, 'A');
      j.stop(t, h);
      await j.completeTransaction(t, h.transaction.tid);
      committedBeforeReturn = j.committedTid >= h.transaction.tid;
    });
    expect((await sim.run()).outcome.kind).toBe('done');
    expect(committedBeforeReturn).toBe(true);
  });
});
