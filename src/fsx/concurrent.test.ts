/**
 * fsx with several streams on one file, under the explorer: it finds the race of seed 004 (an
 * O_DIRECT write vs an mmap store to the same page, dio-write-vs-mmap-store) under vfs2019, where
 * two fsx processes could only report corruption, and nothing under pagelab.
 */
import { describe, expect, it } from 'vitest';
import { linearize } from '../check/linearize.js';
import { applyEffect } from '../check/refmodel.js';
import { checkScenario } from '../explore/check.js';
import { parseReplayString, replaySchedule } from '../explore/run.js';
import { parseLitmus } from '../litmus/parse.js';
import { findScheme, type Scheme } from '../schemes/index.js';
import { FsxScenarioError, fsxScenario, MUTATING_OPS_MAX } from './concurrent.js';
import { FSX_DEFAULTS, type FsxOptions } from './fsx.js';

function scheme(name: string): Scheme {
  const s = findScheme(name);
  if (!s) throw new Error(`no scheme ${name}`);
  return s;
}

/** pagelab fsx --tasks 2 -N 6 -S 17 -L -Z -r 64 -w 64 -o 256 (page 64, -l 256). */
const RACE: FsxOptions = {
  ...FSX_DEFAULTS,
  seed: 17,
  lite: true,
  oDirect: true,
  readbdy: 64,
  writebdy: 64,
  maxfilelen: 256,
  maxoplen: 256,
  pageSize: 64,
  blockSize: 64,
};

describe('fsx --tasks: K streams as tasks under the explorer', () => {
  const fs = fsxScenario(RACE, { tasks: 2, numops: 6 });

  it('turns each stream into a task of litmus ops (a line per fsx test call), which parses back', () => {
    expect(fs.streams.map((s) => [s.task, s.seed])).toEqual([
      ['P0', 17],
      ['P1', 18],
    ]);
    expect(fs.scenario.tasks.map((t) => t.name)).toEqual(['P0', 'P1']);
    expect(fs.text).toContain('file f 256 written');
    expect(fs.text).toContain(
      'P0: pwrite f 64 64 direct; pwrite f 128 64 direct   # 6: write 0x40 0x80 0x100',
    );
    expect(fs.text).toContain('P1: store m+64 32; msync m+64 32   # 6: mapwrite 0x40 0x20 0x100');
    expect(fs.text).toContain('# P0 1: skip write 0x80 0x0 0x100');
    expect(parseLitmus(fs.text).tasks).toEqual(fs.scenario.tasks);
    expect(fs.mutating).toBeLessThanOrEqual(MUTATING_OPS_MAX);
  });

  it('finds the O_DIRECT write vs mmap store race under vfs2019 (lost write), and its schedule replays it', async () => {
    const r = await checkScenario(fs.scenario, scheme('vfs2019'), {
      schedules: 200,
      seed: 1,
      scenarioRef: fs.scenario.name,
    });
    expect(r.verdict).toBe('lost-write');
    expect(r.finding?.summary).toContain("P0's `pwrite f 64 64 direct`");
    const replayed = await replaySchedule(
      fs.scenario,
      scheme('vfs2019'),
      parseReplayString(r.replay as string).schedule,
    );
    expect(replayed.findings.map((f) => f.kind)).toContain('lost-write');
  });

  it('finds nothing under pagelab, and the oracles judged the whole history', async () => {
    const r = await checkScenario(fs.scenario, scheme('pagelab'), {
      schedules: 300,
      seed: 1,
      scenarioRef: 'x',
    });
    expect(r.verdict).toBe('ok');
    expect(r.schedules).toBe(300);
    const run = await replaySchedule(fs.scenario, scheme('pagelab'), []);
    expect(linearize(run.world.initial, run.world.history.ops).inconclusive).toBeUndefined();
  });

  it('every multi-page write and store is cut at page boundaries (Linux does not write them atomically)', () => {
    const o: FsxOptions = {
      ...FSX_DEFAULTS,
      seed: 5,
      maxfilelen: 256,
      maxoplen: 200,
      pageSize: 64,
      blockSize: 64,
    };
    const { scenario } = fsxScenario(o, { tasks: 2, numops: 10 });
    for (const t of scenario.tasks) {
      for (const op of t.ops) {
        if (op.op === 'pwrite')
          expect(Math.floor(op.off / 64), op.line.toString()).toBe(Math.floor((op.off + op.len - 1) / 64));
        if (op.op === 'store')
          expect(Math.floor(op.addr.offset / 64)).toBe(Math.floor((op.addr.offset + op.len - 1) / 64));
      }
    }
  });

  it('refuses streams the reference model cannot order, and streams that do nothing', () => {
    expect(() => fsxScenario({ ...RACE, lite: false, oDirect: false }, { tasks: 4, numops: 40 })).toThrow(
      /more than the 30 the reference model orders/,
    );
    expect(() => fsxScenario({ ...RACE, maxoplen: 1 }, { tasks: 1, numops: 1 })).toThrow(FsxScenarioError);
  });

  // Each found by these streams, each wrong before the fix, each within 20 schedules.
  const REGRESSIONS: [string, Partial<FsxOptions>, number, number, string][] = [
    [
      'a collapse racing a truncate (EOF checked before the locks: i_size went negative)',
      { seed: 54, oDirect: true, readbdy: 64, writebdy: 64, maxoplen: 128 },
      2,
      10,
      'invariant',
    ],
    [
      'a load of the EOF page racing a truncate down sees zeroes (stale-read before)',
      { seed: 7 },
      2,
      12,
      'stale-read',
    ],
    [
      'an fsync promises nothing for bytes past EOF in a legal order (durability before)',
      { seed: 40 },
      3,
      6,
      'durability',
    ],
  ];
  for (const [what, o, tasks, numops, was] of REGRESSIONS) {
    it(`pagelab, no ${was}: ${what}`, async () => {
      const opts: FsxOptions = {
        ...FSX_DEFAULTS,
        maxfilelen: 256,
        maxoplen: 64,
        pageSize: 64,
        blockSize: 64,
        ...o,
      };
      const { scenario } = fsxScenario(opts, { tasks, numops });
      const r = await checkScenario(scenario, scheme('pagelab'), {
        schedules: 20,
        seed: 1,
        scenarioRef: 'x',
      });
      expect(r.verdict, r.finding?.summary).toBe('ok');
    });
  }

  it('the reference model drops an order where a collapse or insert could not have succeeded', () => {
    const s = new Map([['f', { size: 40, cells: new Uint32Array(40) }]]);
    expect(applyEffect(s, { k: 'collapse', region: 'f', off: 0, len: 64 })).toBeNull();
    expect(applyEffect(s, { k: 'insert', region: 'f', off: 40, len: 64 })).toBeNull();
    expect(applyEffect(s, { k: 'insert', region: 'f', off: 0, len: 64 })?.get('f')?.size).toBe(104);
  });
});
