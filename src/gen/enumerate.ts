/**
 * The exhaustive enumerator: every program of `tasks` tasks × `ops` ops per task over the
 * vocabulary (vocab.ts), in both geometries, each program once up to renaming tasks or files
 * (canon.ts). The order is fixed (geometry, then the tasks' op sequences in vocabulary order), so a
 * program's index names it, and `--shard i/N` takes the programs whose index is i modulo N.
 */
import { canonical, canonicalKey } from './canon.js';
import { GEOMETRIES, type GenOp, type Geometry, opKey, type Program } from './space.js';
import { vocabulary } from './vocab.js';

export interface SpaceBounds {
  tasks: number;
  ops: number;
}

/** The default exhaustive space: 2 tasks × 1 op, both geometries. */
export const DEFAULT_BOUNDS: SpaceBounds = { tasks: 2, ops: 1 };

export interface Enumerated {
  index: number;
  program: Program;
}

/** Every op sequence of length `k`, as vocabulary indices, in lexicographic order. */
function* sequences(n: number, k: number): Generator<number[]> {
  const seq = new Array<number>(k).fill(0);
  for (;;) {
    yield seq.slice();
    let i = k - 1;
    while (i >= 0 && seq[i] === n - 1) seq[i--] = 0;
    if (i < 0) return;
    seq[i]++;
  }
}

/** Non-decreasing tuples of `t` numbers below `n`: one per multiset of tasks. */
function* multisets(n: number, t: number): Generator<number[]> {
  const idx = new Array<number>(t).fill(0);
  for (;;) {
    yield idx.slice();
    let i = t - 1;
    while (i >= 0 && idx[i] === n - 1) i--;
    if (i < 0) return;
    idx[i]++;
    for (let j = i + 1; j < t; j++) idx[j] = idx[i];
  }
}

/**
 * Whether a program, its tasks as generated, is the representative of its class: its tasks, sorted,
 * under the naming that makes the key least (canon.ts). Multisets of tasks already quotient task
 * renamings, so only the file swap can make two generated programs one.
 */
function isRepresentative(p: Program): boolean {
  const own = `${p.geometry.name} | ${p.tasks
    .map((ops) => ops.map(opKey).join('; '))
    .sort()
    .join(' || ')}`;
  return canonicalKey(p) === own;
}

function* geometryPrograms(geo: Geometry, b: SpaceBounds): Generator<Program> {
  const vocab = vocabulary(geo);
  const seqs: GenOp[][] = [...sequences(vocab.length, b.ops)].map((s) => s.map((i) => vocab[i]));
  for (const tuple of multisets(seqs.length, b.tasks)) {
    const p: Program = { geometry: geo, tasks: tuple.map((i) => seqs[i]) };
    if (isRepresentative(p)) yield canonical(p);
  }
}

/** Every program of the space, numbered, canonical. */
export function* enumerate(b: SpaceBounds = DEFAULT_BOUNDS): Generator<Enumerated> {
  let index = 0;
  for (const geo of GEOMETRIES)
    for (const program of geometryPrograms(geo, b)) yield { index: index++, program };
}

/** C(n + k - 1, k): multisets of k elements out of n. */
function multichoose(n: bigint, k: bigint): bigint {
  let r = 1n;
  for (let i = 0n; i < k; i++) r = (r * (n + i)) / (i + 1n);
  return r;
}

/**
 * `campaign.space_size`: programs in the space, each class of renamings counted once, by Burnside's
 * lemma over the file swap: every op names a file, so the swap fixes no op sequence and pairs the
 * N = n^ops sequences up; a multiset of tasks is fixed by the swap only if it holds each sequence
 * as often as its swapped twin (tasks even). Classes = (multisets + fixed multisets) / 2.
 * The enumeration yields exactly this many (gen.test.ts checks the two agree).
 */
export function spaceSize(b: SpaceBounds = DEFAULT_BOUNDS): number {
  let total = 0n;
  for (const geo of GEOMETRIES) {
    const n = BigInt(vocabulary(geo).length) ** BigInt(b.ops);
    const t = BigInt(b.tasks);
    const fixed = t % 2n === 0n ? multichoose(n / 2n, t / 2n) : 0n;
    total += (multichoose(n, t) + fixed) / 2n;
  }
  return total > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(total);
}
