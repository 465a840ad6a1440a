import { describe, expect, it } from 'vitest';
import { initCell } from '../block/data.js';
import { runOnce } from '../explore/run.js';
import { parseLitmus } from '../litmus/parse.js';
import { decodeSchedule } from '../sim/schedule.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { scheme } from '../test-support/named.js';
import { Mm } from './memory.js';

describe('Mm.findVma', () => {
  // find_vma by binary search over VMAs kept sorted by address (issue 17: a litmus op without buf=
  // has a VMA of its own, so a 1024-op loop has over a thousand).
  it('finds the VMA holding an address, null in guard pages and after a munmap', () => {
    const mm = new Mm(64);
    const vmas = Array.from({ length: 100 }, (_, i) =>
      mm.mmap(`v${i}`, 64 * (1 + (i % 3)), false, null, 0, null),
    );
    for (const v of vmas) {
      expect(mm.findVma(v.start)).toBe(v);
      expect(mm.findVma(v.end - 1)).toBe(v);
      expect(mm.findVma(v.end)).toBeNull(); // the guard page after it
    }
    expect(mm.findVma(vmas[0].start - 1)).toBeNull();
    mm.munmap(vmas[50]);
    expect(mm.findVma(vmas[50].start)).toBeNull();
    expect(mm.findVma(vmas[49].start)).toBe(vmas[49]);
    expect(mm.findVma(vmas[51].end - 1)).toBe(vmas[51]);
    const later = mm.mmap('later', 64, false, null, 0, null);
    expect(later.start).toBeGreaterThan(vmas[99].end);
    expect(mm.findVma(later.start)).toBe(later);
  });
});

describe('do_cow_fault racing another COW fault on the same PTE', () => {
  // random-7-24 (campaign --random 500 --tasks 3 --ops 2 --seed 7, minimised): two O_DIRECT reads
  // into one MAP_PRIVATE page. P1's fault copies the page and pins the copy; P0's fault, which slept
  // in ->fault before that, must drop its own copy (finish_fault: vmf_pte_changed), not replace
  // P1's pinned one, whose DMA would then land in a page no PTE maps.
  const sc = parseLitmus(
    [
      'litmus cow-race',
      'block 16',
      'file f 2p written',
      'file g 2p written',
      'map pg1 g 1p 1p private',
      'P0: pread f 0 64 direct buf=pg1',
      'P1: pread f 0 64 direct buf=pg1',
    ].join('\n'),
    'x',
  );

  it('installs one copy: both reads see f page 0 in their buffer, no stale read', async () => {
    const run = await runOnce(sc, scheme('pagelab'), new ReplayStrategy(decodeSchedule('0*9.1*8.0*3.6.1')), {
      trace: true,
    });
    const copies = run.result.trace?.events().filter((e) => e.site === 'wp_page_copy') ?? [];
    expect(copies.length).toBe(1);
    for (const op of run.world.history.ops)
      expect([...(op.observed?.cells ?? [])]).toEqual(Array.from({ length: 64 }, (_, i) => initCell(i)));
    expect(run.findings).toEqual([]);
  });
});
