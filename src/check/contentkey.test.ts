/**
 * ContentMemo (contentkey.ts): one value per distinct content, exactly — equal content always
 * shares a value, and contents that differ anywhere (a cell, a type, where an array ends) never do.
 */
import { describe, expect, it } from 'vitest';
import { ContentMemo } from './contentkey.js';

/** Memoises each of `values` in turn; returns the number computed for each (the first one's index). */
function classes(values: unknown[]): number[] {
  const memo = new ContentMemo<number>();
  return values.map((v, i) => memo.get([v], () => i));
}

describe('ContentMemo', () => {
  it('gives equal contents one value, built apart', () => {
    const make = () => ({
      ops: [{ tag: 3, label: 'pwrite f 0 8', ret: -14, cells: Uint32Array.of(0x301, 0x302) }],
      views: new Map([['f', { size: 2, cells: Uint32Array.of(1, 2) }]]),
    });
    const memo = new ContentMemo<string>();
    expect(memo.get([make()], () => 'first')).toBe('first');
    expect(memo.get([make()], () => 'second')).toBe('first');
    expect(memo.size).toBe(1);
  });

  it('tells apart contents that differ in one cell, one number or one string', () => {
    const cells = (x: number) => Uint32Array.of(1, 2, 3, x);
    expect(classes([cells(4), cells(5), cells(4), cells(0x10004)])).toEqual([0, 1, 0, 3]);
    expect(classes([-14, 14, 2 ** 32, 0, 0.5, 2 ** 32 - 1, -(2 ** 32)])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(classes(['a', 'b', 'a', 'ab', ''])).toEqual([0, 1, 0, 3, 4]);
  });

  it('tells apart types and shapes whose text would look alike', () => {
    expect(
      classes([
        1,
        '1',
        true,
        null,
        undefined,
        [1],
        [[1]],
        [1, 2],
        [[1], [2]],
        [[1, 2]],
        new Map([[1, 2]]),
        [[1, 2]],
        { a: 1 },
        { a: 1, b: undefined },
        { b: 1 },
        Uint32Array.of(1),
        [],
        {},
        new Map(),
        Uint32Array.of(),
      ]),
    ).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 9, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('keys the parts in order, each whole', () => {
    const memo = new ContentMemo<number>();
    expect(memo.get([[1], [2, 3]], () => 0)).toBe(0);
    expect(memo.get([[1, 2], [3]], () => 1)).toBe(1);
    expect(memo.get([[2, 3], [1]], () => 2)).toBe(2);
    expect(memo.get([[1], [2, 3]], () => 3)).toBe(0);
  });

  it('copies the key before computing: what compute changes does not move it', () => {
    const memo = new ContentMemo<number>();
    const a = [1, 2];
    expect(
      memo.get([a], () => {
        a.push(3);
        return 0;
      }),
    ).toBe(0);
    expect(memo.get([[1, 2]], () => 1)).toBe(0);
    expect(memo.get([[1, 2, 3]], () => 2)).toBe(2);
  });

  it('keys contents larger than its first buffer', () => {
    const big = (x: number) => {
      const c = new Uint32Array(100_000).fill(7);
      c[99_999] = x;
      return c;
    };
    expect(classes([big(1), big(2), big(1)])).toEqual([0, 1, 0]);
  });
});
