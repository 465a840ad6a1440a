/**
 * Provenance-tagged bytes. A byte of the model is a 32-bit cell: the id of the operation that
 * produced it in the high 24 bits, the byte value in the low 8. Oracles compare ids (which write a
 * read saw); fsx-style checks compare values. Arrays of cells are copied with subarray/set.
 */
export type Cells = Uint32Array;

/** Zeroes that no operation wrote: holes, unwritten extents, EOF zeroing, fresh anonymous memory. */
export const TAG_ZERO = 0;
/** The contents a scenario's file had before the tasks started. */
export const TAG_INIT = 1;
/** What a never-written or freed block holds on the device: it must never reach a reader. */
export const TAG_GARBAGE = 2;
/** The first id given to an operation of a task. */
export const TAG_FIRST_OP = 3;

export function cell(tag: number, value: number): number {
  return ((tag << 8) | (value & 0xff)) >>> 0;
}

export function cellTag(c: number): number {
  return c >>> 8;
}

export function cellValue(c: number): number {
  return c & 0xff;
}

/** The initial content byte of a file at `pos`: distinct values so a shifted byte is visible. */
export function initCell(pos: number): number {
  return cell(TAG_INIT, (pos * 7 + 1) & 0xff);
}

export function garbageCell(): number {
  return cell(TAG_GARBAGE, 0xa5);
}

/**
 * Cells are carved out of shared slabs rather than allocated one array each: a typed array of more
 * than 64 bytes gets its own off-heap backing store in V8, and that allocation (with its external
 * memory accounting) cost ~2.5 µs for even a 64-cell folio — a sixth of a random run went to the
 * block device's media array alone (measured with --cpu-prof on dio-write-vs-mmap-store). A view on
 * a slab costs a heap object. Slabs are never reused, so a new view is zeroed like a new array;
 * a slab is freed once no view of it is left. Views share one ArrayBuffer, so code must go through
 * `byteOffset`, never assume `cells.buffer` is its own.
 */
const SLAB_CELLS = 1 << 16;
/** Requests above this get an array of their own (a slab would be mostly wasted). */
const SLAB_MAX_REQUEST = SLAB_CELLS >> 3;
let slab = new Uint32Array(0);
let slabUsed = 0;

/**
 * Copies src[from, from+n) to dst at `at`, by a loop: for the few dozen cells of a sector or a
 * page, a subarray view and TypedArray.set cost more than the copy (measured in fileViews).
 */
export function copyCells(dst: Cells, at: number, src: Cells, from: number, n: number): void {
  for (let i = 0; i < n; i++) dst[at + i] = src[from + i];
}

export function allocCells(len: number): Cells {
  if (len > SLAB_MAX_REQUEST) return new Uint32Array(len);
  if (slabUsed + len > slab.length) {
    slab = new Uint32Array(SLAB_CELLS);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + len);
  slabUsed += len;
  return out;
}
