/**
 * Writeback's bios (iomap_writepage_map → iomap_finish_ioend) for partial-order reduction: the
 * completion says what it touches, so DPOR does not take it for a step that may touch anything.
 */
import { describe, expect, it } from 'vitest';
import { DfsRunStrategy } from '../../explore/dfs.js';
import { runOnce } from '../../explore/run.js';
import { parseLitmus } from '../../litmus/parse.js';
import { ANYTHING, compactFootprint, encodeAccess, granule } from '../../sim/footprint.js';
import { scheme } from '../../test-support/named.js';

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
});
