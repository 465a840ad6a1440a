/**
 * Footprints of the buffered paths for partial-order reduction: writeback's bio completions
 * (iomap_writepage_map → iomap_finish_ioend) and the steps after a user copy (filemap_read,
 * iomap_file_buffered_write) say what they touch, so DPOR does not take them for steps that may
 * touch anything — except a step that returns into the scheme's tail.
 */
import { describe, expect, it } from 'vitest';
import { DfsRunStrategy } from '../../explore/dfs.js';
import { runOnce } from '../../explore/run.js';
import { parseLitmus } from '../../litmus/parse.js';
import type { Scheme } from '../../schemes/scheme.js';
import { ANYTHING, compactFootprint, encodeAccess, granule } from '../../sim/footprint.js';
import { scheme } from '../../test-support/named.js';
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
