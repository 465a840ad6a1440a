/**
 * The sequential reference model the oracles consult (Porcupine's idea: the checker knows the
 * system only through a tiny sequential model, its Init and Step). A state maps each region (a
 * file, a named anonymous buffer, or a MAP_PRIVATE mapping) to its size and cells. `applyEffect` is
 * the specification of every mutating op: what a byte array would hold after it, with no
 * concurrency at all. The checker that orders the ops is src/check/linearize.ts.
 */
import { allocCells, TAG_ZERO } from '../block/data.js';
import type { Effect } from './history.js';

/**
 * A MAP_PRIVATE mapping of `file` at `fileOff`: a page the mapping has not copied yet shows the
 * file (a read fault maps the page cache folio read-only, and punch, collapse or a later write of
 * the file show through it); the first store to a page copies the file's page there
 * (do_cow_fault / wp_page_copy) and from then on the page is the mapping's own. truncate drops the
 * copies past the new EOF (truncate_pagecache: unmap_mapping_range(..., even_cows=1)); a hole punch
 * keeps them (truncate_pagecache_range: "hole-punching should not remove private COWed pages").
 * Collapse and insert: shiftCows.
 */
export interface PrivateMap {
  file: string;
  fileOff: number;
  pageSize: number;
  /** cow[i] = 1: page i of the mapping is a private copy (its cells are the mapping's own). */
  cow: Uint8Array;
}

export interface Region {
  size: number;
  cells: Uint32Array;
  /** Set for a MAP_PRIVATE mapping of a file (size = the mapping's length). */
  priv?: PrivateMap;
}
export type RefState = Map<string, Region>;

/** A pin's latch: not pinned (or pinned the mapping's copy, or released), pinned the file's folio. */
const EMPTY: Region = { size: 0, cells: allocCells(0) };
const PINNED_FILE: Region = { size: 2, cells: allocCells(0) };

function clone(s: RefState): RefState {
  const out: RefState = new Map();
  for (const [k, v] of s) out.set(k, v);
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

/** Byte `pos` of a region as a user access sees it (through a private mapping: copy or file). */
export function cellAt(s: RefState, name: string, pos: number): number {
  const r = region(s, name);
  const p = r.priv;
  if (!p || p.cow[Math.floor(pos / p.pageSize)]) return pos < r.size ? r.cells[pos] : TAG_ZERO;
  const f = region(s, p.file);
  const fp = p.fileOff + pos;
  // Past EOF inside the EOF page the fault maps zeroes (iomap_read_folio zeroes the tail).
  return fp < f.size ? f.cells[fp] : TAG_ZERO;
}

/**
 * What a user access reads from [off, off+len) of a region (a file past EOF reads zeroes): what
 * cellAt gives byte by byte, copied a page at a time (a page is the copy's or the file's whole).
 */
function readUser(s: RefState, name: string, off: number, len: number): Uint32Array {
  const r = region(s, name);
  const p = r.priv;
  if (!p) return readCells(r, off, len);
  const out = allocCells(len);
  const f = region(s, p.file);
  for (let i = 0; i < len; ) {
    const pos = off + i;
    const page = Math.floor(pos / p.pageSize);
    const n = Math.min(len - i, (page + 1) * p.pageSize - pos);
    if (p.cow[page]) copyInto(out, i, r, pos, n);
    else copyInto(out, i, f, p.fileOff + pos, n);
    i += n;
  }
  return out;
}

/**
 * What a DMA's read of its source gets: through the mapping as it is now, or, pinned, the file's
 * bytes behind the private mapping even if a store has copied the page since (the pin took the
 * page cache's folio, which the file's later changes reach).
 */
function readPinned(s: RefState, e: Extract<Effect, { k: 'snap' }>): Uint32Array {
  if (!e.pinned) return readUser(s, e.src, e.srcOff, e.len);
  const p = region(s, e.src).priv as PrivateMap;
  const out = allocCells(e.len);
  copyInto(out, 0, region(s, p.file), p.fileOff + e.srcOff, e.len);
  return out;
}

/** Cells [from, from+n) of a region into `out` at `at`; bytes past its size stay zero (TAG_ZERO). */
function copyInto(out: Uint32Array, at: number, r: Region, from: number, n: number): void {
  const hi = Math.min(from + n, r.size, r.cells.length);
  if (hi > from) out.set(r.cells.subarray(from, hi), at);
}

/**
 * A store into a private mapping: each page not yet copied gets the file's page first
 * (wp_page_copy's copy is of the folio the PTE maps, the file's), then the bytes land in the copy.
 */
function storePrivate(s: RefState, name: string, off: number, src: Uint32Array): Region {
  const r = breakCow(s, name, off, src.length);
  const cells = r.cells;
  cells.set(src.subarray(0, Math.max(0, Math.min(src.length, r.size - off))), off);
  return r;
}

/**
 * The pages of a private mapping covering [off, off+len) become the mapping's own, each a copy of
 * the file's page as it is now (wp_page_copy, at a store or at GUP's FOLL_WRITE pin); the region
 * returned has fresh cells, so the caller may write into them.
 */
function breakCow(s: RefState, name: string, off: number, len: number): Region {
  const r = region(s, name);
  const p = r.priv as PrivateMap;
  const cells = resized(r.cells, r.size);
  const cow = p.cow.slice();
  const ps = p.pageSize;
  const last = Math.floor((off + len - 1) / ps);
  const file = region(s, p.file);
  for (let i = Math.floor(off / ps); i <= last && len > 0; i++) {
    if (cow[i]) continue;
    // The page as cellAt shows it uncopied: the file's, zeroes past its EOF.
    const end = Math.min(r.size, (i + 1) * ps);
    if (end > i * ps) {
      cells.fill(TAG_ZERO, i * ps, end);
      copyInto(cells, i * ps, file, p.fileOff + i * ps, end - i * ps);
    }
    cow[i] = 1;
  }
  return { size: r.size, cells, priv: { ...p, cow } };
}

/**
 * unmap_mapping_range(..., even_cows=1) from file offset `from` on: the private copies of pages
 * past it go (pages wholly past `from`; `round` says how a partial page counts), and those pages
 * show the file again.
 */
function dropCows(s: RefState, file: string, from: number, round: (pages: number) => number): void {
  for (const [name, r] of s) {
    const p = r.priv;
    if (!p || p.file !== file) continue;
    const firstGone = round(from / p.pageSize) - p.fileOff / p.pageSize;
    if (firstGone >= p.cow.length || !p.cow.subarray(Math.max(0, firstGone)).some((c) => c !== 0)) continue;
    const cow = p.cow.slice();
    cow.fill(0, Math.max(0, firstGone));
    s.set(name, { size: r.size, cells: r.cells, priv: { ...p, cow } });
  }
}

/** truncate_pagecache's even_cows: private copies of pages wholly past the new EOF go. */
function dropCowsPast(s: RefState, file: string, size: number): void {
  dropCows(s, file, size, Math.ceil);
}

/**
 * What collapse and insert do to private COW copies of the file's pages; Linux differs by
 * filesystem, so the checker tries both (linearize.ts, cowVariants):
 * - ext4 (and the model, src/fs/fallocate.ts) drops every copy from the page holding `off` on,
 *   twice: before the page cache goes, and after (the checker's unmapcows step, then the shift):
 *   ext4_collapse_range and ext4_insert_range call truncate_pagecache(inode, round_down(offset,
 *   PAGE_SIZE)), even_cows; ext4_prepare_falloc, which later took that code over, says why: "For
 *   insert range and collapse range, COWed private pages should be removed since the file's
 *   logical offset will be changed".
 * - XFS keeps them: xfs_prepare_shift's xfs_flush_unmap_range ends in truncate_pagecache_range
 *   (no even_cows). A collapse then shrinks i_size through xfs_falloc_setsize, truncate_setsize,
 *   truncate_pagecache(new_size): the copies past the new EOF go, as in a truncate. An insert
 *   grows i_size first; no copy lies past the old EOF (a fault there is SIGBUS), so all stay.
 */
function shiftCows(s: RefState, e: Extract<Effect, { k: 'collapse' | 'insert' }>, newSize: number): void {
  if (!e.keepCows) dropCows(s, e.region, e.off, Math.floor);
  else if (e.k === 'collapse') dropCowsPast(s, e.region, newSize);
  // Emptied once the op is done: a latch no one will read again must not split states.
  if (e.latch) s.set(e.latch, { size: 0, cells: allocCells(0) });
}

/** A store or a user-buffer fill: a shared file mapping changes file bytes only inside i_size. */
function store(s: RefState, name: string, off: number, src: Uint32Array, clip: boolean): void {
  const r = region(s, name);
  s.set(name, r.priv ? storePrivate(s, name, off, src) : writeCells(r, off, src, !clip));
}

/**
 * A copy through a user buffer. O_DIRECT (and anything without `pieces`) reads the whole source
 * then writes: the checker orders a DMA's read itself (linearize.ts). A buffered copy goes a file
 * page at a time, ascending, so a buffer that maps the file's own pages ahead of the copy reads
 * bytes an earlier piece just wrote: `pwrite f 1p 2p buf=m` (m maps f at 0) leaves f's page 0
 * in pages 1 and 2 (iomap_write_iter: per folio, copy_folio_from_iter_atomic; filemap_read: per
 * folio, copy_folio_to_iter). Inside a piece source and destination may overlap; the piece is
 * taken whole (memmove), as the model's copy does.
 */
function copyPieces(s: RefState, e: Extract<Effect, { k: 'copy' }>): void {
  const fileOff = e.dstIsStore ? e.srcOff : e.dstOff;
  const pieces = e.pieces ? pagePieces(fileOff, e.len, e.pieces) : [{ at: 0, len: e.len }];
  for (const { at, len } of pieces)
    store(s, e.dst, e.dstOff + at, readUser(s, e.src, e.srcOff + at, len), e.dstIsStore);
}

/**
 * [off, off+len) of a file cut where its pages begin (a buffered copy's folios, ascending): each
 * piece's start relative to `off`, and its length.
 */
export function pagePieces(off: number, len: number, pageSize: number): { at: number; len: number }[] {
  const out: { at: number; len: number }[] = [];
  for (let at = 0; at < len; ) {
    const n = Math.min(len - at, pageSize - ((off + at) % pageSize));
    out.push({ at, len: n });
    at += n;
  }
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
  // The XFS variant of an op whose ext4 first unmap (unmapcows) already ran: no such order.
  if ((e.k === 'collapse' || e.k === 'insert') && e.latch && e.keepCows && region(s0, e.latch).size)
    return null;
  // A read of the file behind the page is the DMA's only if the pin took the file's folio.
  if (e.k === 'snap' && e.pinned && region(s0, e.pinned).size !== PINNED_FILE.size) return null;
  if (e.k === 'claim') {
    const way = region(s0, e.latch).size;
    if (way === e.way) return s0;
    if (way !== 0) return null;
    const s = clone(s0);
    s.set(e.latch, { size: e.way, cells: allocCells(0) });
    return s;
  }
  const s = clone(s0);
  switch (e.k) {
    case 'write':
      s.set(e.region, writeCells(region(s, e.region), e.off, e.cells, true));
      break;
    case 'store':
      store(s, e.region, e.off, e.cells, true);
      break;
    case 'copy':
      copyPieces(s, e);
      break;
    case 'snap':
      s.set(e.latch, { size: e.len, cells: readPinned(s, e) });
      break;
    case 'pin': {
      // Emptied once released: a pin no one will read again must not split states.
      const p = region(s, e.region).priv as PrivateMap;
      // A pin of the copy leaves the latch as it was: the DMA then reads through the mapping, as an
      // unpinned read does (a copy stays the mapping's until a truncate drops it, and a pin taken
      // after that drop finds the file's folio again).
      if (e.release) s.set(e.latch, EMPTY);
      else if (!p.cow[Math.floor(e.off / p.pageSize)]) s.set(e.latch, PINNED_FILE);
      break;
    }
    case 'put': {
      // Emptied once written out: a latch no one will read again must not split states.
      const latch = region(s, e.latch);
      store(s, e.dst, e.dstOff, latch.cells, e.dstIsStore);
      s.set(e.latch, { size: latch.size, cells: allocCells(latch.size) });
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
    case 'cowbreak':
      s.set(e.region, breakCow(s, e.region, e.off, e.len));
      break;
    case 'unmapcows':
      dropCows(s, e.region, e.off, Math.floor);
      s.set(e.latch, { size: 1, cells: allocCells(1) });
      break;
    case 'collapse': {
      const r = region(s, e.region);
      const cells = allocCells(r.size - e.len);
      cells.set(r.cells.subarray(0, e.off));
      cells.set(r.cells.subarray(e.off + e.len, r.size), e.off);
      s.set(e.region, { size: r.size - e.len, cells });
      shiftCows(s, e, r.size - e.len);
      break;
    }
    case 'insert': {
      const r = region(s, e.region);
      const cells = allocCells(r.size + e.len);
      cells.set(r.cells.subarray(0, e.off));
      cells.set(r.cells.subarray(e.off, r.size), e.off + e.len);
      s.set(e.region, { size: r.size + e.len, cells });
      shiftCows(s, e, r.size + e.len);
      break;
    }
    case 'truncate': {
      const r = region(s, e.region);
      s.set(e.region, { size: e.size, cells: resized(r.cells, e.size) });
      dropCowsPast(s, e.region, e.size);
      break;
    }
  }
  return s;
}

/** A byte range of a region an effect reads or writes; `end` Infinity: the rest of the region. */
export interface Span {
  region: string;
  start: number;
  end: number;
}

/**
 * The bytes an effect's outcome depends on or changes, given the initial state (for what each
 * private mapping maps). Over-approximated: a private mapping's access stands for its whole pages
 * and the file pages behind them (the copy made at the first store reads the whole file page);
 * a truncate, collapse or insert also stands for every private mapping of its file (each may drop
 * their copies).
 * A file whose size may change is widened to the whole file by the caller (linearize.ts).
 */
export function effectSpans(initial: RefState, e: Effect): Span[] {
  switch (e.k) {
    case 'write':
    case 'store':
      return userSpans(initial, e.region, e.off, e.cells.length);
    case 'copy':
      return [...userSpans(initial, e.src, e.srcOff, e.len), ...userSpans(initial, e.dst, e.dstOff, e.len)];
    case 'snap':
    case 'pin':
    case 'put':
    case 'cowbreak':
    case 'unmapcows':
    case 'claim':
      return []; // made by the checker from a copy or a shift, whose spans stand for them
    case 'punch':
    case 'zero':
    case 'alloc':
      return [{ region: e.region, start: e.off, end: e.off + e.len }];
    case 'collapse':
    case 'insert':
    case 'truncate': {
      const out: Span[] = [{ region: e.region, start: 0, end: Number.POSITIVE_INFINITY }];
      for (const [name, r] of initial)
        if (r.priv?.file === e.region) out.push({ region: name, start: 0, end: Number.POSITIVE_INFINITY });
      return out;
    }
  }
}

function userSpans(initial: RefState, name: string, off: number, len: number): Span[] {
  const p = initial.get(name)?.priv;
  if (!p) return [{ region: name, start: off, end: off + len }];
  const behind = pagesBehind(p, off, len);
  return [{ region: name, start: behind.start - p.fileOff, end: behind.end - p.fileOff }, behind];
}

/** The file's pages behind [off, off+len) of a private mapping. */
export function pagesBehind(p: PrivateMap, off: number, len: number): Span {
  const start = Math.floor(off / p.pageSize) * p.pageSize;
  const end = Math.ceil((off + len) / p.pageSize) * p.pageSize;
  return { region: p.file, start: p.fileOff + start, end: p.fileOff + end };
}

/**
 * Does the effect change the size of a region (given the sizes it starts from)? A write or an
 * extending fallocate past the initial size, and collapse, insert and truncate, may: those files
 * are judged as a whole (linearize.ts).
 */
export function mayResize(initial: RefState, e: Effect): string | null {
  const size = (name: string) => initial.get(name)?.size ?? 0;
  switch (e.k) {
    case 'write':
      return e.off + e.cells.length > size(e.region) ? e.region : null;
    case 'copy':
      return !e.dstIsStore && !initial.get(e.dst)?.priv && e.dstOff + e.len > size(e.dst) ? e.dst : null;
    case 'punch':
    case 'zero':
    case 'alloc':
      return !e.keepSize && e.off + e.len > size(e.region) ? e.region : null;
    case 'collapse':
    case 'insert':
    case 'truncate':
      return e.region;
    case 'store':
    case 'snap':
    case 'pin':
    case 'put':
    case 'cowbreak':
    case 'unmapcows':
    case 'claim':
      return null;
  }
}
