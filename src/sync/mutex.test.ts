import { describe, expect, it } from 'vitest';
import { type DeadlockReport, type RunResult, Sim, type Strategy } from '../sim/sched.js';
import { decodeSchedule, encodeSchedule } from '../sim/schedule.js';
import { RandomStrategy, ReplayStrategy, TimedStrategy } from '../sim/strategy.js';
import type { Task } from '../sim/task.js';
import { Lockdep } from './lockdep.js';
import { Mutex } from './mutex.js';

/** Two tasks increment a shared counter with a non-atomic load/store, optionally under a mutex. */
async function counterRace(seed: number, withMutex: boolean): Promise<{ r: RunResult; v: number }> {
  const sim = new Sim({ strategy: new RandomStrategy(seed) });
  const m = new Mutex('counter_lock');
  const shared = { v: 0 };
  for (let i = 0; i < 2; i++) {
    sim.spawn(`P${i}`, async (t) => {
      if (withMutex) await m.lock(t, 'inc:mutex_lock');
      await t.point('load', 0, false);
      const v = shared.v;
      await t.point('store', 0, true);
      shared.v = v + 1;
      if (withMutex) m.unlock(t);
      await t.point('after');
    });
  }
  const r = await sim.run();
  return { r, v: shared.v };
}

/** P0 takes A then B, P1 takes B then A, with a scheduling point between the two. */
function abba(sim: Sim): { a: Mutex; b: Mutex } {
  const a = new Mutex('lock_a', 'A');
  const b = new Mutex('lock_b', 'B');
  sim.spawn('P0', async (t) => {
    await a.lock(t, 'ab:lock_a');
    await t.point('ab:between');
    await b.lock(t, 'ab:lock_b');
    b.unlock(t);
    a.unlock(t);
  });
  sim.spawn('P1', async (t) => {
    await b.lock(t, 'ba:lock_b');
    await t.point('ba:between');
    await a.lock(t, 'ba:lock_a');
    a.unlock(t);
    b.unlock(t);
  });
  return { a, b };
}

async function runAbba(
  strategy: Strategy,
  trace = false,
  lockObserver: Lockdep | null = null,
): Promise<RunResult> {
  const sim = new Sim({ strategy, trace, lockObserver });
  abba(sim);
  return sim.run();
}

async function firstAbbaDeadlock(): Promise<{ seed: number; r: RunResult }> {
  for (let seed = 0; seed < 100; seed++) {
    const r = await runAbba(new RandomStrategy(seed), true);
    if (r.outcome.kind === 'deadlock') return { seed, r };
  }
  throw new Error('no ABBA deadlock in 100 seeds');
}

describe('Mutex', () => {
  it('the random strategy finds the lost update without a mutex', async () => {
    const lost: number[] = [];
    for (let seed = 0; seed < 10; seed++) {
      const { r, v } = await counterRace(seed, false);
      expect(r.outcome.kind).toBe('done');
      if (v !== 2) lost.push(seed);
    }
    expect(lost.length).toBeGreaterThan(0);
  });

  it('finds no lost update with the mutex over 200 seeds', async () => {
    for (let seed = 0; seed < 200; seed++) {
      const { r, v } = await counterRace(seed, true);
      expect(r.outcome.kind).toBe('done');
      expect(v).toBe(2);
    }
  });

  it('ABBA: the run deadlocks and the report names both tasks, locks and sites', async () => {
    const { r } = await firstAbbaDeadlock();
    expect(r.outcome.kind).toBe('deadlock');
    const report = (r.outcome as { kind: 'deadlock'; report: DeadlockReport }).report;
    expect([...report.cycle].sort()).toEqual(['P0[0]', 'P1[1]']);
    const waits = [...report.waits].sort((x, y) => x.task.localeCompare(y.task));
    expect(waits).toEqual([
      expect.objectContaining({
        task: 'P0[0]',
        waitsFor: 'lock_b',
        lockClass: 'B',
        site: 'ab:lock_b',
        heldBy: ['P1[1]'],
      }),
      expect.objectContaining({
        task: 'P1[1]',
        waitsFor: 'lock_a',
        lockClass: 'A',
        site: 'ba:lock_a',
        heldBy: ['P0[0]'],
      }),
    ]);
    const held = report.held.map((h) => `${h.task} ${h.lock} ${h.mode} ${h.site}`).sort();
    expect(held).toEqual(['P0[0] lock_a excl ab:lock_a', 'P1[1] lock_b excl ba:lock_b']);
  });

  it('lockdep reports the AB/BA inversion from two runs that did not deadlock', async () => {
    const lockdep = new Lockdep();
    // Serial schedules: the empty replay runs each task to completion, lowest id first.
    const r1 = await runAbba(new ReplayStrategy([]), false, lockdep);
    // Second run: P1 first, then P0 (one decision, then non-preemptive).
    const r2 = await runAbba(new ReplayStrategy([1]), false, lockdep);
    expect(r1.outcome.kind).toBe('done');
    expect(r2.outcome.kind).toBe('done');
    expect(lockdep.runs).toBe(2);
    const report = lockdep.check();
    expect(report).not.toBeNull();
    const edges = report!.cycle.map(
      (e) => `${e.from}->${e.to} ${e.fromSite} ${e.toSite} ${e.task} run${e.run}`,
    );
    // Both runs teach both edges; the first-learned copy is kept (run 1, serial P0 then P1).
    expect(edges).toEqual(['A->B ab:lock_a ab:lock_b P0[0] run1', 'B->A ba:lock_b ba:lock_a P1[1] run1']);
    const text = lockdep.format(report!);
    expect(text).toContain('WARNING: possible circular locking dependency detected');
    expect(text).toContain('P1[1] is trying to acquire lock:\n  (A){excl}, at: ba:lock_a');
    expect(text).toContain('but task is already holding lock:\n  (B){excl}, at: ba:lock_b');
    expect(text).toContain('-> #1 (B){excl}:\n       ab:lock_b');
    expect(text).toContain(
      '  lock(B);\n                               lock(A);\n                               lock(B);\n  lock(A);',
    );
  });

  it('hands the mutex to waiters in arrival order', async () => {
    const sim = new Sim({ strategy: new TimedStrategy(), trace: true });
    const m = new Mutex('m');
    const order: string[] = [];
    const body = (hold: number) => async (t: Task) => {
      await m.lock(t, `${t.name}:lock`);
      order.push(t.name);
      for (let i = 0; i < hold; i++) await t.point('hold');
      m.unlock(t);
    };
    sim.spawn('W0', body(10), { time: 0 });
    sim.spawn('W3', body(1), { time: 3 });
    sim.spawn('W1', body(1), { time: 1 });
    sim.spawn('W2', body(1), { time: 2 });
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    expect(order).toEqual(['W0', 'W1', 'W2', 'W3']);
    expect(m.owner).toBeNull();
  });

  it('locking a mutex one already owns self-deadlocks', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const m = new Mutex('i_mutex(f)', 'i_mutex');
    sim.spawn('P', async (t) => {
      await m.lock(t, 'outer');
      await m.lock(t, 'inner');
    });
    const r = await sim.run();
    expect(r.outcome.kind).toBe('deadlock');
    const report = (r.outcome as { kind: 'deadlock'; report: DeadlockReport }).report;
    expect(report.cycle).toEqual(['P[0]']);
    expect(report.waits.map((w) => `${w.task} ${w.waitsFor} ${w.site}`)).toEqual(['P[0] i_mutex(f) inner']);
  });

  it('unlocking a mutex one does not own is an invariant finding', async () => {
    const sim = new Sim({ strategy: new ReplayStrategy([]) });
    const m = new Mutex('m');
    sim.spawn('P0', async (t) => {
      await m.lock(t, 'p0:lock');
      await t.point('p0:hold');
    });
    sim.spawn('P1', async (t) => {
      m.unlock(t);
    });
    const r = await sim.run();
    expect(r.outcome).toEqual({
      kind: 'invariant',
      task: 'P1[1]',
      message: 'mutex_unlock: P1[1] unlocks m owned by P0[0]',
    });
  });

  it('replays a failing run to a byte-identical trace', async () => {
    const { r } = await firstAbbaDeadlock();
    const encoded = encodeSchedule(r.schedule);
    const replay = new ReplayStrategy(decodeSchedule(encoded));
    const again = await runAbba(replay, true);
    expect(replay.divergences).toBe(0);
    expect(again.outcome).toEqual(r.outcome);
    expect(JSON.stringify(again.trace)).toBe(JSON.stringify(r.trace));
    const trace = JSON.stringify(r.trace);
    expect(trace).toContain('"kind":"acquire","site":"ab:lock_a","obj":-1,"detail":"lock_a excl"');
  });
});
