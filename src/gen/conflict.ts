/**
 * Conflicting op pairs, for the campaign's coverage figure (after Krace's alias coverage, Xu et
 * al., S&P 2020: pairs of conflicting accesses seen in both orders). Two ops of different tasks
 * conflict when they touch one file — directly, or through a buffer or a mapping of it — and one of
 * them writes it (its data, its size, its blocks, its cache or its writeback state). A pair is named
 * by the shapes of its two ops (signature.ts), unordered: `pwrite-direct × store shared`.
 */
import { opShape } from './signature.js';
import { type FileName, GEOMETRIES, type GenOp, type Program } from './space.js';
import { vocabulary } from './vocab.js';

interface Touch {
  file: FileName;
  write: boolean;
}

/** What an op touches. A MAP_PRIVATE store copies the page on write: it only reads the file. */
export function touches(op: GenOp): Touch[] {
  switch (op.kind) {
    case 'pread':
      return [
        { file: op.file, write: false },
        ...(op.buf ? [{ file: op.buf.file, write: op.buf.shared }] : []),
      ];
    case 'pwrite':
      return [{ file: op.file, write: true }, ...(op.buf ? [{ file: op.buf.file, write: false }] : [])];
    case 'load':
      return [{ file: op.map.file, write: false }];
    case 'store':
      return [{ file: op.map.file, write: op.map.shared }];
    default:
      return [{ file: op.file, write: true }];
  }
}

function conflict(a: GenOp, b: GenOp): boolean {
  const tb = touches(b);
  return touches(a).some((x) => tb.some((y) => x.file === y.file && (x.write || y.write)));
}

export function pairName(a: GenOp, b: GenOp): string {
  const [x, y] = [opShape(a), opShape(b)].sort();
  return `${x} × ${y}`;
}

/** The conflicting pairs of ops in different tasks of a program, each once, sorted. */
export function conflictPairs(p: Program): string[] {
  const out = new Set<string>();
  p.tasks.forEach((ops, i) => {
    for (const later of p.tasks.slice(i + 1))
      for (const a of ops) for (const b of later) if (conflict(a, b)) out.add(pairName(a, b));
  });
  return [...out].sort();
}

let possible: number | null = null;

/** Conflicting pairs the vocabulary can form (in either geometry): the coverage's denominator. */
export function possibleConflictPairs(): number {
  if (possible !== null) return possible;
  const out = new Set<string>();
  for (const geo of GEOMETRIES) {
    const v = vocabulary(geo);
    for (let i = 0; i < v.length; i++)
      for (let j = i; j < v.length; j++) if (conflict(v[i], v[j])) out.add(pairName(v[i], v[j]));
  }
  possible = out.size;
  return possible;
}
