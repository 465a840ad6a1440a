import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLitmus } from '../litmus/parse.js';
import { canonical, canonicalKey, swapFiles } from './canon.js';
import { conflictPairs, possibleConflictPairs } from './conflict.js';
import { DEFAULT_BOUNDS, enumerate, spaceSize } from './enumerate.js';
import { randomPrograms } from './random.js';
import { GEOMETRIES, type GenOp, litmusText, opKey, type Program, programKey } from './space.js';
import { vocabulary } from './vocab.js';

const V = GEOMETRIES.map((g) => vocabulary(g));

let allKeys: Set<string> | null = null;
/** The program keys of the whole default space (enumerated once for the tests that need them). */
function spaceKeys(): Set<string> {
  allKeys ??= new Set([...enumerate(DEFAULT_BOUNDS)].map((e) => programKey(e.program)));
  return allKeys;
}

describe('the default space', () => {
  it('has 442 ops with block = page and 524 with block < page (one more range class)', () => {
    expect(V.map((v) => v.length)).toEqual([442, 524]);
    for (const v of V) expect(new Set(v.map(opKey)).size).toBe(v.length);
  });

  it('enumerates every 2 x 1 program once up to renaming: as many as Burnside counts, all distinct', () => {
    const keys = new Set<string>();
    let n = 0;
    for (const { index, program } of enumerate(DEFAULT_BOUNDS)) {
      expect(index).toBe(n++);
      keys.add(canonicalKey(program));
    }
    expect(n).toBe(117_968);
    expect(keys.size).toBe(n);
    expect(spaceSize()).toBe(n);
  }, 120_000);

  it('holds every ordered pair of ops: each pair, renamed, is an enumerated program', () => {
    const keys = spaceKeys();
    fc.assert(
      fc.property(fc.nat(1), fc.nat(100_000), fc.nat(100_000), (g, i, j) => {
        const v = V[g];
        const p: Program = { geometry: GEOMETRIES[g], tasks: [[v[i % v.length]], [v[j % v.length]]] };
        return keys.has(programKey(canonical(p)));
      }),
      { seed: 7, numRuns: 300 },
    );
  }, 120_000);

  it("holds the issue's crossed O_DIRECT buffers, across files and within one", () => {
    const key = (a: string, b: string) => `block=page | ${a} || ${b}`;
    const keys = spaceKeys();
    expect(keys.has(key('pwrite-direct f p0 sg0', 'pwrite-direct g p0 sf0'))).toBe(true);
    expect(keys.has(key('pwrite-direct f p0 sf1', 'pwrite-direct f p1 sf0'))).toBe(true);
  }, 120_000);

  it('writes every op as litmus the parser accepts, with the maps it uses', () => {
    GEOMETRIES.forEach((geometry, g) => {
      for (const op of V[g]) {
        const text = litmusText({ geometry, tasks: [[op]] }, 'one');
        const s = parseLitmus(text, 'one.litmus');
        expect(s.tasks).toHaveLength(1);
        expect(s.blockSize).toBe(geometry.block);
      }
    });
  });
});

describe('canonical form', () => {
  const op = (g: number) => fc.nat(V[g].length - 1).map((i) => V[g][i]);
  const prog = fc
    .nat(1)
    .chain((g) =>
      fc
        .array(fc.array(op(g), { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 })
        .map((tasks): Program => ({ geometry: GEOMETRIES[g], tasks })),
    );

  it('is the same for a program with its tasks permuted or its files swapped, and a fixpoint', () => {
    fc.assert(
      fc.property(prog, (p) => {
        const k = canonicalKey(p);
        const reversed: Program = { ...p, tasks: p.tasks.slice().reverse() };
        const swapped: Program = { ...p, tasks: p.tasks.map((ops) => ops.map(swapFiles)) };
        return (
          canonicalKey(reversed) === k && canonicalKey(swapped) === k && canonicalKey(canonical(p)) === k
        );
      }),
      { seed: 3, numRuns: 500 },
    );
  });

  it('tells apart programs that differ in one op', () => {
    const v = V[0];
    const a: Program = { geometry: GEOMETRIES[0], tasks: [[v[0]], [v[1]]] };
    const b: Program = { geometry: GEOMETRIES[0], tasks: [[v[0]], [v[2]]] };
    expect(canonicalKey(a)).not.toBe(canonicalKey(b));
  });

  it('swaps the maps with the files: a buffer mapping g becomes one mapping f', () => {
    const op: GenOp = {
      kind: 'pwrite',
      file: 'f',
      range: 'p0',
      direct: true,
      buf: { file: 'g', page: 1, shared: true },
    };
    expect(opKey(swapFiles(op))).toBe('pwrite-direct g p0 sf1');
  });
});

describe('the random generator', () => {
  it('is a function of the seed, and draws each program once up to renaming', () => {
    const draw = (seed: number) => [...randomPrograms({ tasks: 3, ops: 2 }, 50, seed)];
    const a = draw(5);
    expect(a.map((e) => programKey(e.program))).toEqual(draw(5).map((e) => programKey(e.program)));
    expect(new Set(a.map((e) => canonicalKey(e.program))).size).toBe(50);
    expect(a.every((e) => e.program.tasks.length === 3 && e.program.tasks.every((t) => t.length === 2))).toBe(
      true,
    );
    expect(a.map((e) => programKey(e.program))).not.toEqual(draw(6).map((e) => programKey(e.program)));
  });
});

describe('conflicting op pairs', () => {
  const geometry = GEOMETRIES[0];
  it('pair ops of different tasks on one file where one writes, through buffers and mappings too', () => {
    const crossed: Program = {
      geometry,
      tasks: [
        [{ kind: 'pwrite', file: 'f', range: 'p0', direct: true, buf: { file: 'g', page: 0, shared: true } }],
        [{ kind: 'pread', file: 'g', range: 'p0', direct: false, buf: null }],
      ],
    };
    expect(conflictPairs(crossed)).toEqual([]);
    const viaBuffer: Program = {
      geometry,
      tasks: [
        [{ kind: 'pread', file: 'f', range: 'p0', direct: true, buf: { file: 'g', page: 0, shared: true } }],
        [{ kind: 'load', map: { file: 'g', page: 1, shared: false } }],
      ],
    };
    expect(conflictPairs(viaBuffer)).toEqual(['load private × pread-direct buf=shared']);
    const privateStore: Program = {
      geometry,
      tasks: [
        [{ kind: 'store', map: { file: 'f', page: 0, shared: false } }],
        [{ kind: 'load', map: { file: 'f', page: 0, shared: true } }],
      ],
    };
    expect(conflictPairs(privateStore)).toEqual([]);
  });

  it('number 378 over the vocabulary, and every two writers of a file are among them', () => {
    expect(possibleConflictPairs()).toBe(378);
    const p: Program = {
      geometry,
      tasks: [[{ kind: 'truncate', file: 'f', dir: 'up' }], [{ kind: 'evict', file: 'f', page: 1 }]],
    };
    expect(conflictPairs(p)).toEqual(['evict × truncate-up']);
  });
});
