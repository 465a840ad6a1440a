/**
 * DAX against seed 003: the hole-fault vs write(2) race before and after Kara's 2017 fix, and the
 * DAX paths themselves (no page cache, stores on the media, zero page, entries dropped by
 * invalidation, truncation and fsync's write-protection).
 */
import { describe, expect, it } from 'vitest';
import { cellValue } from '../block/data.js';
import { builtinScenarios } from '../explore/builtin.js';
import { checkScenario } from '../explore/check.js';
import { runOnce } from '../explore/run.js';
import { daxInode } from '../fs/dax.js';
import type { Inode } from '../fs/fs.js';
import { parseLitmus } from '../litmus/parse.js';
import type { World } from '../litmus/world.js';
import { peekUser } from '../mm/memory.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { builtin, scheme } from '../test-support/named.js';

const RACE = 'dax-hole-fault-vs-write';

/** Runs a scenario with the non-preemptive default schedule (tasks in order, one after the other). */
async function sequential(text: string, name = 'dax') {
  const run = await runOnce(parseLitmus(text), scheme(name), new ReplayStrategy([]));
  expect(run.result.outcome.kind).toBe('done');
  return run;
}

function loaded(world: World, label: string, nth = 0): number[] {
  const ops = world.history.ops.filter((o) => o.label === label);
  return [...(ops[nth].observed?.cells ?? [])].map(cellValue);
}

function mediaOf(world: World, inode: Inode, pos: number): number {
  const bs = world.scenario.blockSize;
  return cellValue(world.bdev.mediaByte(inode.extents.pblk(Math.floor(pos / bs)) * bs + (pos % bs)));
}

describe('seed 003: DAX read fault on a hole vs write(2)', () => {
  it('dax2017 leaves the zero page mapped over written data: stale read, and mmap disagrees with read(2)', async () => {
    const r = await checkScenario(builtin(RACE), scheme('dax2017'), {
      schedules: 200,
      seed: 1,
      scenarioRef: RACE,
    });
    expect(r.verdict).toBe('stale-read');
    expect(r.finding?.summary).toBe("P0's `load m+0 8` read bytes [0,8) of f as zeroes");
    expect(r.finding?.details).toEqual([
      "at that point only P1's `pwrite f 0 64` could be there",
      'completed before the read began: `pwrite f 0 64`',
    ]);
    expect(r.findings.map((f) => f.kind)).toEqual(['stale-read', 'incoherent']);
    expect(r.findings[1].summary).toBe(
      'with nothing in flight, a buffered read and an mmap read of f disagree on bytes [0,64)',
    );
    // The seed's interleaving: the write finds nothing to invalidate, then the fault maps the zero page.
    const events = r.report?.result.trace?.events().map((e) => `${e.site} ${e.detail ?? ''}`) ?? [];
    const nothing = events.findIndex((e) => e.includes('nothing to invalidate'));
    const hole = events.findIndex((e) => e.startsWith('dax_load_hole'));
    expect(nothing).toBeGreaterThanOrEqual(0);
    expect(hole).toBeGreaterThan(nothing);
  });

  it('dax (the fix) is ok on every schedule with up to 2 preemptions', async () => {
    const r = await checkScenario(builtin(RACE), scheme('dax'), {
      schedules: 100_000,
      seed: 1,
      scenarioRef: RACE,
      strategy: 'dfs',
      preemptions: 2,
    });
    expect(r.verdict).toBe('ok');
    expect(r.coverage.complete).toBe(true);
  });
});

describe('the DAX paths', () => {
  const SEQ = `
litmus dax-seq
page 64
file f 1p hole
map m f 0 1p shared
P0: load m+0 8; pwrite f 0 64 data=9; load m+0 8; store m+8 8 data=5; fsync f; store m+16 8 data=6
`;

  it('has no page cache: stores land on the media, write(2) replaces the zero page, fsync cleans', async () => {
    const run = await sequential(SEQ);
    const f = run.world.inodes.get('f') as Inode;
    expect(f.mapping.pages.size).toBe(0);
    expect(loaded(run.world, 'load m+0 8', 0)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(loaded(run.world, 'load m+0 8', 1)).toEqual([9, 9, 9, 9, 9, 9, 9, 9]);
    expect(mediaOf(run.world, f, 8)).toBe(5);
    expect(mediaOf(run.world, f, 16)).toBe(6);
    // The store after fsync faulted again (pfn_mkwrite) and re-dirtied the entry.
    const e = daxInode(f).entries.get(0);
    expect(e?.kind).toBe('pfn');
    expect(e?.dirty).toBe(true);
    expect(run.findings).toEqual([]);
  });

  it('fsync write-protects the dirty entry (dax_writeback_one)', async () => {
    const run = await sequential(SEQ.replace('; store m+16 8 data=6', ''));
    const f = run.world.inodes.get('f') as Inode;
    expect(daxInode(f).entries.get(0)?.dirty).toBe(false);
    const vma = run.world.regions.get('m')?.vma;
    expect(vma?.ptes.get(0)?.writable).toBe(false);
  });

  it('a private mapping copies on write; the file keeps its data', async () => {
    const run = await sequential(`
litmus dax-cow
page 64
file f 1p written
map p f 0 1p private
P0: load p+0 4; store p+0 4 data=7; load p+0 4; pread f 0 4
`);
    const f = run.world.inodes.get('f') as Inode;
    const p = run.world.regions.get('p')?.vma;
    expect(p?.ptes.get(0)?.folio.anon).toBe(true);
    expect(cellValue(peekUser(run.world.mm, p?.start ?? 0) ?? -1)).toBe(7);
    expect(mediaOf(run.world, f, 0)).not.toBe(7);
    expect(run.world.history.ops[3].observed?.cells[0]).toBe(run.world.initial.get('f')?.cells[0]);
    expect(run.findings).toEqual([]);
  });

  it('punch and truncate drop the entries and the PTEs; unaligned edges are zeroed on the media', async () => {
    const run = await sequential(`
litmus dax-punch
page 64
file f 2p written
map m f 0 2p shared
P0: load m+0 4; load m+64 4; fallocate f punch 0 64; load m+0 4; fallocate f punch 72 8; load m+70 4; truncate f 64
`);
    const f = run.world.inodes.get('f') as Inode;
    expect(loaded(run.world, 'load m+0 4', 1)).toEqual([0, 0, 0, 0]);
    const init = run.world.initial.get('f')?.cells ?? new Uint32Array(0);
    expect(loaded(run.world, 'load m+70 4')).toEqual([cellValue(init[70]), cellValue(init[71]), 0, 0]);
    expect(daxInode(f).entries.get(0)?.kind).toBe('zero');
    expect(daxInode(f).entries.has(1)).toBe(false);
    expect(run.findings).toEqual([]);
  });

  it('declares n/a what DAX cannot express', () => {
    expect(scheme('dax').notApplicable?.(builtin('dio-write-vs-buffered-read'))).toBe(
      'DAX needs the block size to equal the page size (block 32, page 64): ext4 and XFS refuse -o dax otherwise',
    );
    const cached = parseLitmus('litmus c\npage 64\nfile f 1p cached\nP0: pread f 0 8\n');
    expect(scheme('dax2017').notApplicable?.(cached)).toBe(
      "DAX has no page cache: file f cannot start 'cached'",
    );
    expect(scheme('dax').notApplicable?.(builtin(RACE))).toBeNull();
  });
});

describe('the DAX schemes on every built-in scenario', () => {
  for (const s of builtinScenarios()) {
    it(`${s.name}: dax ok or n/a; dax2017 the same except the seed 003 race`, async () => {
      for (const name of ['dax', 'dax2017']) {
        const r = await checkScenario(s, scheme(name), { schedules: 60, seed: 3, scenarioRef: s.name });
        const want = name === 'dax2017' && s.name === RACE ? 'stale-read' : ['ok', 'n/a'];
        if (typeof want === 'string') expect(r.verdict).toBe(want);
        else expect(want).toContain(r.verdict);
      }
    });
  }
});
