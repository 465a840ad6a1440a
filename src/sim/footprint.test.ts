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
