import { describe, expect, it } from 'vitest';
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
