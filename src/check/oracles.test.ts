/**
 * The oracles' specification where a run was a false alarm (issue 14): each test replays the exact
 * schedule a campaign found and asserts the outcome, so it fails if the excuse goes.
 */
import { describe, expect, it } from 'vitest';
import { allocCells, initCell, TAG_ZERO } from '../block/data.js';
import { checkScenario } from '../explore/check.js';
import { runOnce } from '../explore/run.js';
import { parseLitmus } from '../litmus/parse.js';
import { decodeSchedule } from '../sim/schedule.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { scheme } from '../test-support/named.js';
import type { OpRecord } from './history.js';
import { describeCell } from './oracles.js';
import type { RefState } from './refmodel.js';

describe("a read's buffer rewritten after the copy", () => {
  // random-7-2 minimised (campaign --random 500 --tasks 3 --ops 2 --seed 7, under pagelab): P0 reads
  // f's EOF page into g's page 1 through sg1; P1's O_DIRECT write of g[56,72) from sg1 falls back
  // to a buffered write (pagelab's EDEADLK on its own buffer), which rewrites g[64,72) with g's
  // bytes 72..79 after P0's copy and before P0 returns.
  const sc = parseLitmus(
    [
      'litmus buf-rewritten',
      'file f 2p written',
      'file g 2p written',
      'map sg1 g 1p 1p shared',
      'P0: pread f 120 16 buf=sg1',
      'P1: pwrite g 56 16 direct buf=sg1',
    ].join('\n'),
    'x',
  );
  const schedule = decodeSchedule('0*4.1*12.2.0*3.1*4.4.1*8.0.5.1');

  it('is no stale read: the buffer as the read returned may hold what an overlapping write put there', async () => {
    const run = await runOnce(sc, scheme('pagelab'), new ReplayStrategy(schedule));
    const read = run.world.history.ops[0];
    // The run is the one the campaign found: the read returned 8 bytes, and its buffer then held
    // g's initial bytes 72..79 (P1's), not f's 120..127 (what the read copied).
    expect(read.ret).toBe(8);
    expect([...(read.observed?.cells ?? [])]).toEqual(Array.from({ length: 8 }, (_, i) => initCell(72 + i)));
    expect(run.findings).toEqual([]);
  });
});

/**
 * Runs found by random 3×2 campaigns (seed 7) under pagelab, minimised: lost-writes and
 * stale-reads of the oracle's atomic-copy specification, each a schedule Linux allows.
 */
const FOUND: { name: string; why: string; ops: string[]; schedule: string; block?: number }[] = [
  {
    name: 'read-then-store',
    why: "the read's folio is read before the DIO write, its store into the refaulted buffer lands after",
    ops: ['P0: pread f 4 8 buf=sf0', 'P1: pwrite f 0 64 direct buf=sf1'],
    schedule: '0*4.1.0*2',
  },
  {
    name: 'read-between-write-pages',
    why: "the read's snap of page 1 before the write, its store into page 0 after the write's page 0",
    ops: ['P0: pread f 64 64 buf=sf0', 'P1: pwrite f 56 16'],
    schedule: '0*4.1*3.2.0*5',
  },
  {
    name: 'read-pages-apart',
    why: "the read's two pages on either side of the punch",
    ops: ['P0: fallocate f punch 56 16', 'P1: pread f 56 16 buf=sg1'],
    schedule: '1*4.0.1*4.0*2.3.1*4',
  },
  {
    name: 'read-across-collapse',
    why: "the read's snap before the collapse, its store after the pwrite that follows it",
    ops: ['P0: fallocate f collapse 0 64; pwrite g 16 16 buf=sg0', 'P1: pread f 64 64 buf=sg0'],
    schedule: '1*4.0.1*4.0*8',
    block: 16,
  },
  {
    name: 'two-reads-interleaved',
    why: "the second read's pages on either side of the first read's store",
    ops: ['P0: pread f 0 64 buf=sg1', 'P1: pread g 56 16 buf=sg1'],
    schedule: '0*4.1*4.2.0*5.3.1*4.0*3',
  },
  {
    name: 'dma-per-bio',
    why: "the DIO write's two bios read the buffer on either side of a buffered write to it",
    ops: ['P0: pwrite f 64 64 buf=pf0', 'P1: pwrite g 120 16 direct buf=sf1'],
    schedule: '0*5.1*9.2.0*2.3.1*6.4.0*2.1.5.1',
  },
  {
    name: 'dio-read-before-store',
    why: "the DIO read's flush runs before a buffered read stores into its source page, its bio reads the disk after, and its buffer (the collapsed file) takes the bytes last",
    ops: ['P0: fallocate f collapse 0 64', 'P1: pread f 64 64 buf=sg0', 'P2: pread g 0 64 direct buf=sf0'],
    schedule: '2*3.1*4.3.1*2.4.1*2.5.1*2.6.1*5.7.1*2.8.1*2.9.1*2.a.1*3.0*4',
    block: 16,
  },
  {
    name: 'dio-read-tail-early',
    why: "the DIO read's zero-filled tail past EOF lands before its data, and another DIO read copies it between",
    ops: ['P0: pread f 120 16 direct buf=sf0', 'P1: pread f 0 64 direct buf=sf1'],
    schedule: '0*9.2.0*2.3.0*2.4.0*2.5.0*5.1*4.6.0.7.8.9',
    block: 16,
  },
  {
    name: 'read-pages-across-punch',
    why: "the punch zeroes page 0's part before the read copies it and page 1's part after",
    ops: ['P0: fallocate f punch 56 16', 'P1: pread f 64 64 buf=sg0; pread f 56 16 buf=sg1'],
    schedule: '1*4.0.1*4.0*4.3.1*9.5.1*5',
  },
];

describe('a copy through a mapped buffer is not one atomic step', () => {
  for (const c of FOUND) {
    it(`${c.name}: ${c.why}; no finding`, async () => {
      const sc = parseLitmus(
        [
          `litmus ${c.name}`,
          ...(c.block ? [`block ${c.block}`] : []),
          'file f 2p written',
          'file g 2p written',
          'map sf0 f 0 1p shared',
          'map sf1 f 1p 1p shared',
          'map sg0 g 0 1p shared',
          'map sg1 g 1p 1p shared',
          'map pf0 f 0 1p private',
          ...c.ops,
        ].join('\n'),
        'x',
      );
      const run = await runOnce(sc, scheme('pagelab'), new ReplayStrategy(decodeSchedule(c.schedule)));
      expect(run.findings).toEqual([]);
    });
  }
});

describe('false alarm 4: three tasks whose mapped buffers cross', () => {
  // Clean under bkl, lost-write under xfs and pagelab while a buffered read's copy was one step:
  // P2's `pread a 0 2p buf=mb` reads a's page 1 early and stores it into b's page 1 late, after
  // P0's and P1's O_DIRECT ops moved bytes through the same pages.
  const sc = parseLitmus(
    [
      'litmus late-store',
      'file a 2p written',
      'file b 2p cached',
      'map ma a 0 2p shared',
      'map mb b 0 2p shared',
      'P0: pwrite a 0 1p direct buf=mb+1p; pread b 0 1p direct buf=ma',
      'P1: pwrite b 1p 1p direct buf=ma; store mb 8',
      'P2: pread a 0 2p buf=mb; pwrite a 1p 1p direct buf=mb',
    ].join('\n'),
    'x',
  );
  const found = {
    xfs: '0*8.1*8.2*4.1.3.0*4.1.0*9.2*7.5.1*4.6.0*3.7.2*5.8.0',
    pagelab: '0*8.1*9.2*2.0*8.1*2.2*3.1.2*7.0*4.5.1*4.6.2*5.7.0',
  };
  for (const [name, schedule] of Object.entries(found))
    it(`${name}: the schedule random search found is ok`, async () => {
      const run = await runOnce(sc, scheme(name), new ReplayStrategy(decodeSchedule(schedule)));
      expect(run.findings).toEqual([]);
    });
});

describe('finding messages name the file and offset of initial contents (issue 14)', () => {
  const file = (size: number) => {
    const cells = allocCells(size);
    for (let p = 0; p < size; p++) cells[p] = initCell(p);
    return { size, cells };
  };
  const initial: RefState = new Map([
    ['f', file(128)],
    ['g', file(64)],
  ]);
  const history = { ops: [], clock: 0 };

  it('says whose initial bytes were moved, and where they came from, every file that could be', () => {
    expect(describeCell(initCell(72), 'f', 72, history, initial)).toBe("f's initial contents at offset 72");
    expect(describeCell(initCell(72), 'f', 8, history, initial)).toBe(
      "f's initial contents at offset 72, moved to offset 8 of f by an op",
    );
    expect(describeCell(initCell(8), 'f', 120, history, initial)).toBe(
      "f's initial contents at offset 8 (or g's at 8), moved to offset 120 of f by an op",
    );
  });

  it("names the other files' equal bytes when an op moved bytes: f's own at 72 may be g's copied there", () => {
    // campaign-98307: `pwrite f 64 64 buf=pg1` (pg1 maps g at 64) leaves g's byte 72 at f's 72,
    // equal to f's own; the finding named f's alone.
    const both: RefState = new Map([
      ['f', file(128)],
      ['g', file(128)],
    ]);
    const copy: OpRecord = {
      tag: 3,
      task: 'P0',
      label: 'pwrite f 64 64 buf=pg1',
      line: 1,
      start: 1,
      end: 2,
      ret: 64,
      effects: [
        { k: 'copy', src: 'g', srcOff: 64, dst: 'f', dstOff: 64, len: 64, dstIsStore: false, pieces: 64 },
      ],
      observed: null,
      synced: null,
    };
    expect(describeCell(initCell(72), 'f', 72, { ops: [copy], clock: 2 }, both)).toBe(
      "f's initial contents at offset 72 (or g's at 72, moved there by an op)",
    );
    // No op moves bytes: its own.
    expect(describeCell(initCell(72), 'f', 72, history, both)).toBe("f's initial contents at offset 72");
  });
});

describe('collapse and insert of a privately mapped file: its COW copies go (ext4) or stay (XFS)', () => {
  // Random 3x2 seed 7 (campaign --random 100 --tasks 3 --ops 2 --seed 7), programs 69 and 70,
  // minimised. The model drops the copies as ext4 does (truncate_pagecache(round_down(offset,
  // PAGE_SIZE)), even_cows); the oracle kept them, so each run was a false alarm.
  const found: {
    name: string;
    scheme: string;
    block?: number;
    lines: string[];
    schedule: string;
    read: { ret: number; cells: number[] };
  }[] = [
    {
      name: 'random-7-69',
      scheme: 'pagelab',
      // P1's O_DIRECT read lands in pf1's copy; the insert drops the copy, and the read's
      // zero-filled tail refaults the page from the inserted hole: the buffer reads zeroes.
      lines: ['map pf1 f 1p 1p private', 'P0: fallocate f insert 64 64', 'P1: pread g 120 16 direct buf=pf1'],
      schedule: '1*9.0.1*2.0*4.1*7',
      read: { ret: 8, cells: Array.from({ length: 8 }, () => TAG_ZERO) },
    },
    {
      name: 'random-7-69',
      scheme: 'xfs',
      lines: ['map pf1 f 1p 1p private', 'P0: fallocate f insert 64 64', 'P1: pread g 120 16 direct buf=pf1'],
      schedule: '1*9.0.1.0*4.1*7',
      read: { ret: 8, cells: Array.from({ length: 8 }, () => TAG_ZERO) },
    },
    {
      name: 'random-7-70',
      scheme: 'bkl',
      // The read's copy in pf1 is dropped by the insert; the write then copies f's shifted page 1.
      block: 16,
      lines: [
        'map pf1 f 1p 1p private',
        'P0: fallocate f insert 16 16',
        'P1: pread g 120 16 buf=pf1; pwrite f 64 64 buf=pf1',
      ],
      schedule: '1*4.0',
      read: { ret: 8, cells: Array.from({ length: 8 }, (_, i) => initCell(120 + i)) },
    },
  ];
  for (const c of found)
    it(`${c.name} under ${c.scheme}: the schedule the campaign found is ok`, async () => {
      const sc = parseLitmus(
        [
          `litmus ${c.name}`,
          'page 64',
          ...(c.block ? [`block ${c.block}`] : []),
          'file f 2p written',
          'file g 2p written',
          ...c.lines,
        ].join('\n'),
        'x',
      );
      const run = await runOnce(sc, scheme(c.scheme), new ReplayStrategy(decodeSchedule(c.schedule)));
      const read = run.world.history.ops.find((o) => o.label.startsWith('pread')) as OpRecord;
      expect(read.ret).toBe(c.read.ret);
      expect([...(read.observed?.cells ?? [])]).toEqual(c.read.cells);
      expect(run.findings).toEqual([]);
    });
});

describe("ext4's collapse and insert drop private copies twice (truncate_pagecache)", () => {
  // random-7-70 minimised under pagelab (DFS): P1's read copies f's page 1 into pg1's copy; the
  // insert of g unmaps the copy, P1's next page refaults g's still-cached, unshifted folio and
  // copies it, and the read returns before the insert's second unmap drops that copy too.
  const sc = parseLitmus(
    [
      'litmus insert-unmap-twice',
      'page 64',
      'block 16',
      'file f 2p written',
      'file g 2p written',
      'map pg1 g 1p 1p private',
      'P0: fallocate f insert 16 16; fallocate g insert 16 16',
      'P1: pread f 120 16 buf=pg1',
    ].join('\n'),
    'x',
  );
  it('is no stale read: the buffer shows the unshifted page between the two unmaps', async () => {
    const run = await runOnce(
      sc,
      scheme('pagelab'),
      new ReplayStrategy(decodeSchedule('1*2.0*4.1*3.0.1*2.0.1.0.1*3.4.1*4')),
    );
    const read = run.world.history.ops.find((o) => o.label.startsWith('pread')) as OpRecord;
    expect(read.ret).toBe(16);
    // g's page 1 as it was (bytes 64..71), then f's bytes 112..119 shifted to 128..135 by the insert.
    expect([...(read.observed?.cells ?? [])]).toEqual([
      ...Array.from({ length: 8 }, (_, i) => initCell(64 + i)),
      ...Array.from({ length: 8 }, (_, i) => initCell(112 + i)),
    ]);
    expect(run.findings).toEqual([]);
  });
});

describe('default-space programs 11803 and 76681: ok under bkl and pagelab, certified', () => {
  // A build of wt-campfast from before it merged main, without main's oracle (a buffered read's pages stored one at a time,
  // an O_DIRECT read's buffer as it returned) reported lost-write (11803, under pagelab and xfs)
  // and stale-read (76681): Linux allows both runs (filemap_read copies folio by folio; nothing
  // orders one O_DIRECT read's DMA into a page against another read's return). Pinned as verdicts.
  const programs = [
    {
      name: 'campaign-11803',
      lines: [
        'map sf0 f 0p 1p shared',
        'map sg0 g 0p 1p shared',
        'P0: pread f 56 16 buf=sg0',
        'P1: pread g 0 64 direct buf=sf0',
      ],
    },
    {
      name: 'campaign-76681',
      block: 16,
      lines: ['map pg0 g 0p 1p private', 'P0: pread f 0 64 direct buf=pg0', 'P1: pread g 4 8 direct buf=pg0'],
    },
  ];
  for (const c of programs)
    for (const name of ['bkl', 'pagelab'])
      it(`${c.name} under ${name}: ok on every schedule with up to 2 preemptions`, async () => {
        const sc = parseLitmus(
          [
            `litmus ${c.name}`,
            'page 64',
            ...(c.block ? [`block ${c.block}`] : []),
            'file f 2p written',
            'file g 2p written',
            ...c.lines,
          ].join('\n'),
          'x',
        );
        const r = await checkScenario(sc, scheme(name), {
          schedules: 100_000,
          seed: 1,
          scenarioRef: c.name,
          strategy: 'dfs',
          preemptions: 2,
        });
        expect(r.verdict).toBe('ok');
        expect(r.coverage.complete).toBe(true);
      });
});
