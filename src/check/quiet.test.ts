/**
 * Folding quiet moments (quiet.ts, linearize.ts's dmaEvents) neither removes a legal outcome nor
 * adds one: the folded checker answers every question the oracles ask exactly as the checker that
 * makes every moment an event, on the histories of random 3 × 2 programs; and it folds where
 * nothing could tell, so a read whose buffer nobody touches is one event.
 */
import { describe, expect, it } from 'vitest';
import { allocCells, cell, initCell } from '../block/data.js';
import { programs } from '../campaign/driver.js';
import { runOnce } from '../explore/run.js';
import { litmusText } from '../gen/space.js';
import { parseLitmus } from '../litmus/parse.js';
import { fileViews, type World } from '../litmus/world.js';
import { findScheme } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import { RandomStrategy } from '../sim/strategy.js';
import type { Effect, OpRecord } from './history.js';
import { type Legal, linearizeUncached, type PastEof } from './linearize.js';
import type { RefState } from './refmodel.js';

function op(tag: number, start: number, end: number, effects: Effect[], label: string): OpRecord {
  return {
    tag,
    task: `P${tag}`,
    label,
    line: tag,
    start,
    end,
    ret: 64,
    effects,
    observed: null,
    synced: null,
  };
}

/** f (2 pages of 64 bytes, blocks of 16) and an anonymous buffer b of one page. */
function state(): RefState {
  const f = allocCells(128);
  for (let p = 0; p < 128; p++) f[p] = initCell(p);
  return new Map([
    ['f', { size: 128, cells: f }],
    ['b', { size: 64, cells: allocCells(64) }],
  ]);
}

const bios = { block: 16, page: 64 };
/** `pread f 64 64 direct buf=b`: four bios, each landing on its own in Linux. */
const dioRead = (start: number, end: number) =>
  op(
    1,
    start,
    end,
    [{ k: 'copy', src: 'f', srcOff: 64, dst: 'b', dstOff: 0, len: 64, dstIsStore: true, bios }],
    'pread',
  );

describe('quiet moments are folded', () => {
  it('an O_DIRECT read whose buffer no concurrent op touches is one event, its four bios one landing', () => {
    // A write of f's page 0 runs at the same time: it touches neither the read's source nor its buffer.
    const w = op(
      2,
      2,
      5,
      [{ k: 'write', region: 'f', off: 0, cells: allocCells(8).fill(cell(2, 0)) }],
      'pwrite',
    );
    const ops = [dioRead(1, 4), w];
    const folded = linearizeUncached(state(), ops);
    const split = linearizeUncached(state(), ops, undefined, false);
    // Folded: the read and the write, each one event; four states (neither, either, both).
    expect(folded.cost).toEqual({ events: 2, states: 4 });
    // Split: four snaps and four puts (each after its snap), and the write.
    expect(split.cost.events).toBe(9);
    expect(split.cost.states).toBeGreaterThan(100);
  });

  it('a bio whose bytes a concurrent op reads keeps its own landing; the other three land as one', () => {
    // `pwrite f 0 16 direct buf=b`, concurrent: reads b[0,16), what the read's first bio lands.
    const w = op(
      2,
      2,
      5,
      [{ k: 'copy', src: 'b', srcOff: 0, dst: 'f', dstOff: 0, len: 16, dstIsStore: false, dma: true, bios }],
      'pwrite direct',
    );
    const ops = [dioRead(1, 4), w];
    const folded = linearizeUncached(state(), ops);
    // The read: bio 0's landing (its snap folded in, f[64,80) being quiet) and the other three's;
    // the write: its snap of b[0,16) (not quiet: the read lands there) and its put.
    expect(folded.cost.events).toBe(4);
    // Whether the write read b before or after the first bio landed: both outcomes are kept.
    const end = { ...w, tag: 9, start: 10, end: 11, effects: [] };
    const f0 = folded.after(end).values('f', 0, 'zero');
    expect([...f0].sort()).toEqual([0, initCell(64)].sort());
  });

  it('a file some op makes shorter: a write inside its initial size may extend it, and is seen by every landing', () => {
    // truncate f 60; then `pread g 0 48 direct` into a shared mapping of f at 64 (three bios:
    // f[64,80), f[80,96), f[96,112)) while `pwrite f 120 8` extends f from 60 to 128. A bio that
    // lands before the write is past EOF (nothing stored, zeroes after the write extends f); one
    // after it stores. The write's bytes are none of the landings', but the size it changes is.
    const initial: RefState = new Map([
      ['f', { size: 128, cells: Uint32Array.from({ length: 128 }, (_, p) => initCell(p)) }],
      ['g', { size: 128, cells: Uint32Array.from({ length: 128 }, (_, p) => initCell(p)) }],
    ]);
    const trunc = { ...op(1, 1, 2, [{ k: 'truncate', region: 'f', size: 60 }], 'truncate'), ret: 0 };
    const read = op(
      2,
      3,
      8,
      [{ k: 'copy', src: 'g', srcOff: 0, dst: 'f', dstOff: 64, len: 48, dstIsStore: true, bios }],
      'pread',
    );
    const w = op(
      3,
      4,
      6,
      [{ k: 'write', region: 'f', off: 120, cells: allocCells(8).fill(cell(3, 0)) }],
      'pwrite',
    );
    // The first bio before the write, the other two after it.
    const settled = { size: 128, cells: allocCells(128) };
    for (let p = 0; p < 60; p++) settled.cells[p] = initCell(p);
    for (let p = 80; p < 112; p++) settled.cells[p] = initCell(p - 64);
    settled.cells.fill(cell(3, 0), 120, 128);
    expect(
      linearizeUncached(initial, [trunc, read, w], undefined, false).closestFinal('f', settled),
    ).toBeNull();
    expect(linearizeUncached(initial, [trunc, read, w]).closestFinal('f', settled)).toBeNull();
  });
});

/**
 * Every answer a window gives that an oracle may ask for (oracles.ts), byte by byte (or every
 * `step`th byte, for the big searches: every part the checker cuts starts at a multiple of 8): any byte of a
 * file or an anonymous buffer, and of a private mapping the bytes a read stored into it, as the read
 * returned (bufferExcuse). A private mapping's page not copied yet shows the file, whatever its
 * cells hold: the folded checker copies it later than the split one may (a quiet cowbreak), and
 * nothing reads those cells.
 */
function answers(legal: Legal, w: 'during' | 'after' | 'returned', o: OpRecord, step = 1): string[] {
  const out: string[] = [];
  const win = legal[w](o);
  const ask = (name: string, from: number, to: number) => {
    for (let pos = from; pos < to; pos += step)
      for (const pe of ['zero', 'any'] as PastEof[])
        out.push(`${name}@${pos}/${pe}: ${[...win.values(name, pos, pe)].sort((a, b) => a - b).join(',')}`);
  };
  for (const [name, r] of legal.initial) if (!r.priv) ask(name, 0, r.size + 16);
  const c = o.effects.find((e) => e.k === 'copy' && e.dstIsStore);
  if (w === 'returned' && c?.k === 'copy' && legal.initial.get(c.dst)?.priv)
    ask(c.dst, c.dstOff, c.dstOff + c.len);
  return out;
}

/**
 * Two checkers of one run's history give the same answers: every op's windows (and a probe after
 * the last op), every `step`-th byte, and the settled file closest to each file's final bytes.
 */
function expectSameAnswers(a: Legal, b: Legal, world: World, step: number, what: string): void {
  const { history } = world;
  const probe = { ...history.ops[0], tag: -1, start: history.clock + 1, end: history.clock + 2, effects: [] };
  for (const o of [...history.ops, probe])
    for (const w of ['during', 'after', 'returned'] as const)
      expect(answers(a, w, o, step), `${what} ${w} ${o.label}`).toEqual(answers(b, w, o, step));
  for (const name of world.inodes.keys()) {
    const settled = fileViews(world, name).direct;
    expect(a.closestFinal(name, settled)).toEqual(b.closestFinal(name, settled));
  }
}

describe('folding keeps every legal outcome and adds none (random 3 × 2 programs)', () => {
  it('answers as the every-moment checker does: windows byte by byte, and the settled files', async () => {
    const scheme = findScheme('pagelab') as Scheme;
    let compared = 0;
    let folds = 0;
    for (const { index, program } of programs({
      kind: 'random',
      bounds: { tasks: 3, ops: 2 },
      count: 24,
      seed: 8,
    })) {
      const sc = parseLitmus(litmusText(program, `random-8-${index}`), 'x');
      for (const seed of [1, 2]) {
        const run = await runOnce(sc, scheme, new RandomStrategy(seed));
        if (run.result.outcome.kind !== 'done') continue;
        const { initial, history } = run.world;
        const split = linearizeUncached(initial, history.ops, 4000, false);
        if (split.inconclusive) continue;
        const folded = linearizeUncached(initial, history.ops, 4000);
        expect(folded.inconclusive).toBeUndefined();
        if (folded.cost.events < split.cost.events) folds++;
        expectSameAnswers(folded, split, run.world, 1, `random-8-${index} seed ${seed}`);
        compared++;
      }
    }
    // Enough histories compared, and the folding did fold in many of them.
    expect(compared).toBeGreaterThan(20);
    expect(folds).toBeGreaterThan(10);
  });
});

describe('a snap waits for its consumer once nothing left can change what it reads (linearize.ts, deferrals)', () => {
  it('random-8-144 under bkl: decided within the budget, and answers as the search that applies every snap alone', async () => {
    // Seed 8 of a random 3 × 2 campaign, program 144: four O_DIRECT writes from private and shared
    // buffers over two files. The history of this random schedule needs 77,256 states when every
    // snap is applied on its own (more than the 50,000 budget: inconclusive); with a settled snap
    // applied only with its put, 46,187.
    const litmus = `litmus random-8-144
page 64
block 16
file f 2p written
file g 2p written
map pf0 f 0p 1p private
map pf1 f 1p 1p private
map sg1 g 1p 1p shared
map pg1 g 1p 1p private
P0: pwrite f 16 16 direct buf=pg1; pwrite f 120 16 direct buf=sg1
P1: pwrite f 64 64 direct; pread f 56 16 direct buf=pf1
P2: pwrite g 64 64 direct buf=pf0; pwrite f 120 16 direct buf=sg1
`;
    const run = await runOnce(parseLitmus(litmus, 'x'), findScheme('bkl') as Scheme, new RandomStrategy(4));
    const { initial, history } = run.world;
    const deferred = linearizeUncached(initial, history.ops);
    expect(deferred.inconclusive).toBeUndefined();
    expect(deferred.cost.states).toBe(46_187);
    expect(linearizeUncached(initial, history.ops, undefined, true, false).inconclusive).toMatch(
      /50000 states did not cover/,
    );
    const alone = linearizeUncached(initial, history.ops, 200_000, true, false);
    expect(alone.inconclusive).toBeUndefined();
    expect(alone.cost.states).toBe(77_256);
    expectSameAnswers(deferred, alone, run.world, 8, 'random-8-144');
  });
});
