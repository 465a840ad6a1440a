/** The reference model's collapse and insert of a privately mapped file (refmodel.ts, shiftCows). */
import { describe, expect, it } from 'vitest';
import { allocCells, initCell, TAG_ZERO } from '../block/data.js';
import type { Effect } from './history.js';
import { applyEffect, cellAt, type RefState } from './refmodel.js';

/** f: 4 pages of 64 with the initial pattern; m: a private mapping of all of it, every page copied. */
function start(): RefState {
  const f = allocCells(256);
  for (let i = 0; i < 256; i++) f[i] = initCell(i);
  const m = allocCells(256);
  m.fill(7);
  const cow = new Uint8Array(4).fill(1);
  return new Map([
    ['f', { size: 256, cells: f }],
    ['m', { size: 256, cells: m, priv: { file: 'f', fileOff: 0, pageSize: 64, cow } }],
  ]);
}

function cows(s: RefState | null): number[] {
  return [...(s?.get('m')?.priv?.cow ?? [])];
}

describe('collapse and insert: private COW copies', () => {
  const cases: { e: Effect; ext4: number[]; xfs: number[] }[] = [
    // ext4: truncate_pagecache(round_down(80, 64) = 64) drops pages 1.. ; XFS: the copies stay
    // below the new EOF (192: pages 0..2), truncate_setsize drops page 3.
    { e: { k: 'collapse', region: 'f', off: 80, len: 64 }, ext4: [1, 0, 0, 0], xfs: [1, 1, 1, 0] },
    // XFS's insert grows i_size first and keeps every copy.
    { e: { k: 'insert', region: 'f', off: 80, len: 64 }, ext4: [1, 0, 0, 0], xfs: [1, 1, 1, 1] },
  ];
  for (const c of cases)
    it(`${c.e.k}: ext4 drops the copies from the offset's page on, XFS keeps those inside the file`, () => {
      const ext4 = applyEffect(start(), c.e);
      const xfs = applyEffect(start(), { ...c.e, keepCows: true } as Effect);
      expect(cows(ext4)).toEqual(c.ext4);
      expect(cows(xfs)).toEqual(c.xfs);
      // A dropped page shows the shifted file; a kept one its own bytes.
      // byte 96: old byte 160 after the collapse, the inserted hole after the insert.
      expect(cellAt(ext4 as RefState, 'm', 96)).toBe(c.e.k === 'collapse' ? initCell(160) : TAG_ZERO);
      expect(cellAt(xfs as RefState, 'm', 96)).toBe(7);
    });
});

describe("ext4's first unmap (unmapcows) before the shift", () => {
  it('drops the copies, leaves the file unshifted, and rules out the XFS variant of the same op', () => {
    const s0 = start();
    s0.set('#1.unmap', { size: 0, cells: allocCells(0) });
    const mid = applyEffect(s0, { k: 'unmapcows', region: 'f', off: 80, latch: '#1.unmap' }) as RefState;
    expect(cows(mid)).toEqual([1, 0, 0, 0]);
    expect(cellAt(mid, 'm', 96)).toBe(initCell(96));
    const insert: Effect = { k: 'insert', region: 'f', off: 80, len: 64, latch: '#1.unmap' };
    expect(applyEffect(mid, { ...insert, keepCows: true } as Effect)).toBeNull();
    const ext4 = applyEffect(mid, insert) as RefState;
    expect(cows(ext4)).toEqual([1, 0, 0, 0]);
    expect(ext4.get('#1.unmap')?.size).toBe(0);
    expect(applyEffect(s0, { ...insert, keepCows: true } as Effect)).not.toBeNull();
  });
});
