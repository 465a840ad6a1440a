/**
 * ext4 as Linux 6.x runs it: O_DIRECT overwrites under i_rwsem shared (disjoint writers overlap,
 * as they do not under invalidate_lock's exclusive i_rwsem), the seed-004 lost write the host
 * shows (`pagelab native`), and invalidate_lock keeping faults out of a punch.
 */
import { describe, expect, it } from 'vitest';
import { checkScenario } from '../explore/check.js';
import { runOnce } from '../explore/run.js';
import { measureScalability } from '../explore/scalability.js';
import { parseLitmus } from '../litmus/parse.js';
import { TimedStrategy } from '../sim/strategy.js';
import { builtin, scheme } from '../test-support/named.js';

const dfs = (sc: ReturnType<typeof builtin>, name: string) =>
  checkScenario(sc, scheme(name), { schedules: 100_000, seed: 1, scenarioRef: sc.name, strategy: 'dfs' });

describe('ext4 (Linux 6.x)', () => {
  it('O_DIRECT overwrites of disjoint blocks run in parallel (i_rwsem shared); invalidate_lock serialises them', async () => {
    const ext4 = await measureScalability(scheme('ext4'), [1, 2]);
    const il = await measureScalability(scheme('invalidate_lock'), [1, 2]);
    expect(ext4[1].speedup).toBeGreaterThan(1.5);
    expect(il[1].speedup).toBeLessThan(1.1);
  });

  it('extending O_DIRECT writes take i_rwsem exclusive: two of them run one after the other', async () => {
    const time = async (writes: string[]) => {
      const lines = ['litmus ext4-extend', 'page 64', 'file f 2p written', ...writes];
      const run = await runOnce(parseLitmus(lines.join('\n')), scheme('ext4'), new TimedStrategy());
      expect(run.result.outcome.kind).toBe('done');
      return run.result.time;
    };
    const one = await time(['P0: pwrite f 128 64 direct']);
    const extending = await time(['P0: pwrite f 128 64 direct', 'P1: pwrite f 192 64 direct']);
    const overwrites = await time(['P0: pwrite f 0 64 direct', 'P1: pwrite f 64 64 direct']);
    expect(extending).toBeGreaterThanOrEqual(1.9 * one);
    expect(overwrites).toBeLessThan(1.5 * one);
  });

  it('dio-write-vs-mmap-store: the store refaults the page mid-write and the O_DIRECT write is lost, as on the host', async () => {
    const r = await dfs(builtin('dio-write-vs-mmap-store'), 'ext4');
    expect(r.verdict).toBe('lost-write');
    expect(r.finding?.bytes).toEqual({ region: 'f', start: 0, end: 32 });
    expect(r.finding?.reported).toBe('EIO for the next fsync (dio_warn_stale_pagecache)');
  });

  it('punch-vs-fault is ok: the fault waits on invalidate_lock', async () => {
    const r = await dfs(builtin('punch-vs-fault'), 'ext4');
    expect(r.verdict).toBe('ok');
    expect(r.coverage.complete).toBe(true);
  });
});
