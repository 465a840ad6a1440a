/**
 * The sequential reference model the oracles consult (Porcupine's idea: the checker knows the
 * system only through a tiny sequential model). A state maps each region (file or anonymous
 * buffer) to its size and cells. `applyEffect` is the specification of every mutating op: what a
 * byte array would hold after it, with no concurrency at all.
 *
 * `exploreStates` enumerates the states reachable by applying the history's mutating ops in every
 * order consistent with real time (a before b when a completed before b was issued), memoised on
 * (applied set, content): the set of legal worlds the real run may be compared against.
 */
import { allocCells, TAG_ZERO } from '../block/data.js';
import type { Effect, OpRecord } from './history.js';

export interface Region {
  size: number;
  cells: Uint32Array;
}
export type RefState = Map<string, Region>;

function clone(s: RefState): RefState {
  const out: RefState = new Map();
  for (const [k, v] of s) out.set(k, { size: v.size, cells: v.cells });
  return out;
}

function region(s: RefState, name: string): Region {
  const r = s.get(name);
  if (!r) throw new Error(`reference model: no region '${name}'`);
  return r;
}

function resized(cells: Uint32Array, size: number): Uint32Array {
  const out = allocCells(size);
  out.set(cells.subarray(0, Math.min(size, cells.length)));
  return out;
}

function writeCells(r: Region, off: number, src: Uint32Array, extend: boolean): Region {
  const len = extend ? src.length : Math.max(0, Math.min(src.length, r.size - off));
  if (len <= 0) return r;
  const size = Math.max(r.size, off + len);
  const cells = resized(r.cells, size);
  cells.set(src.subarray(0, len), off);
  return { size, cells };
}

function readCells(r: Region, off: number, len: number): Uint32Array {
  const out = allocCells(len);
  if (off < r.size) out.set(r.cells.subarray(off, Math.min(r.size, off + len)));
  return out;
}

/**
 * Applies one effect to a copy of the state; null if the op could not have succeeded in this
 * state, so no real-time-consistent order puts it here (it did succeed). That is COLLAPSE_RANGE
 * reaching EOF and INSERT_RANGE at or past it, EINVAL in Linux: ext4_collapse_range "There is no
 * need to overlap collapse range with EOF, in which case it is effectively a truncate operation /
 * if (end >= inode->i_size) return -EINVAL;", xfs_falloc_insert_range "if (offset >= isize) return
 * -EINVAL;". Only another task's truncate (or collapse) can put an order there.
 */
export function applyEffect(s0: RefState, e: Effect): RefState | null {
  if (e.k === 'collapse' && e.off + e.len >= region(s0, e.region).size) return null;
  if (e.k === 'insert' && e.off >= region(s0, e.region).size) return null;
  const s = clone(s0);
  switch (e.k) {
    case 'write':
      s.set(e.region, writeCells(region(s, e.region), e.off, e.cells, true));
      break;
    case 'store':
      // A store through a shared mapping changes file bytes only inside i_size.
      s.set(e.region, writeCells(region(s, e.region), e.off, e.cells, false));
      break;
    case 'copy': {
      const data = readCells(region(s, e.src), e.srcOff, e.len);
      s.set(e.dst, writeCells(region(s, e.dst), e.dstOff, data, !e.dstIsStore));
      break;
    }
    case 'punch':
    case 'zero':
    case 'alloc': {
      const r = region(s, e.region);
      const end = e.off + e.len;
      const size = e.keepSize ? r.size : Math.max(r.size, end);
      const cells = resized(r.cells, size);
      if (e.k !== 'alloc') cells.fill(TAG_ZERO, Math.min(e.off, size), Math.min(end, size));
      s.set(e.region, { size, cells });
      break;
    }
    case 'collapse': {
      const r = region(s, e.region);
      const cells = allocCells(r.size - e.len);
      cells.set(r.cells.subarray(0, e.off));
      cells.set(r.cells.subarray(e.off + e.len, r.size), e.off);
      s.set(e.region, { size: r.size - e.len, cells });
      break;
    }
    case 'insert': {
      const r = region(s, e.region);
      const cells = allocCells(r.size + e.len);
      cells.set(r.cells.subarray(0, e.off));
      cells.set(r.cells.subarray(e.off, r.size), e.off + e.len);
      s.set(e.region, { size: r.size + e.len, cells });
      break;
    }
    case 'truncate': {
      const r = region(s, e.region);
      s.set(e.region, { size: e.size, cells: resized(r.cells, e.size) });
      break;
    }
  }
  return s;
}

export interface ExploredState {
  /** Bit i set: mutating op i has been applied (or, for a failed op, decided). */
  mask: number;
  state: RefState;
}

export interface Exploration {
  ops: OpRecord[];
  states: ExploredState[];
  /** True when the state budget ran out: verdicts based on it are withheld. */
  truncated: boolean;
}

/** A hash of a state (its mask and every region's size and cells), for the seen-set's buckets. */
function stateHash(mask: number, s: RefState): number {
  let h = Math.imul(0x811c9dc5 ^ mask, 0x01000193);
  for (const r of s.values()) {
    h = Math.imul(h ^ r.size, 0x01000193);
    const cells = r.cells;
    const n = Math.min(r.size, cells.length);
    for (let i = 0; i < n; i++) h = Math.imul(h ^ cells[i], 0x01000193);
  }
  return h;
}

function sameCells(a: Region, b: Region): boolean {
  if (a.size !== b.size) return false;
  const n = Math.min(a.size, a.cells.length);
  if (n !== Math.min(b.size, b.cells.length)) return false;
  if (a.cells === b.cells) return true;
  for (let i = 0; i < n; i++) if (a.cells[i] !== b.cells[i]) return false;
  return true;
}

function sameState(a: ExploredState, mask: number, s: RefState): boolean {
  if (a.mask !== mask || a.state.size !== s.size) return false;
  for (const [name, r] of s) {
    const o = a.state.get(name);
    if (!o || !sameCells(o, r)) return false;
  }
  return true;
}

/**
 * The states seen so far, exactly: bucketed by hash, compared in full within a bucket (building a
 * string key of every cell was the oracle's hottest spot).
 */
class SeenStates {
  private readonly buckets = new Map<number, ExploredState[]>();

  /** Adds the state unless it was seen; returns whether it was new. */
  add(st: ExploredState): boolean {
    const h = stateHash(st.mask, st.state);
    const bucket = this.buckets.get(h);
    if (!bucket) {
      this.buckets.set(h, [st]);
      return true;
    }
    for (const o of bucket) if (sameState(o, st.mask, st.state)) return false;
    bucket.push(st);
    return true;
  }
}

/**
 * Every state reachable by a real-time-consistent linearization of the mutating ops. An op that
 * failed or did not finish may have had its effect or not: both are explored.
 */
export function exploreStates(initial: RefState, history: readonly OpRecord[], budget = 50_000): Exploration {
  // The first 30 in the scenario's order (tags follow it), not in the order they started: which ops
  // are judged must not depend on how two independent starts were interleaved (src/litmus/contention.ts).
  const ops = history
    .filter((o) => o.effects.length > 0 || o.ret === null)
    .sort((a, b) => a.tag - b.tag)
    .slice(0, 30);
  const n = ops.length;
  const preds = ops.map((b) => {
    let m = 0;
    ops.forEach((a, i) => {
      if (a !== b && a.ret !== null && a.end < b.start) m |= 1 << i;
    });
    return m;
  });
  const seen = new SeenStates();
  const states: ExploredState[] = [];
  const stack: ExploredState[] = [{ mask: 0, state: initial }];
  let truncated = false;
  while (stack.length > 0) {
    const cur = stack.pop() as ExploredState;
    if (!seen.add(cur)) continue;
    states.push(cur);
    if (states.length > budget) {
      truncated = true;
      break;
    }
    for (let i = 0; i < n; i++) {
      const bit = 1 << i;
      if (cur.mask & bit || (preds[i] & cur.mask) !== preds[i]) continue;
      const op = ops[i];
      let s: RefState | null = cur.state;
      for (const e of op.effects) {
        s = applyEffect(s, e);
        if (!s) break;
      }
      if (s) stack.push({ mask: cur.mask | bit, state: s });
      // A failed or unfinished op may have done nothing at all.
      if (op.ret === null || op.ret < 0) stack.push({ mask: cur.mask | bit, state: cur.state });
    }
  }
  return { ops, states, truncated };
}

export function fullMask(ex: Exploration): number {
  return ex.ops.length >= 31 ? -1 : (1 << ex.ops.length) - 1;
}
