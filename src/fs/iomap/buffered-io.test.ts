/**
 * Footprints of the buffered paths for partial-order reduction: writeback's bio completions
 * (iomap_writepage_map → iomap_finish_ioend) and the steps after a user copy (filemap_read,
 * iomap_file_buffered_write) say what they touch, so DPOR does not take them for steps that may
 * touch anything — except a step that returns into the scheme's tail.
 */
import { describe, expect, it } from 'vitest';
import { initCell, TAG_ZERO } from '../../block/data.js';
import { DfsRunStrategy } from '../../explore/dfs.js';
import { runOnce } from '../../explore/run.js';
import { parseLitmus } from '../../litmus/parse.js';
import type { UserRegion, World } from '../../litmus/world.js';
import { filemapGetPage } from '../../mm/filemap.js';
import type { Folio } from '../../mm/folio.js';
import type { Scheme } from '../../schemes/scheme.js';
import { ANYTHING, compactFootprint, encodeAccess, granule } from '../../sim/footprint.js';
import type { Task } from '../../sim/task.js';
import { scheme } from '../../test-support/named.js';
import { mappingOf, steeredSim, world } from '../../test-support/world-sim.js';
import { BlockState } from '../extent.js';
import type { Inode } from '../fs.js';
import { filemapRead } from '../read_write.js';
import { iomapFileBufferedWrite } from './buffered-io.js';

/** The inode number of file `f` in the last stepsOf run. */
let fileIno = -1;

/** P0's steps, each with the site it began at and its footprint. */
async function stepsOf(text: string, s: Scheme): Promise<{ from: string; fp: number[] }[]> {
  const strat = new DfsRunStrategy([], true, 2);
  const steps: { from: string; fp: number[] }[] = [];
  let site = 'start';
  const track = strat.onStep as NonNullable<typeof strat.onStep>;
  strat.onStep = (t, fp) => {
    if (t.name === 'P0') {
      steps.push({ from: site, fp: compactFootprint(fp) });
      site = t.lastSite;
    }
    track(t, fp);
  };
  const run = await runOnce(parseLitmus(text, 'x.litmus'), s, strat);
  expect(run.result.outcome.kind).toBe('done');
  fileIno = (run.world.inodes.get('f') as { ino: number }).ino;
  return steps;
}

describe('a writeback bio completion, for POR', () => {
  it("records the folio it reads and ends writeback on, and nothing else is 'anything'", async () => {
    const sc = parseLitmus(
      'litmus wb\npage 64\nfile f 1p written\nP0: pwrite f 0 64; fsync f\n',
      'wb.litmus',
    );
    const strat = new DfsRunStrategy([], true, 2);
    const irq: number[][] = [];
    const track = strat.onStep as NonNullable<typeof strat.onStep>;
    strat.onStep = (t, fp) => {
      if (t.name.startsWith('irq:')) irq.push(compactFootprint(fp));
      track(t, fp);
    };
    const run = await runOnce(sc, scheme('xfs'), strat);
    expect(run.result.outcome.kind).toBe('done');
    const ino = (run.world.inodes.get('f') as { ino: number }).ino;
    // The data bio's completion (the DMA read of the folio, then PG_writeback cleared), and the
    // cache flush of the fsync: neither is "anything".
    expect(irq).toHaveLength(2);
    for (const fp of irq) expect(fp).not.toContain(ANYTHING);
    expect(irq[0]).toContain(encodeAccess(granule(ino, 0), true));
  });

  it.each([
    ['pread f 0 128', 'copy_to_user'],
    ['pwrite f 0 128', 'copy_from_user'],
  ])(
    "%s: the steps after a page's copy record themselves, the last too when the scheme's tail does",
    async (op, site) => {
      const text = `litmus c\npage 64\nfile f 2p written\nP0: ${op}\n`;
      // xfs: after filemap_read / iomap_file_buffered_write only xfs_iunlock, which records itself.
      const recorded = await stepsOf(text, scheme('xfs'));
      expect(recorded.filter((x) => x.from === site).map((x) => x.fp.includes(ANYTHING))).toEqual([
        false,
        false,
      ]);
      // The same paths called as a scheme that does not vouch for its tail: the last is 'anything'.
      const after = (await stepsOf(text, unvouched('xfs')))
        .filter((x) => x.from === site)
        .map((x) => x.fp.includes(ANYTHING));
      expect(after).toEqual([false, true]);
    },
  );

  it('a copy that faults its user page in records the page cache folio it copies from', async () => {
    // The copy runs in a step that began in the fault (filemap_fault of g's page), which does not
    // declare f's page: the copy itself records it.
    const text =
      'litmus c\npage 64\nfile f 1p written\nfile g 1p written\nmap sg g 0 1p shared\nP0: pread f 0 64 buf=sg\n';
    const steps = await stepsOf(text, scheme('xfs'));
    const i = steps.findIndex((x) => x.from === 'copy_to_user');
    expect(i).toBeGreaterThan(0);
    expect(steps[i - 1].from).not.toBe('filemap_get_pages:lookup');
    const f = fileIno;
    expect(steps[i - 1].fp).toContain(encodeAccess(granule(f, 0), false));
  });

  it('a buffered read looks its page up, not the whole inode', async () => {
    const s = scheme('pagelab');
    const steps = await stepsOf('litmus c\npage 64\nfile f 2p written\nP0: pread f 64 8\n', s);
    const lookup = steps.filter((x) => x.from === 'filemap_get_pages:lookup');
    expect(lookup).toHaveLength(1);
    const ino = fileIno;
    expect(lookup[0].fp).toContain(encodeAccess(granule(ino, 1), true));
    expect(lookup[0].fp).not.toContain(encodeAccess(ino, true));
    expect(lookup[0].fp).not.toContain(ANYTHING);
  });
});

/** `name` with its buffered read and write calling the generic paths with their default tail. */
function unvouched(name: string): Scheme {
  const s = scheme(name);
  return {
    ...s,
    ops: {
      ...s.ops,
      readIter: (t, inode, pos, len, ubuf) => filemapRead(t, inode, pos, len, ubuf),
      writeIter: (t, inode, pos, len, ubuf) => iomapFileBufferedWrite(t, inode, pos, len, ubuf),
    },
  };
}

/**
 * The page cache fill against fs/iomap/buffered-io.c iomap_read_folio (issue 14): one ->iomap_begin
 * (a scheduling point) per mapping of the folio, holes, unwritten blocks and blocks past i_size
 * zeroed, and one read bio per device-contiguous run (fs/iomap/bio.c iomap_bio_read_folio_range),
 * not one per block. 64-byte pages of four 16-byte blocks.
 */
describe('a folio fill builds one bio per device-contiguous run (iomap_read_folio)', () => {
  function inodeOf(w: World): Inode {
    return w.fs.inodes.find((i) => i.name === 'f') as Inode;
  }

  /** Runs `body` as the one task of a steered sim; returns its trace's submit_bio details and points. */
  async function traced(w: World, body: (t: Task) => Promise<void>) {
    const { sim } = steeredSim(w);
    sim.spawn('P0', body);
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    const events = sim.trace?.events() ?? [];
    return {
      bios: events.filter((e) => e.site === 'submit_bio').map((e) => e.detail),
      mappings: events.filter((e) => e.kind === 'point' && e.site === 'iomap_read_folio_iter').length,
    };
  }

  /** Fills page 0 of f through filemap_get_pages (->read_folio); returns the folio and the trace. */
  async function fill(w: World) {
    let folio: Folio | number = 0;
    const out = await traced(w, async (t) => {
      folio = await filemapGetPage(t, mappingOf(w), 0);
    });
    expect(typeof folio).not.toBe('number');
    return { ...out, data: Array.from((folio as unknown as Folio).data) };
  }

  /** What a fill of page 0 holds: block b from file offset src[b] of the initial data, or zeroes. */
  function expected(src: (number | null)[], size = 64): number[] {
    const out: number[] = [];
    for (let b = 0; b < 4; b++)
      for (let o = 0; o < 16; o++) {
        const from = src[b];
        out.push(from === null || b * 16 + o >= size ? TAG_ZERO : initCell(from + o));
      }
    return out;
  }

  it('reads a folio over one written extent with one bio, after one mapping', async () => {
    const w = world('xfs', 'block 16\nfile f 1p written');
    const addr = inodeOf(w).extents.pblk(0) * 16;
    const r = await fill(w);
    expect(r.bios).toEqual([`bio#1 read [${addr},${addr + 64})`]);
    expect(r.mappings).toBe(1);
    expect(r.data).toEqual(expected([0, 16, 32, 48]));
  });

  it('reads around a hole with two bios and zeroes the hole, one mapping each', async () => {
    const w = world('xfs', 'block 16\nfile f 1p written');
    const ext = inodeOf(w).extents;
    const p = [0, 1, 3].map((b) => ext.pblk(b) * 16);
    ext.set(2, BlockState.Hole, -1);
    const r = await fill(w);
    // Blocks 0-1, then block 3: not where the first bio ends on the device (block 2's pblk was).
    expect(r.bios).toEqual([`bio#1 read [${p[0]},${p[0] + 32})`, `bio#2 read [${p[2]},${p[2] + 16})`]);
    expect(r.mappings).toBe(3);
    expect(r.data).toEqual(expected([0, 16, null, 48]));
  });

  it('zeroes an unwritten block as a hole', async () => {
    const w = world('xfs', 'block 16\nfile f 1p written');
    const ext = inodeOf(w).extents;
    ext.set(1, BlockState.Unwritten, ext.pblk(1));
    const r = await fill(w);
    expect(r.bios).toHaveLength(2);
    expect(r.data).toEqual(expected([0, null, 32, 48]));
  });

  it('adds a range that starts where the bio ends on the device to it, across a hole (bio_end_sector)', async () => {
    const w = world('xfs', 'block 16\nfile f 1p written');
    const ext = inodeOf(w).extents;
    const p1 = ext.pblk(1);
    // Block 2 now maps the device block after block 0's, block 1 is a hole: one bio of two
    // segments, [block 0][block 2] of the folio, from two adjacent device blocks.
    ext.set(2, BlockState.Written, p1);
    ext.set(1, BlockState.Hole, -1);
    ext.set(3, BlockState.Hole, -1);
    const a = ext.pblk(0) * 16;
    const r = await fill(w);
    expect(r.bios).toEqual([`bio#1 read [${a},${a + 32})`]);
    expect(r.mappings).toBe(4);
    expect(r.data).toEqual(expected([0, null, 16, null]));
  });

  it('cuts a mapping at the EOF block: reads up to it, zeroes past it, in the same mapping', async () => {
    // 40 bytes: blocks 0-2 start below i_size; block 3, allocated past EOF, is zeroed.
    const w = world('xfs', 'block 16\nfile f 40 written');
    const ext = inodeOf(w).extents;
    ext.set(3, BlockState.Written, ext.pblk(2) + 1);
    const a = ext.pblk(0) * 16;
    const r = await fill(w);
    expect(r.bios).toEqual([`bio#1 read [${a},${a + 48})`]);
    expect(r.mappings).toBe(1);
    expect(r.data).toEqual(expected([0, 16, 32, 48], 40));
  });

  it("a partial buffered write's read of the folio (iomap_write_begin) is one bio too", async () => {
    const w = world('xfs', 'block 16\nfile f 1p written\nbuf b 64');
    const inode = inodeOf(w);
    const addr = inode.extents.pblk(0) * 16;
    const ubuf = (w.regions.get('b') as UserRegion).vma.start;
    const r = await traced(w, async (t) => {
      expect(await iomapFileBufferedWrite(t, inode, 8, 16, ubuf)).toBe(16);
    });
    expect(r.bios).toEqual([`bio#1 read [${addr},${addr + 64})`]);
  });
});
