/**
 * The dependence relation partial-order reduction prunes by (src/sim/footprint.ts): reads and
 * writes, and the group accesses of mode locks.
 */
import { describe, expect, it } from 'vitest';
import {
  ANYTHING,
  accessObject,
  compactFootprint,
  dependent,
  encodeAccess,
  encodeGroupAccess,
  objectId,
} from './footprint.js';

const lock = objectId('ei_pagecache_lock(f)');
const other = objectId('glock(g)');
const add = encodeGroupAccess(lock, 0);
const block = encodeGroupAccess(lock, 1);

describe('group accesses', () => {
  it('commute within a group and conflict across groups of one object', () => {
    expect(dependent([add], [add])).toBe(false);
    expect(dependent([block], [block])).toBe(false);
    expect(dependent([add], [block])).toBe(true);
    expect(dependent([encodeGroupAccess(other, 1)], [add])).toBe(false);
  });

  it('conflict with a read or a write of the object, and with anything', () => {
    expect(dependent([add], [encodeAccess(lock, false)])).toBe(true);
    expect(dependent([encodeAccess(lock, true)], [add])).toBe(true);
    expect(dependent([add], [encodeAccess(other, true)])).toBe(false);
    expect(dependent([add], [ANYTHING])).toBe(true);
  });

  it('name their object, above every read and write', () => {
    expect(accessObject(add)).toBe(lock);
    expect(accessObject(encodeAccess(lock, true))).toBe(lock);
    expect(add).toBeGreaterThan(encodeAccess((1 << 30) - 1, true));
  });

  it('survive compaction: only exact repeats go', () => {
    expect(compactFootprint([block, add, add])).toEqual([add, block]);
    expect(compactFootprint([add, encodeAccess(lock, true)])).toEqual([encodeAccess(lock, true), add]);
  });

  it('exist for objectIds and groups 0-3 only', () => {
    expect(() => encodeGroupAccess(5, 0)).toThrow(RangeError);
    expect(() => encodeGroupAccess(lock, 4)).toThrow(RangeError);
  });
});

describe('compactFootprint', () => {
  /** The specification: sorted, repeats gone, a read gone where the same object is written. */
  function reference(fp: number[]): number[] {
    if (fp.includes(ANYTHING)) return [ANYTHING];
    const a = [...new Set(fp)].sort((x, y) => x - y);
    return a.filter((x) => !(accessObject(x) === x >>> 1 && x % 2 === 0 && a.includes(x + 1)));
  }

  it('keeps each access once, sorted, a write covering the read of its object (long footprints too)', () => {
    const pool = [
      encodeAccess(3, false),
      encodeAccess(3, true),
      encodeAccess(lock, false),
      encodeAccess(other, false),
      encodeAccess(other, true),
      add,
      block,
      encodeGroupAccess(other, 2),
    ];
    let seed = 7;
    for (let trial = 0; trial < 200; trial++) {
      const fp: number[] = [];
      const len = trial < 100 ? trial % 12 : 150 + trial;
      for (let i = 0; i < len; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        fp.push(pool[seed % pool.length]);
      }
      expect(compactFootprint(fp)).toEqual(reference(fp));
    }
    expect(compactFootprint([encodeAccess(3, true), ANYTHING, add])).toEqual([ANYTHING]);
  });
});
