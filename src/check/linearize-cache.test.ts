/**
 * The checker's cache of recent histories (linearize.ts, RecentHistories) is a fast path, not a
 * second oracle: a view found there must answer every question exactly as a fresh search of the
 * same history does, asked with the new run's own ops.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocCells, cell, TAG_ZERO } from '../block/data.js';
import { runOnce } from '../explore/run.js';
import { parseLitmus } from '../litmus/parse.js';
import { fileViews } from '../litmus/world.js';
import { findScheme } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import { RandomStrategy } from '../sim/strategy.js';
import type { OpRecord } from './history.js';
import { type Legal, linearize, linearizeUncached, recentHistories } from './linearize.js';
import type { RefState, Region } from './refmodel.js';

function scheme(name: string): Scheme {
  const s = findScheme(name);
  if (!s) throw new Error(name);
  return s;
}

/** Ops on f (2 pages of 64), through a private mapping m of f, a shared mapping s of g, or anon b. */
const OPS = [
  'pwrite f 0 64',
  'pwrite f 8 16 direct',
  'pwrite f 0 64 direct buf=m+1p',
  'pwrite f 64 64 buf=s',
  'pwrite f 32 64 direct buf=b',
  'pread f 0 64',
  'pread f 32 64 direct buf=m',
  'pread f 0 64 buf=s',
  'store m+8 8 data=0x44',
  'store s+0 16 data=0x55',
  'load m+64 8',
  'fallocate f punch 0 1p',
  'truncate f 100',
  'fsync f',
];

const programArb = fc.array(fc.array(fc.constantFrom(...OPS), { minLength: 1, maxLength: 2 }), {
  minLength: 1,
  maxLength: 3,
});

function litmus(tasks: string[][]): string {
  return [
    'litmus cache',
    'page 64',
    'file f 2p written',
    'file g 1p written',
    'map m f 0 2p private',
    'map s g 0 1p shared',
    'buf b 1p',
    ...tasks.map((ops, i) => `P${i}: ${ops.join('; ')}`),
  ].join('\n');
}

/** Every answer of a view, as plain data: windows at every byte of every region, closest finals. */
function answers(legal: Legal, history: readonly OpRecord[], initial: RefState, settled: Region): unknown {
  const regions = [...initial.keys()];
  const windows = history.flatMap((op) =>
    [legal.during(op), legal.after(op)].map((w) =>
      regions.map((r) =>
        Array.from({ length: 140 }, (_, pos) => [
          [...w.values(r, pos, 'zero')].sort(),
          [...w.values(r, pos, 'any')].sort(),
          w.allowed(r, pos, cell(TAG_ZERO, 0), 'zero'),
          w.allowed(r, pos, cell(3, 0), 'any'),
        ]),
      ),
    ),
  );
  const other = { size: settled.size, cells: allocCells(settled.size).fill(cell(3, 0)) };
  return {
    inconclusive: legal.inconclusive,
    ops: legal.ops.map((o) => o.tag),
    windows,
    final: [legal.closestFinal('f', settled), legal.closestFinal('f', other)].map(
      (r) => r && { size: r.size, cells: [...r.cells.subarray(0, r.size)] },
    ),
  };
}

describe('the cache of recent histories', () => {
  it('gives the answers of a fresh search, for the same history met again in another run', async () => {
    await fc.assert(
      fc.asyncProperty(programArb, fc.nat(1000), async (tasks, seed) => {
        const sc = parseLitmus(litmus(tasks), 'cache.litmus');
        const first = await runOnce(sc, scheme('pagelab'), new RandomStrategy(seed));
        // The same schedule again: a history of equal content, made of other objects.
        const again = await runOnce(sc, scheme('pagelab'), new RandomStrategy(seed));
        const ops = again.world.history.ops;
        expect(ops[0]).not.toBe(first.world.history.ops[0]);
        recentHistories.clear();
        linearize(first.world.initial, first.world.history.ops);
        const hits = recentHistories.hits;
        const cached = linearize(again.world.initial, ops);
        const fresh = linearizeUncached(again.world.initial, ops);
        const settled = fileViews(again.world, 'f').direct;
        if (ops.some((o) => o.effects.length > 0)) expect(recentHistories.hits).toBe(hits + 1);
        expect(answers(cached, ops, again.world.initial, settled)).toEqual(
          answers(fresh, ops, again.world.initial, settled),
        );
      }),
      { numRuns: 60, seed: 12 },
    );
  });

  it("asks about the new run's op as the cached run's op at the same place (its own effect excluded)", async () => {
    // One task: a store then a write from the mapping. During the write, its own effect is not
    // applied; the store, completed before, is. With the ops mixed up, the window would differ.
    const sc = parseLitmus(litmus([['store m+64 8 data=0x44', 'pwrite f 0 64 buf=m+1p']]), 'x.litmus');
    recentHistories.clear();
    const a = await runOnce(sc, scheme('xfs'), new RandomStrategy(1));
    linearize(a.world.initial, a.world.history.ops);
    const b = await runOnce(sc, scheme('xfs'), new RandomStrategy(1));
    const hits = recentHistories.hits;
    const legal = linearize(b.world.initial, b.world.history.ops);
    expect(recentHistories.hits).toBe(hits + 1);
    const write = b.world.history.ops[1];
    const w = legal.during(write);
    // Byte 0 of f during the write: still the initial contents, never the write's own bytes.
    expect([...w.values('f', 0, 'zero')]).toEqual([a.world.initial.get('f')?.cells[0]]);
    // After it was issued it may have been applied or not: the store's byte is also allowed.
    const stored = cell(b.world.history.ops[0].tag, 0x44);
    expect([...legal.after(write).values('f', 0, 'zero')].sort()).toEqual(
      [a.world.initial.get('f')?.cells[0], stored].sort(),
    );
  });

  it('misses on a history that differs in one cell, and on another budget', async () => {
    const sc = parseLitmus(litmus([['pwrite f 0 64']]), 'x.litmus');
    recentHistories.clear();
    const a = await runOnce(sc, scheme('xfs'), new RandomStrategy(1));
    linearize(a.world.initial, a.world.history.ops);
    const hits = recentHistories.hits;
    linearize(a.world.initial, a.world.history.ops, 10);
    expect(recentHistories.hits).toBe(hits);
    const op = a.world.history.ops[0];
    const e = op.effects[0];
    if (e.k !== 'write') throw new Error(e.k);
    const cells = e.cells.slice();
    cells[37] ^= 1;
    const changed = { ...op, effects: [{ ...e, cells }] };
    const legal = linearize(a.world.initial, [changed]);
    expect(recentHistories.hits).toBe(hits);
    expect([...legal.after({ ...changed, start: 99, end: 100 }).values('f', 37, 'zero')]).toEqual([
      cells[37],
    ]);
  });
});
