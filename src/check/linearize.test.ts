/**
 * The checker has no op limit (it partitions, memoises and prunes with real time, as Porcupine
 * does) and says when it gives up; the reference model sees private mappings and their copies.
 */
import { describe, expect, it } from 'vitest';
import { allocCells, cell, initCell, TAG_ZERO } from '../block/data.js';
import { checkScenario } from '../explore/check.js';
import { parseReplayString, replaySchedule, runOnce } from '../explore/run.js';
import { parseLitmus } from '../litmus/parse.js';
import { findScheme, SCHEMES } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import { RandomStrategy } from '../sim/strategy.js';
import type { OpRecord } from './history.js';
import { linearize, linearizeUncached, STATE_BUDGET } from './linearize.js';
import { applyEffect, cellAt, type RefState, type Region } from './refmodel.js';

function scheme(name: string): Scheme {
  const s = findScheme(name);
  if (!s) throw new Error(name);
  return s;
}

/** Issue 12's example: three tasks of `loops` ops each, two writers overlapping on [4,8). */
function overlapping(loops: number, extra = ''): string {
  return [
    `litmus overlap${loops}`,
    extra,
    'file f 2p written',
    `P0: loop ${loops} pwrite f 0 8`,
    `P1: loop ${loops} pwrite f 4 8`,
    `P2: loop ${loops} pread f 0 16`,
  ].join('\n');
}

function write(
  tag: number,
  start: number,
  end: number,
  off: number,
  len: number,
  task = `P${tag}`,
): OpRecord {
  const cells = allocCells(len).fill(cell(tag, 0));
  return {
    tag,
    task,
    label: `pwrite f ${off} ${len}`,
    line: tag,
    start,
    end,
    ret: len,
    effects: [{ k: 'write', region: 'f', off, cells }],
    observed: null,
    synced: null,
  };
}

function fileState(size: number): RefState {
  const cells = allocCells(size);
  for (let p = 0; p < size; p++) cells[p] = initCell(p);
  return new Map([['f', { size, cells }]]);
}

describe('the checker (linearize)', () => {
  it('judges 48 and 192 ops under xfs exactly: ok in every schedule, nothing left undecided', async () => {
    for (const loops of [16, 64]) {
      const sc = parseLitmus(overlapping(loops), 'x');
      const r = await checkScenario(sc, scheme('xfs'), { schedules: 8, seed: 1, scenarioRef: 'x' });
      expect(r.verdict).toBe('ok');
      for (let seed = 1; seed <= 4; seed++) {
        const run = await runOnce(sc, scheme('xfs'), new RandomStrategy(seed));
        expect(run.findings).toEqual([]);
        const legal = linearize(run.world.initial, run.world.history.ops);
        expect(legal.inconclusive).toBeUndefined();
        expect(legal.ops.length).toBe(2 * loops);
      }
    }
  });

  it('still finds a stale read past 31 ops (the old mask overflowed there)', () => {
    // 40 sequential writes of byte 0 by one task, then a read issued after the last completed that
    // returns the 39th write's byte: stale, and only ordering all 40 can tell.
    const ops = Array.from({ length: 40 }, (_, i) => write(3 + i, 2 * i + 1, 2 * i + 2, 0, 1, 'P0'));
    const legal = linearize(fileState(64), ops);
    const during = legal.during({ ...write(100, 90, 91, 0, 1, 'P1'), effects: [] });
    expect(during.allowed('f', 0, cell(3 + 39, 0), 'zero')).toBe(true);
    expect(during.allowed('f', 0, cell(3 + 38, 0), 'zero')).toBe(false);
    expect(during.allowed('f', 1, initCell(1), 'zero')).toBe(true);
  });

  it('partitions by byte range: disjoint writers are judged apart, overlapping ones together', () => {
    // 8 tasks × 4 concurrent writes to 8 disjoint ranges: one search would hold 5^8 sets.
    const ops: OpRecord[] = [];
    for (let t = 0; t < 8; t++)
      for (let k = 0; k < 4; k++) ops.push(write(3 + t * 4 + k, 1 + k * 2 + t, 100 + k * 2 + t, t * 8, 8));
    const legal = linearize(fileState(64), ops, 1000);
    expect(legal.inconclusive).toBeUndefined();
    const joined = linearize(fileState(64), [...ops, write(99, 1, 200, 0, 64)], 1000);
    expect(joined.inconclusive).toMatch(/did not cover the ops on f\[0,64\) \(33 ops\)/);
  });

  it('says inconclusive when the budget runs out, and never lets it read as ok', async () => {
    const sc = parseLitmus(overlapping(16, 'option oracle-states=10'), 'x');
    const run = await runOnce(sc, scheme('xfs'), new RandomStrategy(1));
    const legal = linearize(run.world.initial, run.world.history.ops, 10);
    expect(legal.inconclusive).toBe(
      "the reference model's 10 states did not cover the ops on f[0,12) (32 ops): those bytes are not judged",
    );
    // The undecided bytes are not judged either way; bytes nobody wrote still are.
    const w = legal.during(run.world.history.ops[0]);
    expect(w.allowed('f', 0, cell(77, 0), 'zero')).toBe(true);
    expect(w.allowed('f', 20, initCell(20), 'zero')).toBe(true);
    expect(w.allowed('f', 20, cell(77, 0), 'zero')).toBe(false);
  });

  it('a failed O_DIRECT write that may have done nothing never writes what it did not read', () => {
    // `pwrite f 0 16 direct buf=b` fails (EINVAL) while another op rewrites b[0,16): its snap of b
    // is an event of its own (not quiet). Skipping the snap ("a failed op may have done nothing")
    // and applying the put wrote the latch's zeroes to f[0,16): an outcome no order allows.
    const b = allocCells(64);
    for (let i = 0; i < 64; i++) b[i] = cell(77, i);
    const initial: RefState = new Map([...fileState(128), ['b', { size: 64, cells: b }]]);
    const bios = { block: 16, page: 64 };
    const dio: OpRecord = {
      ...write(1, 1, 4, 0, 16),
      ret: -22,
      effects: [
        { k: 'copy', src: 'b', srcOff: 0, dst: 'f', dstOff: 0, len: 16, dstIsStore: false, dma: true, bios },
      ],
    };
    const rewrite: OpRecord = {
      ...write(2, 2, 5, 0, 16),
      effects: [{ k: 'write', region: 'b', off: 0, cells: allocCells(16).fill(cell(2, 0)) }],
    };
    const legal = linearize(initial, [dio, rewrite]);
    const end = { ...write(9, 10, 11, 0, 1), effects: [] };
    const f0 = [...legal.after(end).values('f', 0, 'zero')].sort((x, y) => x - y);
    expect(f0).toEqual([initCell(0), cell(77, 0), cell(2, 0)].sort((x, y) => x - y));
  });
});

describe('private mappings in the reference model', () => {
  const initial = (): RefState =>
    new Map([
      ...fileState(128),
      [
        'm',
        {
          size: 128,
          cells: allocCells(128),
          priv: { file: 'f', fileOff: 0, pageSize: 64, cow: new Uint8Array(2) },
        },
      ],
    ]);

  it('a page not copied yet shows the file; a store copies the page and lands in the copy', () => {
    let s = initial();
    s = applyEffect(s, {
      k: 'write',
      region: 'f',
      off: 70,
      cells: allocCells(2).fill(cell(5, 0)),
    }) as RefState;
    expect(cellAt(s, 'm', 70)).toBe(cell(5, 0));
    s = applyEffect(s, {
      k: 'store',
      region: 'm',
      off: 64,
      cells: allocCells(2).fill(cell(6, 0)),
    }) as RefState;
    expect([cellAt(s, 'm', 64), cellAt(s, 'm', 70), cellAt(s, 'm', 80)]).toEqual([
      cell(6, 0),
      cell(5, 0),
      initCell(80),
    ]);
    expect(s.get('f')?.cells[64]).toBe(initCell(64));
    // Later writes of the file no longer show through the copied page; the other page still follows.
    s = applyEffect(s, {
      k: 'write',
      region: 'f',
      off: 0,
      cells: allocCells(128).fill(cell(7, 0)),
    }) as RefState;
    expect([cellAt(s, 'm', 70), cellAt(s, 'm', 0)]).toEqual([cell(5, 0), cell(7, 0)]);
    // A punch keeps the copy (truncate_pagecache_range: no even_cows); truncate drops it.
    const punched = applyEffect(s, { k: 'punch', region: 'f', off: 64, len: 64, keepSize: true }) as RefState;
    expect(cellAt(punched, 'm', 70)).toBe(cell(5, 0));
    const cut = applyEffect(s, { k: 'truncate', region: 'f', size: 64 }) as RefState;
    expect(cellAt(cut, 'm', 70)).toBe(0);
  });

  it("issue 12: a write from a private mapping's copy is no lost write, under every scheme", async () => {
    for (const direct of ['', ' direct']) {
      const sc = parseLitmus(
        [
          'litmus priv',
          'file f 2p written',
          'file g 1p written',
          'map m f 0 2p private',
          `P0: store m+64 8 data=0x44; pwrite g 0 1p buf=m+1p${direct}`,
        ].join('\n'),
        'x',
      );
      for (const s of SCHEMES) {
        if (s.notApplicable?.(sc)) continue;
        const r = await checkScenario(sc, s, { schedules: 2, seed: 1, scenarioRef: 'x' });
        expect({ scheme: s.name, direct, verdict: r.verdict }).toEqual({
          scheme: s.name,
          direct,
          verdict: 'ok',
        });
      }
    }
  });

  it("a hole punch keeps a private mapping's copy (no even_cows), a truncate drops it: model and oracle agree", async () => {
    for (const cut of ['fallocate f punch 0 1p keep-size', 'truncate f 0; truncate f 2p']) {
      const sc = parseLitmus(
        [
          'litmus punchcow',
          'file f 2p written',
          'file g 1p written',
          'map q f 0 2p private',
          `P0: store q+0 8 data=0x44; ${cut}; pwrite g 0 1p buf=q+0`,
        ].join('\n'),
        'x',
      );
      for (const s of SCHEMES) {
        if (s.notApplicable?.(sc)) continue;
        const r = await checkScenario(sc, s, { schedules: 1, seed: 1, scenarioRef: 'x' });
        expect({ scheme: s.name, cut, verdict: r.verdict }).toEqual({ scheme: s.name, cut, verdict: 'ok' });
      }
    }
  });

  it("issue 14: two O_DIRECT writes whose buffers map each other's page may swap them (the DMA reads the buffer during the op)", async () => {
    const sc = parseLitmus(
      [
        'litmus swap',
        'file f 2p written',
        'map m f 0 2p shared',
        'P0: pwrite f 0 1p direct buf=m+1p',
        'P1: pwrite f 1p 1p direct buf=m+0',
      ].join('\n'),
      'x',
    );
    const r = await checkScenario(sc, scheme('xfs'), { schedules: 20, seed: 1, scenarioRef: 'x' });
    expect(r.verdict).toBe('ok');
    // The swap itself is a legal final state: both reads before either write-out.
    const run = await runOnce(sc, scheme('xfs'), new RandomStrategy(1));
    const legal = linearize(run.world.initial, run.world.history.ops);
    const swapped = allocCells(128);
    for (let p = 0; p < 128; p++) swapped[p] = initCell((p + 64) % 128);
    expect(legal.closestFinal('f', { size: 128, cells: swapped })).toBeNull();
    // Bytes nobody could have moved are still judged.
    swapped[3] = cell(9, 9);
    expect(legal.closestFinal('f', { size: 128, cells: swapped })).not.toBeNull();
  });

  it('issue 14: an O_DIRECT op that fails may have moved part of its buffer: no data finding in one task', async () => {
    for (const op of ['pread f 1p 2p direct buf=mg+0', 'pwrite f 1p 2p direct buf=mg+0']) {
      // mg's second page lies past g's EOF: it cannot be pinned, after the first page moved.
      const sc = parseLitmus(
        ['litmus efault', 'file f 4p written', 'file g 1p written', 'map mg g 0 2p shared', `P0: ${op}`].join(
          '\n',
        ),
        'x',
      );
      for (const s of SCHEMES) {
        if (s.notApplicable?.(sc)) continue;
        const run = await runOnce(sc, s, new RandomStrategy(1));
        const data = run.findings.filter((f) => ['stale-read', 'lost-write', 'incoherent'].includes(f.kind));
        expect({ scheme: s.name, op, data }).toEqual({ scheme: s.name, op, data: [] });
      }
    }
  });

  it('an O_DIRECT read cut short by EOF may zero the rest of a mapped buffer: no lost write', async () => {
    const sc = parseLitmus(
      [
        'litmus tail',
        'page 64',
        'block 32',
        'file f 0 written',
        'file g 2p written',
        'map bm g 0 2p shared',
        'P0: truncate f 33; pread f 0 64 direct buf=bm+0',
      ].join('\n'),
      'x',
    );
    for (const s of SCHEMES) {
      if (s.notApplicable?.(sc)) continue;
      const r = await checkScenario(sc, s, { schedules: 1, seed: 1, scenarioRef: 'x' });
      expect({ scheme: s.name, verdict: r.verdict }).toEqual({ scheme: s.name, verdict: 'ok' });
    }
  });
});

describe('buffers that map the file they copy to or from (buffered copies go a page at a time)', () => {
  const litmus = (...lines: string[]) => parseLitmus(lines.join('\n'), 'x');
  const DATA = ['stale-read', 'lost-write', 'incoherent', 'durability'];
  /**
   * The data findings of one run per scheme (one task: the schedule does not matter). rangelock is
   * left out: its buffered write fails with EDEADLK after copying a page (the design backs out of
   * the I/O with an error, not a short count), a finding about the scheme, not the oracle.
   */
  async function dataFindings(lines: string[]): Promise<{ scheme: string; data: string[] }[]> {
    const sc = litmus(...lines);
    const out: { scheme: string; data: string[] }[] = [];
    for (const s of SCHEMES) {
      if (s.notApplicable?.(sc) || s.name === 'rangelock') continue;
      const run = await runOnce(sc, s, new RandomStrategy(1));
      out.push({
        scheme: s.name,
        data: run.findings.filter((f) => DATA.includes(f.kind)).map((f) => f.summary),
      });
    }
    return out;
  }
  // gfs2-nodf-read is n/a without `node` lines.
  const none = () =>
    SCHEMES.filter((s) => s.name !== 'rangelock' && s.name !== 'gfs2-nodf-read').map((s) => ({
      scheme: s.name,
      data: [],
    }));

  it('the reference model copies a buffered write piece by piece: page 0 of f lands in pages 1 and 2', () => {
    const s = fileState(192);
    const e = { k: 'copy', src: 'f', srcOff: 0, dst: 'f', dstOff: 64, len: 128, dstIsStore: false } as const;
    const whole = applyEffect(s, e) as RefState;
    const pieces = applyEffect(s, { ...e, pieces: 64 }) as RefState;
    expect([cellAt(whole, 'f', 64), cellAt(whole, 'f', 128)]).toEqual([initCell(0), initCell(64)]);
    expect([cellAt(pieces, 'f', 64), cellAt(pieces, 'f', 128), cellAt(pieces, 'f', 191)]).toEqual([
      initCell(0),
      initCell(0),
      initCell(63),
    ]);
  });

  it('a buffered pwrite from a shared mapping of its own file, one task: no finding under any scheme', async () => {
    const lines = [
      'litmus own',
      'file f 3p written',
      'map m f 0 3p shared',
      'P0: load m 1; pwrite f 1p 2p buf=m',
    ];
    expect(await dataFindings(lines)).toEqual(none());
  });

  it('a buffered pread into a shared mapping of the file it reads, one task: no finding under any scheme', async () => {
    const lines = [
      'litmus ownread',
      'file f 3p written',
      'map m f 0 3p shared',
      'P0: load m 1; pread f 0 2p buf=m+1p',
    ];
    expect(await dataFindings(lines)).toEqual(none());
  });

  it('an O_DIRECT pwrite may fall back to a buffered one (-ENOTBLK): pagelab does, no lost write', async () => {
    const lines = [
      'litmus fallback',
      'file f 4p written',
      'map m f 0 4p shared',
      'P0: pwrite f 2p 2p direct buf=m+1p',
    ];
    expect(await dataFindings(lines)).toEqual(none());
  });

  describe('the fallback goes a page at a time, as any buffered write (campaign --shard 0/16, issue 14)', () => {
    // Each program, under pagelab: the O_DIRECT write's GUP fault on its own blocked range is
    // refused, and it falls back to buffered I/O (direct_write_fallback), which copies f's page 0
    // part, then its page 1 part; the other op (a buffered read, an O_DIRECT read landing) runs in
    // between. With the fallback's copy one step, the oracle called each lost-write.
    const run = (name: string, body: string, replay: string) =>
      replayFindingKinds(`litmus ${name}\npage 64\n${body}`, replay);
    const files = 'file f 2p written\nfile g 2p written\n';

    it('goes one route or the other: never a page of the buffered copy alone, nor both', () => {
      // pwrite f 64 128 direct, its buffer a shared mapping of f at 0. The DMA leaves f's old
      // [64,128) at 128; the buffered copy leaves page 1's new bytes, f's old [0,64). Page 1
      // copied and nothing else would leave f[128] as it was: no route gives that.
      const bios = { block: 64, page: 64 };
      const dma = {
        k: 'copy',
        src: 'f',
        srcOff: 0,
        dst: 'f',
        dstOff: 64,
        len: 128,
        dstIsStore: false,
      } as const;
      const dio: OpRecord = {
        ...write(1, 1, 4, 64, 128),
        effects: [{ ...dma, dma: true, bios }],
        alternatives: [[{ ...dma, pieces: 64 }]],
      };
      const legal = linearize(fileState(256), [dio]);
      const end = { ...write(9, 10, 11, 0, 1), effects: [] };
      expect([...legal.after(end).values('f', 128, 'zero')].sort((x, y) => x - y)).toEqual(
        [initCell(0), initCell(64)].sort((x, y) => x - y),
      );
    });

    it('campaign-10576: a buffered read of f[56,72) into f[0,16) between the two pages', async () => {
      const body = `${files}map sf0 f 0p 1p shared\nmap pf0 f 0p 1p private
P0: pread f 56 16 buf=sf0
P1: pwrite f 56 16 direct buf=pf0
`;
      expect(await run('campaign-10576', body, 'x.litmus:pagelab:1*12.2.1*3.0*9.3.0*2.1*3.4.1')).toEqual([]);
    });

    it("campaign-20272: an O_DIRECT read's DMA lands in g's page 1 between the two pages", async () => {
      const body = `${files}map sg1 g 1p 1p shared\nmap pg1 g 1p 1p private
P0: pread f 0 64 direct buf=sg1
P1: pwrite g 120 16 direct buf=pg1
`;
      expect(await run('campaign-20272', body, 'x.litmus:pagelab:0*9.1.0.1*4.0*4.1*5.4.0.1*3.5.1')).toEqual(
        [],
      );
    });

    it('campaign-50784 (block < page): a buffered read of f[0,64) into f[64,128) between the two pages', async () => {
      const body = `block 16\n${files}map pf0 f 0p 1p private\nmap sf1 f 1p 1p shared
P0: pread f 0 64 buf=sf1
P1: pwrite f 56 16 direct buf=pf0
`;
      const replay = 'x.litmus:pagelab:1*12.2.1*2.0*6.1*4.6.0*2.7.0*2.8.0*2.9.0*3.1*3.a.b.c.d.1.e.f.g';
      expect(await run('campaign-50784', body, replay)).toEqual([]);
    });
  });

  it("a store into a read's mapped buffer may land after the copy: no stale read under bkl", async () => {
    const sc = litmus(
      'litmus late-store',
      'file a 2p written',
      'file b 2p cached',
      'map ma a 0 2p shared',
      'map mb b 0 2p shared',
      'P0: pwrite a 0 1p direct buf=mb+1p; pread b 0 1p direct buf=ma',
      'P1: pwrite b 1p 1p direct buf=ma; store mb 8',
      'P2: pread a 0 2p buf=mb; pwrite a 1p 1p direct buf=mb',
    );
    const r = await checkScenario(sc, scheme('bkl'), { schedules: 40, seed: 1, scenarioRef: 'x' });
    expect(r.verdict).toBe('ok');
  });
});

/** The kinds of the findings of one replayed run of a litmus text (a replay string's scheme and schedule). */
async function replayFindingKinds(litmus: string, replay: string): Promise<string[]> {
  const { scheme, schedule } = parseReplayString(replay);
  const s = parseLitmus(litmus, 'x.litmus');
  return (await replaySchedule(s, findScheme(scheme) as Scheme, schedule)).findings.map((f) => f.kind);
}

describe('an O_DIRECT read into a user buffer, as Linux does it (false alarms found by a random 3 × 2 campaign)', () => {
  const run = replayFindingKinds;

  it('lands in the buffer bio by bio: a write sourcing from the buffer may read between two landings', async () => {
    // random-8-37 (seed 8), minimised: P0's read of f's page 1 lands in g's page 0 in four 16-byte
    // bios (block < page); P1's O_DIRECT write of g[56,72) from g[0,16) copies its source after the
    // first landed and before the last: g[56,64) ends with f[120,128) while g[64,72) holds f[72,80).
    // With the buffer changed in one step after the last bio, the oracle called it lost-write.
    const litmus = `litmus random-8-37-min
page 64
block 16
file f 2p written
file g 2p written
map sg0 g 0p 1p shared
P0: pread f 64 64 direct buf=sg0
P1: pwrite g 56 16 direct buf=sg0
`;
    expect(await run(litmus, 'x.litmus:pagelab:0*9.1.0.1*4.0*4.1*6.a.0.1*3.f.g.h.i.1.j.k.l')).toEqual([]);
  });

  it('breaks COW of a MAP_PRIVATE buffer when GUP pins it, not when the DMA lands', async () => {
    // random-8-81 (seed 8), minimised: P0 pins its private buffer (wp_page_copy copies g's page 1
    // as it is then), P1's read then lands f[4,12) in g's page 1, and P1's O_DIRECT write copies
    // P0's buffer before P0's DMA lands: g[0,8) gets g's page 1 from before P1's read. With the copy
    // made only when the bytes land, the oracle called it lost-write.
    const litmus = `litmus random-8-81-min
page 64
block 16
file f 2p written
file g 2p written
map sg1 g 1p 1p shared
map pg1 g 1p 1p private
P0: pread f 0 64 direct buf=pg1
P1: pread f 4 8 direct buf=sg1; pwrite g 0 64 direct buf=pg1
`;
    expect(await run(litmus, 'x.litmus:pagelab:0*9.1*8.0*3.6.1*5.8.1*3')).toEqual([]);
  });

  it("an O_DIRECT write's buffered fallback copies folio by folio: a buffered read may come between two", async () => {
    // random-7-143 (seed 7), minimised: pagelab answers P1's self-conflicting O_DIRECT write
    // (its buffer maps the page it writes) with the buffered fallback, which copies f[56,64) into
    // folio 0, then f[64,72) into folio 1; P0's buffered read copies folio 0 in between (f[120,128)
    // gets P1's bytes) and stores into folio 1 before P1's second folio (f[64,72) ends with P1's).
    // With the fallback one atomic step, the oracle called it lost-write.
    const litmus = `litmus random-7-143-min
page 64
block 16
file f 2p written
file g 2p written
map pf0 f 0p 1p private
map sf1 f 1p 1p shared
P0: pread f 0 64 buf=sf1
P1: pwrite f 56 16 direct buf=pf0
`;
    expect(
      await run(
        litmus,
        'x.litmus:pagelab:1*12.2.1*2.3.1*2.4.1*2.0*6.1*4.6.0*2.7.0*2.8.0*2.9.0*3.1*3.a.b.c.d.1.e.f.g',
      ),
    ).toEqual([]);
  });

  it('random-8-9 is judged within the default budget: bio-by-bio landing only where another op could tell', async () => {
    // Six DIO-heavy ops over two files and three private buffers: made an event for every bio's
    // read and landing, the history of this PCT schedule needs 51,986 states (25 of the cell's
    // 100 PCT runs were inconclusive); folding the moments nothing concurrent touches, 6,689 (1,415
    // before P1's two-page buffered fallback went page by page: a concurrent op lands in its buffer;
    // 5,041 since P1's O_DIRECT write of g, which takes g's i_rwsem, no longer comes between two
    // pages of P2's buffered write of g, nor that write inside it; 11,638 since the DMA of P1's
    // write reads the page GUP pinned: a pin of pg0's page, and two ways to read each loud part;
    // 11,898 since a page-cache fill reads a folio with one bio per extent run, as iomap does).
    const litmus = `litmus random-8-9
page 64
block 16
file f 2p written
file g 2p written
map sf0 f 0p 1p shared
map pf0 f 0p 1p private
map pg0 g 0p 1p private
map pg1 g 1p 1p private
P0: pread f 64 64 direct buf=pg0; pread f 16 16 buf=pg0
P1: pwrite g 120 16 direct buf=pg0; pread g 16 16 buf=pf0
P2: pwrite g 0 64 direct buf=pg1; pwrite g 64 64 buf=sf0
`;
    const { schedule } = parseReplayString(
      'x:pagelab:2*9.0*8.1.0*2.8.0.1*12.d.e.c.1*3.2*5.1*3.f.2*2.g.2*2.h.2*2.i.2.1.2*4.1',
    );
    const r = await replaySchedule(parseLitmus(litmus, 'x.litmus'), scheme('pagelab'), schedule);
    expect(r.findings).toEqual([]);
    expect(r.inconclusive).toBeUndefined();
    const { initial, history } = r.world;
    expect(linearizeUncached(initial, history.ops).cost).toEqual({ events: 15, states: 11_898 });
    expect(linearizeUncached(initial, history.ops, STATE_BUDGET, false).inconclusive).toMatch(
      /50000 states did not cover/,
    );
  });
});

describe("an O_DIRECT write's DMA reads the page GUP pinned (a random 3 × 2 campaign under pagelab, issue 14)", () => {
  // random-7-139 (seed 7), as the campaign drew it. P1's O_DIRECT read of g lands in pg1 (g's page
  // 1, private), P2's buffered write copies pg1; P0's O_DIRECT write of f[120,136) pins pg1's page
  // while it is still g's folio (a short-term pin without FOLL_WRITE: gup_must_unshare leaves a
  // page-cache page alone), a store then copies the page, and the DMA reads the pinned folio, not
  // the copy. Reading the buffer through the mapping at DMA time, the oracle called it lost-write.
  const litmus = `litmus random-7-139
page 64
block 16
file f 2p written
file g 2p written
map sf1 f 1p 1p shared
map sg0 g 0p 1p shared
map pg1 g 1p 1p private
P0: pread f 0 64 buf=sg0; pwrite f 120 16 direct buf=pg1
P1: pread g 16 16 direct buf=pg1; pwrite f 16 16 direct buf=sf1
P2: pwrite g 56 16 buf=pg1; load sf1+8 8
`;

  it('random-7-139: no finding in the schedule pagelab took', async () => {
    const replay =
      'x.litmus:pagelab:1*9.0.3.1*2.4.1*2.0*3.2.6.0*2.7.0*2.8.0*2.9.0*5.a.0*2.b.0*2.c.0*2.d.0*9.1*4.0*4.f.1.2*8.g.0.h.0.1*10.2*3';
    expect(await replayFindingKinds(litmus, replay)).toEqual([]);
  });

  it('random-9-164: the pin taken before an O_DIRECT read broke COW of the same page', async () => {
    // P1's O_DIRECT write pins pf0's page while it is f's folio; P0's O_DIRECT read into pf0 then
    // breaks COW (GUP with FOLL_WRITE: wp_page_copy) and lands there; P2's store through sf0
    // changes f's folio, which P1's DMA reads: g[8,16) ends with P2's bytes.
    const l164 = `litmus random-9-164
page 64
block 16
file f 2p written
file g 2p written
map sf0 f 0p 1p shared
map pf0 f 0p 1p private
map sf1 f 1p 1p shared
map pf1 f 1p 1p private
P0: pread f 16 16 direct buf=pf0; pread f 0 64 direct buf=sf1
P1: pread f 0 64 direct buf=pf1; pwrite g 0 64 direct buf=pf0
P2: store sf0+8 8; pread f 0 64 direct buf=pf1
`;
    const replay =
      'x.litmus:pagelab:1*9.0*9.4.0*2.5.0*2.6.0*2.3.1*2.8.1*2.9.1*2.a.1*3.b.1*7.7.0.1*2.0*4.d.0*8.2*7.c.1*3.e.0.f.g.h';
    expect(await replayFindingKinds(l164, replay)).toEqual([]);
  });

  // The shape, by hand: D = pwrite f 0 64 direct buf=pg1 (one bio), S = a store into pg1 (copies
  // the page), W = a buffered write of g's page 1 after S. f ends with W's bytes only if D's DMA
  // read g's folio after W, through a pin taken before S copied the page.
  const W = cell(9, 0);
  const dio = (start: number, end: number): OpRecord => ({
    ...write(5, start, end, 0, 0, 'P0'),
    label: 'pwrite f 0 64 direct buf=pg1',
    effects: [
      {
        k: 'copy',
        src: 'pg1',
        srcOff: 0,
        dst: 'f',
        dstOff: 0,
        len: 64,
        dstIsStore: false,
        dma: true,
        bios: { block: 64, page: 64 },
      },
    ],
  });
  const store = (start: number, end: number): OpRecord => ({
    ...write(6, start, end, 0, 0, 'P1'),
    label: 'store pg1+0 8',
    effects: [{ k: 'store', region: 'pg1', off: 0, cells: allocCells(8).fill(cell(6, 0)) }],
  });
  const gWrite: OpRecord = {
    ...write(9, 4, 5, 0, 0, 'P2'),
    label: 'pwrite g 64 64',
    effects: [{ k: 'write', region: 'g', off: 64, cells: allocCells(64).fill(W) }],
  };
  const fromFolio = (() => {
    const cells = allocCells(128);
    for (let p = 0; p < 128; p++) cells[p] = p < 64 ? W : initCell(p);
    return { size: 128, cells };
  })();

  it("the DMA reads the file's folio pinned before a store copied the page: W's bytes in f", () => {
    const ops = [dio(1, 8), store(2, 3), gWrite];
    expect(linearizeUncached(withPrivate(), ops).closestFinal('f', fromFolio)).toBeNull();
  });

  it('still a lost write when the store returned before the O_DIRECT write began: GUP pins the copy', () => {
    const ops = [store(1, 2), dio(3, 8), gWrite];
    expect(linearizeUncached(withPrivate(), ops).closestFinal('f', fromFolio)).not.toBeNull();
  });
});

describe('a buffered write goes a folio at a time, a truncate zeroes its EOF block first (campaign --scheme pagelab, issue 14)', () => {
  const files = 'page 64\nblock 16\nfile f 2p written\nfile g 2p written\n';
  // campaign-50674 (shard 2/16): P1's write of f[56,72) fills folio f:0, then P0's read copies
  // f:0 (P1's bytes at 56..63) into sf1 = f's page 1, then P1 fills folio f:1 [64,72). f[120,128)
  // ends with P1's bytes, moved there by the read; with the write one step the oracle called it
  // lost-write.
  const w50674 = `litmus campaign-50674\n${files}map sf1 f 1p 1p shared
P0: pread f 0 64 buf=sf1
P1: pwrite f 56 16
`;
  // campaign-98307 (shard 3/16): the truncate zeroes g[72,80) (iomap_truncate_page), P0's write
  // copies g's page 1 through pg1 (the block's tail zeroed, the rest of the page not yet), then
  // truncate_inode_partial_folio zeroes g[80,128).
  const w98307 = `litmus campaign-98307\n${files}map pg1 g 1p 1p private
P0: pwrite f 64 64 buf=pg1
P1: truncate g 72
`;

  it('campaign-50674: no finding in the schedules pagelab and ext4 took', async () => {
    for (const replay of [
      'x.litmus:pagelab:0*4.1*2.0*5.6.0*2.7.0*2.8.0*2.9.0*3',
      'x.litmus:ext4:0*4.1*2.0*5.6.0*2.7.0*2.8.0*2.9.0*3',
    ])
      expect(await replayFindingKinds(w50674, replay)).toEqual([]);
  });

  it('campaign-98307: no finding in the schedules pagelab and xfs took', async () => {
    for (const replay of ['x.litmus:pagelab:0*5.1.0.1*3.0*2', 'x.litmus:xfs:0*5.1*4.0*2'])
      expect(await replayFindingKinds(w98307, replay)).toEqual([]);
  });

  // The same shapes as histories, to show what stays a finding.
  const W = cell(4, 0);
  const read: OpRecord = {
    ...write(3, 1, 4, 0, 0, 'P0'),
    label: 'pread f 0 64 buf=sf1',
    effects: [
      { k: 'copy', src: 'f', srcOff: 0, dst: 'f', dstOff: 64, len: 64, dstIsStore: true, pieces: 64 },
    ],
  };
  const buffered = (tag: number, start: number, end: number): OpRecord => {
    const w = write(tag, start, end, 56, 16);
    const e = w.effects[0] as Extract<OpRecord['effects'][number], { k: 'write' }>;
    return { ...w, effects: [{ ...e, pieces: 64 }] };
  };
  /** f as the run left it: f[0,56) initial, then the listed runs of cells. */
  const settled = (runs: [number, number, (p: number) => number][]) => {
    const cells = allocCells(128);
    for (let p = 0; p < 128; p++) cells[p] = initCell(p);
    for (const [from, to, v] of runs) for (let p = from; p < to; p++) cells[p] = v(p);
    return { size: 128, cells };
  };
  const moved = settled([
    [56, 72, () => W],
    [72, 120, (p) => initCell(p - 64)],
    [120, 128, () => W],
  ]);

  it("the write's page 0, copied by a read before its page 1: legal only with the write split", () => {
    const ops = [read, buffered(4, 2, 5)];
    expect(linearize(fileState(128), ops).closestFinal('f', moved)).toBeNull();
    // The write as one step (no pieces, as before): the same outcome is not reachable.
    expect(linearize(fileState(128), [read, write(4, 2, 5, 56, 16)]).closestFinal('f', moved)).not.toBeNull();
  });

  it("still a lost write: the write's page 0 bytes gone from f[56,64)", () => {
    const lost = settled([
      [64, 72, () => W],
      [72, 120, (p) => initCell(p - 64)],
      [120, 128, (p) => initCell(p - 64)],
    ]);
    expect(linearize(fileState(128), [read, buffered(4, 2, 5)]).closestFinal('f', lost)).not.toBeNull();
  });

  it('two buffered writes never tear across pages (i_rwsem), even with a reader that splits them', () => {
    const other = buffered(5, 3, 7);
    const e = other.effects[0] as Extract<OpRecord['effects'][number], { k: 'write' }>;
    const ops = [
      buffered(4, 2, 6),
      { ...other, effects: [{ ...e, cells: allocCells(16).fill(cell(5, 0)) }] },
    ];
    const torn = settled([
      [56, 64, () => cell(5, 0)],
      [64, 72, () => W],
    ]);
    expect(linearize(fileState(128), ops).closestFinal('f', torn)).not.toBeNull();
    // The read first (f[0,64) into f[64,128)), then the writes torn.
    const tornAfterRead = settled([
      [56, 64, () => cell(5, 0)],
      [64, 72, () => W],
      [72, 128, (p) => initCell(p - 64)],
    ]);
    expect(linearize(fileState(128), [read, ...ops]).closestFinal('f', tornAfterRead)).not.toBeNull();
    // Each whole, in either order: legal.
    expect(linearize(fileState(128), ops).closestFinal('f', settled([[56, 72, () => W]]))).toBeNull();
  });

  const copy: OpRecord = {
    ...write(3, 1, 4, 0, 0, 'P0'),
    label: 'pwrite f 64 64 buf=pg1',
    effects: [
      { k: 'copy', src: 'pg1', srcOff: 0, dst: 'f', dstOff: 64, len: 64, dstIsStore: false, pieces: 64 },
    ],
  };
  const trunc = (block?: number): OpRecord => ({
    ...write(4, 2, 5, 0, 0, 'P1'),
    label: 'truncate g 72',
    effects: [{ k: 'truncate', region: 'g', size: 72, ...(block ? { block } : {}) }],
  });

  it("the EOF block's tail zeroed before the rest of the page: legal only with the truncate split", () => {
    const f = settled([[72, 80, () => cell(TAG_ZERO, 0)]]);
    expect(linearize(withPrivate(), [copy, trunc(16)]).closestFinal('f', f)).toBeNull();
    expect(linearize(withPrivate(), [copy, trunc()]).closestFinal('f', f)).not.toBeNull();
  });

  it('still a lost write: bytes below the new EOF zeroed', () => {
    const f = settled([[64, 128, () => cell(TAG_ZERO, 0)]]);
    expect(linearize(withPrivate(), [copy, trunc(16)]).closestFinal('f', f)).not.toBeNull();
  });
});

/** f and g of 128 bytes, pg1 a MAP_PRIVATE mapping of g's page 1, nothing copied. */
function withPrivate(): RefState {
  const s = fileState(128);
  s.set('g', s.get('f') as Region);
  s.set('pg1', {
    size: 64,
    cells: allocCells(64),
    priv: { file: 'g', fileOff: 64, pageSize: 64, cow: new Uint8Array(1) },
  });
  return s;
}

describe('a page cache fill racing an O_DIRECT write of its blocks may be torn (campaign 50746 and 98212 under xfs and ext4, issue 14)', () => {
  const files = 'page 64\nblock 16\nfile f 2p written\nfile g 2p written\n';
  // campaign-50746: P0's read filled folio f:0 a block per bio; block 0 was read before P1's DIO bio
  // landed, blocks 1..3 after. The torn folio was copied into f's page 1 through sf1. The model now
  // reads f:0 (one written extent) with one bio, as iomap_read_folio does (iomapReadFolioSync), so
  // these schedules (recorded under the per-block fill) no longer tear it; they stay as runs of the
  // two programs that must be ok. The oracle's side, a fill torn at blocks, is pinned below.
  const w50746 = `litmus campaign-50746\n${files}map sf1 f 1p 1p shared
P0: pread f 0 64 buf=sf1
P1: pwrite f 0 64 direct
`;
  // campaign-98212: P0's copy faults g's page 1 in through pg1 while P1's DIO write of it is in
  // flight, and copies the torn page into f's page 1.
  const w98212 = `litmus campaign-98212\n${files}map pg1 g 1p 1p private
P0: pwrite f 64 64 buf=pg1
P1: pwrite g 64 64 direct
`;

  it('campaign-50746 and 98212: no finding in the schedules xfs and ext4 took (lost-write before)', async () => {
    for (const fs of ['xfs', 'ext4']) {
      expect(await replayFindingKinds(w50746, `x.litmus:${fs}:1*4.0*4.1.2.0*2.3.1*4`)).toEqual([]);
      expect(
        await replayFindingKinds(w98212, `x.litmus:${fs}:1*5.0*5.3.0*2.2.1*3.4.0*2.5.0*2.6.0*4`),
      ).toEqual([]);
    }
  });

  // The same shapes as histories: f (and g) of 128 bytes, W the DIO write's bytes.
  const W = cell(4, 0);
  const bios = { block: 16, page: 64 };
  const dio = (region: string, off: number, start: number, end: number, withBios = true): OpRecord => {
    const w = write(4, start, end, off, 64, 'P1');
    const e = w.effects[0] as Extract<OpRecord['effects'][number], { k: 'write' }>;
    return {
      ...w,
      label: `pwrite ${region} ${off} 64 direct`,
      effects: [{ ...e, region, ...(withBios ? { bios } : {}) }],
    };
  };
  const read: OpRecord = {
    ...write(3, 1, 4, 0, 0, 'P0'),
    label: 'pread f 0 64 buf=sf1',
    effects: [
      { k: 'copy', src: 'f', srcOff: 0, dst: 'f', dstOff: 64, len: 64, dstIsStore: true, pieces: 64 },
    ],
  };
  /** f as the run left it: the listed runs of cells over f's initial contents. */
  const settled = (runs: [number, number, (p: number) => number][]) => {
    const cells = allocCells(128);
    for (let p = 0; p < 128; p++) cells[p] = initCell(p);
    for (const [from, to, v] of runs) for (let p = from; p < to; p++) cells[p] = v(p);
    return { size: 128, cells };
  };
  /** f[0,64) written by the DIO write; f[64,128) the read's copy: old below `cut`, new from it. */
  const tornAt = (cut: number) =>
    settled([
      [0, 64, () => W],
      [64, 64 + cut, (p) => initCell(p - 64)],
      [64 + cut, 128, () => W],
    ]);

  it('the fill may see each block of the in-flight write landed or not', () => {
    expect(linearize(fileState(128), [read, dio('f', 0, 2, 5)]).closestFinal('f', tornAt(16))).toBeNull();
    expect(linearize(fileState(128), [read, dio('f', 0, 2, 5)]).closestFinal('f', tornAt(48))).toBeNull();
    // Without `bios` (no O_DIRECT write as far as the oracle knows: the old oracle's view of it),
    // the page is read at one moment, and the torn copy is a lost write.
    expect(
      linearize(fileState(128), [read, dio('f', 0, 2, 5, false)]).closestFinal('f', tornAt(16)),
    ).not.toBeNull();
  });

  it('still a finding: a tear inside a block, or with the write completed before the read began', () => {
    // Inside block 0: the model's device never tears there (a bio is one transfer).
    expect(linearize(fileState(128), [read, dio('f', 0, 2, 5)]).closestFinal('f', tornAt(8))).not.toBeNull();
    // The DIO write returned before the read was issued: the read's page is all new.
    expect(
      linearize(fileState(128), [read, dio('f', 0, -1, 0)]).closestFinal('f', tornAt(16)),
    ).not.toBeNull();
    // A buffered write of the page is no device write: folio-locked, the fill sees none of it.
    const buffered = dio('f', 0, 2, 5, false);
    const e = buffered.effects[0] as Extract<OpRecord['effects'][number], { k: 'write' }>;
    const ops = [read, { ...buffered, effects: [{ ...e, pieces: 64 }] }];
    expect(linearize(fileState(128), ops).closestFinal('f', tornAt(16))).not.toBeNull();
  });

  it('a buffered copy from a private mapping of the page being written: each block before or after', () => {
    const s = withPrivate();
    const copy: OpRecord = {
      ...write(3, 1, 4, 0, 0, 'P0'),
      label: 'pwrite f 64 64 buf=pg1',
      effects: [
        { k: 'copy', src: 'pg1', srcOff: 0, dst: 'f', dstOff: 64, len: 64, dstIsStore: false, pieces: 64 },
      ],
    };
    // f[64,80) g's old block 4, f[80,128) the DIO write's bytes.
    const torn = settled([
      [64, 80, (p) => initCell(p)],
      [80, 128, () => W],
    ]);
    expect(linearize(s, [copy, dio('g', 64, 2, 5)]).closestFinal('f', torn)).toBeNull();
    expect(linearize(s, [copy, dio('g', 64, 2, 5, false)]).closestFinal('f', torn)).not.toBeNull();
    expect(linearize(s, [copy, dio('g', 64, -1, 0)]).closestFinal('f', torn)).not.toBeNull();
  });
  it("an O_DIRECT write's DMA from a mapped page GUP faulted in torn: split at that file's blocks", () => {
    // P0: pwrite f 8 64 direct buf=sg0 (sg0 maps g's page 0: g's bytes), P1: pwrite g 0 64 direct.
    // P0's bios are cut at f's blocks (8 bytes off g's): g's block 0 old, blocks 1..3 new.
    const s = fileState(128);
    s.set('g', s.get('f') as Region);
    const copy: OpRecord = {
      ...write(3, 1, 4, 0, 0, 'P0'),
      label: 'pwrite f 8 64 direct buf=sg0',
      effects: [
        { k: 'copy', src: 'g', srcOff: 0, dst: 'f', dstOff: 8, len: 64, dstIsStore: false, dma: true, bios },
      ],
    };
    const torn = settled([
      [8, 24, (p) => initCell(p - 8)],
      [24, 72, () => W],
    ]);
    expect(linearize(s, [copy, dio('g', 0, 2, 5)]).closestFinal('f', torn)).toBeNull();
    expect(linearize(s, [copy, dio('g', 0, -1, 0)]).closestFinal('f', torn)).not.toBeNull();
  });
  it("a failed O_DIRECT write's sector prefixes do not cut a fill: dio-buffers-crossed-pages stays decided", async () => {
    // Both writes fail with EFAULT under bcachefs, each may have landed any sector prefix; cut at
    // every prefix end, each DMA's source page made 8 parts and the search ran out of budget.
    const litmus = `litmus dio-buffers-crossed-pages
page 64
file f 2p written
map m f 0 2p shared
P0: pwrite f 0 1p direct buf=m+1p
P1: pwrite f 1p 1p direct buf=m
`;
    const { schedule } = parseReplayString('x:bcachefs:0*3.1*4');
    const r = await replaySchedule(parseLitmus(litmus, 'x.litmus'), scheme('bcachefs'), schedule);
    expect(r.inconclusive).toBeUndefined();
    expect(r.findings).toEqual([]);
  });
});

describe('i_rwsem: no step of a peer between two pages of a buffered write (issue 14)', () => {
  /** f, g and h of 128 bytes; sg and sh shared mappings of g and h as files (their regions). */
  const files = (): RefState => {
    const s = fileState(128);
    const f = s.get('f') as Region;
    s.set('g', { size: 128, cells: allocCells(128).fill(cell(7, 0)) });
    s.set('h', { size: 128, cells: allocCells(128).fill(cell(8, 0)) });
    return new Map([...s, ['f', f]]);
  };
  const copyFrom = (tag: number, src: string, start: number, end: number): OpRecord => ({
    ...write(tag, start, end, 0, 0, `P${tag}`),
    label: `pwrite f 0 128 buf=s${src}`,
    effects: [{ k: 'copy', src, srcOff: 0, dst: 'f', dstOff: 0, len: 128, dstIsStore: false, pieces: 64 }],
  });
  const G = cell(7, 0);
  const H = cell(8, 0);
  const f = (page0: number, page1: number): Region => {
    const cells = allocCells(128);
    cells.fill(page0, 0, 64).fill(page1, 64, 128);
    return { size: 128, cells };
  };

  it('two buffered writes from mapped buffers never tear across pages', () => {
    const ops = [copyFrom(3, 'g', 1, 4), copyFrom(4, 'h', 2, 5)];
    // Page 0 from h, page 1 from g: h's write wholly inside g's. Linux forbids it: a finding.
    expect(linearize(files(), ops).closestFinal('f', f(H, G))).not.toBeNull();
    expect(linearize(files(), ops).closestFinal('f', f(G, H))).not.toBeNull();
    // Either whole, last: legal.
    expect(linearize(files(), ops).closestFinal('f', f(G, G))).toBeNull();
    expect(linearize(files(), ops).closestFinal('f', f(H, H))).toBeNull();
  });

  it('an op that takes no i_rwsem still comes between two pages while a peer is concurrent', () => {
    // P5 stores into g's page 1 (through a shared mapping: g's bytes) while P3 copies g into f and
    // P4 writes f[0,8): P3's page 0 copied before the store, its page 1 after.
    const S = cell(5, 0);
    const store: OpRecord = {
      ...write(5, 2, 6, 0, 0, 'P5'),
      label: 'store sg+64 64',
      effects: [{ k: 'store', region: 'g', off: 64, cells: allocCells(64).fill(S) }],
    };
    const peer: OpRecord = { ...write(4, 2, 6, 0, 8, 'P4') };
    const pe = peer.effects[0] as Extract<OpRecord['effects'][number], { k: 'write' }>;
    const ops = [copyFrom(3, 'g', 1, 5), { ...peer, effects: [{ ...pe, pieces: 64 }] }, store];
    const split = f(G, S);
    split.cells.fill(cell(4, 0), 0, 8);
    expect(linearize(files(), ops).closestFinal('f', split)).toBeNull();
  });

  it("an O_DIRECT read of the file is no i_rwsem peer: it may land between a buffered write's pages (bcachefs takes no inode lock)", () => {
    // campaign-50674's shape with the read O_DIRECT (bch2_direct_IO_read: no i_rwsem): P3 reads
    // f[0,64) into f's page 1 after P4's page 0 and before its page 1.
    const dioRead: OpRecord = {
      ...write(3, 1, 4, 0, 0, 'P3'),
      label: 'pread f 0 64 direct buf=sf1',
      effects: [
        {
          k: 'copy',
          src: 'f',
          srcOff: 0,
          dst: 'f',
          dstOff: 64,
          len: 64,
          dstIsStore: true,
          bios: { block: 64, page: 64 },
        },
      ],
    };
    const w = write(4, 2, 5, 56, 16);
    const we = w.effects[0] as Extract<OpRecord['effects'][number], { k: 'write' }>;
    const ops = [dioRead, { ...w, effects: [{ ...we, pieces: 64 }] }];
    const cells = allocCells(128);
    for (let p = 0; p < 128; p++) cells[p] = initCell(p);
    cells.fill(cell(4, 0), 56, 72);
    for (let p = 72; p < 120; p++) cells[p] = initCell(p - 64);
    cells.fill(cell(4, 0), 120, 128);
    expect(linearize(fileState(128), ops).closestFinal('f', { size: 128, cells })).toBeNull();
  });

  it("a buffered write's pages still split around a read when another write of the file is concurrent (campaign-50674's shape)", () => {
    // P4 writes f[56,72) a page at a time; P3 reads f[0,64) into f's page 1 between the two pages;
    // P6 writes f[0,8), after P4 (i_rwsem), after P3's read. Before, P6 made P4 one step.
    const read: OpRecord = {
      ...write(3, 1, 4, 0, 0, 'P3'),
      label: 'pread f 0 64 buf=sf1',
      effects: [
        { k: 'copy', src: 'f', srcOff: 0, dst: 'f', dstOff: 64, len: 64, dstIsStore: true, pieces: 64 },
      ],
    };
    const buffered = (tag: number, start: number, end: number, off: number, len: number): OpRecord => {
      const w = write(tag, start, end, off, len);
      const e = w.effects[0] as Extract<OpRecord['effects'][number], { k: 'write' }>;
      return { ...w, effects: [{ ...e, pieces: 64 }] };
    };
    const ops = [read, buffered(4, 2, 5, 56, 16), buffered(6, 3, 7, 0, 8)];
    const cells = allocCells(128);
    for (let p = 0; p < 128; p++) cells[p] = initCell(p);
    cells.fill(cell(6, 0), 0, 8).fill(cell(4, 0), 56, 72);
    for (let p = 72; p < 120; p++) cells[p] = initCell(p - 64);
    cells.fill(cell(4, 0), 120, 128);
    expect(linearize(fileState(128), ops).closestFinal('f', { size: 128, cells })).toBeNull();
  });
});
