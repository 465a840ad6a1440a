/**
 * The glock on its own: compatibility, strict queue order, the recursion trap, holder
 * auto-demotion, and what a deadlock report says about it.
 */
import { describe, expect, it } from 'vitest';
import { accessObject, dependent, encodeAccess, encodeGroupAccess, objectId } from '../../sim/footprint.js';
import { type RunResult, Sim } from '../../sim/sched.js';
import { ReplayStrategy } from '../../sim/strategy.js';
import type { Task } from '../../sim/task.js';
import { acquisitions, FootprintLog, spin } from '../../sync/testutil.test-support.js';
import { Glock, type GlockState, glockCompatible } from './glock.js';

/** Takes the glock in `state`, holds it for `ticks` points, releases it. */
async function hold(t: Task, gl: Glock, state: GlockState, ticks: number): Promise<void> {
  const gh = gl.holderInit(t, state);
  await gl.nq(t, gh, `${t.name}:gfs2_glock_nq(${state})`);
  await spin(t, ticks);
  gl.dq(t, gh);
}

function run(bodies: ((t: Task) => Promise<void>)[], schedule: number[] = []): Promise<RunResult> {
  const sim = new Sim({ strategy: new ReplayStrategy(schedule), trace: true });
  for (const [i, b] of bodies.entries()) sim.spawn(`P${i}`, b);
  return sim.run();
}

describe('glock modes (gfs2-glocks.rst)', () => {
  it('SH shares with SH, DF with DF; EX with nothing; SH and DF exclude each other', () => {
    expect(glockCompatible('SH', 'SH')).toBe(true);
    expect(glockCompatible('DF', 'DF')).toBe(true);
    expect(glockCompatible('EX', 'EX')).toBe(false);
    expect(glockCompatible('SH', 'DF')).toBe(false);
    expect(glockCompatible('EX', 'SH')).toBe(false);
  });

  it('two DF holders hold it together; an SH request waits for both', async () => {
    const gl = new Glock('glock(f)');
    const seen: string[] = [];
    const r = await run(
      [
        (t) => hold(t, gl, 'DF', 4),
        (t) => hold(t, gl, 'DF', 4),
        async (t) => {
          await spin(t, 1);
          const gh = gl.holderInit(t, 'SH');
          await gl.nq(t, gh, 'P2:gfs2_glock_nq(SH)');
          seen.push(`holders when SH granted: ${gl.entries.filter((h) => h.holder).length}`);
          gl.dq(t, gh);
        },
      ],
      [0, 1, 2, 0, 1],
    );
    expect(r.outcome.kind).toBe('done');
    expect(seen).toEqual(['holders when SH granted: 1']);
    expect(acquisitions(r)).toEqual(['P0:glock(f) DF', 'P1:glock(f) DF', 'P2:glock(f) SH']);
  });

  it('grants strictly in queue order: an SH request does not overtake a queued EX', async () => {
    const gl = new Glock('glock(f)');
    const r = await run(
      [
        (t) => hold(t, gl, 'SH', 6),
        async (t) => {
          await spin(t, 1);
          await hold(t, gl, 'EX', 1);
        },
        async (t) => {
          await spin(t, 2);
          await hold(t, gl, 'SH', 1);
        },
      ],
      [0, 1, 1, 2, 2, 2],
    );
    expect(r.outcome.kind).toBe('done');
    expect(acquisitions(r)).toEqual(['P0:glock(f) SH', 'P1:glock(f) EX', 'P2:glock(f) SH']);
  });
});

describe('add_to_queue: trap_recursive', () => {
  it('a second request by a task that holds the glock is the kernel BUG(), not a wait', async () => {
    const gl = new Glock('glock(f)');
    const r = await run([
      async (t) => {
        await gl.nq(t, gl.holderInit(t, 'DF'), 'gfs2_file_direct_write:gfs2_glock_nq(DF)');
        await gl.nq(t, gl.holderInit(t, 'SH'), 'gfs2_fault:gfs2_glock_nq(SH)');
      },
    ]);
    expect(r.outcome.kind).toBe('invariant');
    if (r.outcome.kind !== 'invariant') return;
    expect(r.outcome.message).toContain('recursive glock(f) in add_to_queue');
    expect(r.outcome.message).toContain('original: gfs2_file_direct_write:gfs2_glock_nq(DF)');
    expect(r.outcome.message).toContain('BUG()');
  });
});

describe('holder auto-demotion (HIF_MAY_DEMOTE)', () => {
  it('a conflicting request dequeues a demotable holder; gfs2_holder_queued() then says so', async () => {
    const gl = new Glock('glock(f)');
    const log: string[] = [];
    const r = await run(
      [
        async (t) => {
          const gh = gl.holderInit(t, 'DF');
          await gl.nq(t, gh, 'P0:gfs2_glock_nq(DF)');
          gl.allowDemote(t, gh);
          await spin(t, 3);
          gl.disallowDemote(t, gh);
          log.push(`P0 queued: ${gl.queued(gh)}`);
          await gl.nq(t, gh, 'P0:gfs2_glock_nq(DF) again');
          gl.dq(t, gh);
        },
        async (t) => {
          await spin(t, 1);
          await hold(t, gl, 'SH', 1);
          log.push('P1 done');
        },
      ],
      [0, 1, 1, 1, 1, 0],
    );
    expect(r.outcome.kind).toBe('done');
    expect(log).toEqual(['P1 done', 'P0 queued: false']);
    const sites = r.trace?.events().map((e) => e.site) ?? [];
    expect(sites).toContain('demote_incompat_holders');
  });

  it("a task's own request demotes its own demotable holder (the fault-in of gfs2's retry loop)", async () => {
    const gl = new Glock('glock(f)');
    const r = await run([
      async (t) => {
        const gh = gl.holderInit(t, 'DF');
        await gl.nq(t, gh, 'gfs2_file_direct_write:gfs2_glock_nq(DF)');
        gl.allowDemote(t, gh);
        await hold(t, gl, 'SH', 1);
        gl.disallowDemote(t, gh);
        expect(gl.queued(gh)).toBe(false);
      },
    ]);
    expect(r.outcome.kind).toBe('done');
  });

  it('a holder that may not be demoted makes the conflicting request wait: the deadlock names the glock', async () => {
    const f = new Glock('glock(f)');
    const g = new Glock('glock(g)');
    const abba = (a: Glock, b: Glock) => async (t: Task) => {
      const gh = a.holderInit(t, 'DF');
      await a.nq(t, gh, `${t.name}:gfs2_file_direct_read:gfs2_glock_nq(DF)`);
      await spin(t, 1);
      await hold(t, b, 'SH', 1);
      a.dq(t, gh);
    };
    const r = await run([abba(f, g), abba(g, f)], [0, 1, 0, 1]);
    expect(r.outcome.kind).toBe('deadlock');
    if (r.outcome.kind !== 'deadlock') return;
    expect(r.outcome.report.cycle).toEqual(['P0[0]', 'P1[1]']);
    expect(r.outcome.report.waits.map((w) => `${w.waitsFor} ${w.lockClass}`).sort()).toEqual([
      'glock(f) glock',
      'glock(g) glock',
    ]);
  });
});

describe('glock footprints (partial-order reduction)', () => {
  const obj = objectId('glock(f)');

  it('two SH grants commute; the release that grants a waiting DF request writes the glock', async () => {
    const log = new FootprintLog();
    const sim = new Sim({ strategy: log });
    const gl = new Glock('glock(f)');
    const body = (state: GlockState) => async (t: Task) => {
      await t.pointRecorded('start');
      const gh = gl.holderInit(t, state);
      await gl.nq(t, gh, `gfs2_glock_nq(${state})`);
      await t.pointRecorded('held');
      gl.dq(t, gh);
    };
    sim.spawn('a', body('SH'));
    sim.spawn('b', body('SH'));
    sim.spawn('dio', body('DF'));
    expect((await sim.run()).outcome.kind).toBe('done');
    const glockSteps = (name: string) =>
      log.steps.filter((s) => s.task === name && s.fp.some((x) => accessObject(x) === obj)).map((s) => s.fp);
    const [aTake, aRelease] = glockSteps('a');
    const [bTake, bRelease] = glockSteps('b');
    expect(aTake).toEqual([encodeGroupAccess(obj, 0)]);
    expect(dependent(aTake, bTake)).toBe(false);
    // dio's DF request sleeps behind both (a write); a's release leaves b holding: a group access
    // only; b's is the last and grants dio: it writes the glock.
    expect(dependent(glockSteps('dio')[0], aTake)).toBe(true);
    expect(aRelease).toEqual([encodeGroupAccess(obj, 0)]);
    expect(bRelease).toContain(encodeAccess(obj, true));
    expect(dependent(aRelease, bRelease)).toBe(true);
  });
});
