/**
 * The extent map's footprint (src/fs/extent.ts): keyed by block, so writeback's conversions of
 * different blocks commute; what sees more than one block conflicts with every block's access.
 */
import { describe, expect, it } from 'vitest';
import { dependent, objectId, setRecordingTask } from '../sim/footprint.js';
import { BlockState, ExtentMap } from './extent.js';

/** The footprint `f` records on a map with a name. */
function footprint(map: ExtentMap, f: (m: ExtentMap) => unknown): number[] {
  const t = { fp: [] as number[] };
  setRecordingTask(t);
  try {
    f(map);
  } finally {
    setRecordingTask(null);
  }
  return t.fp;
}

function map(): ExtentMap {
  const m = new ExtentMap();
  m.obj = objectId('extents(test)');
  m.set(0, BlockState.Unwritten, 10);
  m.set(1, BlockState.Unwritten, 11);
  return m;
}

describe('ExtentMap footprints', () => {
  it('conversions of two blocks commute; of one block they do not', () => {
    const m = map();
    const convert0 = footprint(m, (x) => x.set(0, BlockState.Written, x.pblk(0)));
    const convert1 = footprint(m, (x) => x.set(1, BlockState.Written, x.pblk(1)));
    const read0 = footprint(m, (x) => x.state(0));
    expect(dependent(convert0, convert1)).toBe(false);
    expect(dependent(convert0, read0)).toBe(true);
    expect(dependent(convert1, read0)).toBe(false);
  });

  it('growing the map past its end touches only the new block (a block past the end is a hole)', () => {
    const m = map();
    const grow = footprint(m, (x) => x.set(5, BlockState.Unwritten, 15));
    const read1 = footprint(m, (x) => x.state(1));
    const read5 = footprint(m, (x) => x.state(5));
    const length = footprint(m, (x) => x.length);
    expect(dependent(grow, read1)).toBe(false);
    expect(dependent(grow, read5)).toBe(true);
    expect(dependent(grow, length)).toBe(true);
  });

  it('punch, collapse, insert and truncate conflict with any block', () => {
    const m = map();
    const read1 = footprint(m, (x) => x.state(1));
    const changes: ((x: ExtentMap) => unknown)[] = [
      (x) => x.punch(0, 1),
      (x) => x.insert(0, 1),
      (x) => x.collapse(0, 1),
      (x) => x.truncate(0),
    ];
    expect(changes.map((f) => dependent(footprint(m, f), read1))).toEqual([true, true, true, true]);
  });
});
