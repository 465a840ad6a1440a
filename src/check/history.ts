/**
 * The history of a run, as the oracles see it: every operation a task issued, with its
 * start/end on a logical clock (one tick per start or end, so `a.end < b.start` means "a completed
 * before b was issued"), its result, what it changed (as an effect on a sequential reference
 * model of the files and buffers), and what it returned (for reads).
 */

/**
 * What an op changed, as an effect on the reference model (src/check/refmodel.ts). A region is a
 * file (by name), a named anonymous buffer, or a MAP_PRIVATE mapping (by its name; offsets are then
 * into the mapping). A store through a shared mapping names the file and the file offset.
 */
export type Effect =
  /**
   * pieces: a buffered write, which copies one folio at a time (iomap_write_iter,
   * generic_perform_write: each folio locked, filled by copy_folio_from_iter_atomic, unlocked
   * before the next), so a reader that takes no i_rwsem sees its page 0 done and its page 1 not
   * yet: the file's page size. Without it (O_DIRECT) the write is one step.
   * bios: an O_DIRECT write (from a private buffer, page-aligned: world.ts, privateBuffer), cut
   * where its bios may end, as a copy's below; a page cache fill racing it may see each part
   * landed or not (src/check/linearize.ts, `tornFill`).
   */
  | {
      k: 'write';
      region: string;
      off: number;
      cells: Uint32Array;
      pieces?: number;
      bios?: { block: number; page: number };
    }
  | { k: 'store'; region: string; off: number; cells: Uint32Array }
  /**
   * Bytes moved through a user buffer: src and dst are a file (behind a shared mapping), a private
   * mapping or an anonymous buffer. dstIsStore: the bytes land in the buffer (a read's copy-out),
   * so through a shared mapping only inside i_size; otherwise they are a write that may extend.
   * dma: an O_DIRECT write, whose device reads the buffer at some point during the op, not
   * atomically with the file's change (src/check/linearize.ts splits it in two).
   * pieces: a buffered copy, which moves one file page at a time in ascending order, each piece
   * read from the buffer as the previous pieces left it (iomap_write_iter copies per folio with
   * copy_folio_from_iter_atomic; filemap_read copies per folio with copy_folio_to_iter): the
   * file's page size. The pieces end at page boundaries of the file's offset (dst for a write,
   * src for a read).
   */
  | {
      k: 'copy';
      src: string;
      srcOff: number;
      dst: string;
      dstOff: number;
      len: number;
      dstIsStore: boolean;
      dma?: boolean;
      /**
       * O_DIRECT (a write's dma, a read's copy): where the model's bios split the transfer, each
       * done by the device at its own moment: the file's block boundaries (iomap hands out an
       * extent at a time) and the buffer's page boundaries (bio_iov_iter_get_pages: a segment per
       * pinned page).
       */
      bios?: { block: number; page: number };
      pieces?: number;
    }
  /**
   * The checker's halves of a dma copy: the buffer read into a latch, the latch written out.
   * pinned: the latch of the pin of its page (a pin effect); the snap then reads the file's bytes
   * behind a MAP_PRIVATE buffer whatever the mapping shows now, which is legal only if the pin found
   * the page not copied (the DMA reads the folio GUP pinned: linearize.ts, pinnedParts).
   */
  | { k: 'snap'; src: string; srcOff: number; len: number; latch: string; pinned?: string }
  /**
   * The checker's GUP pin of an O_DIRECT write's source page in a MAP_PRIVATE mapping: a short-term
   * pin without FOLL_WRITE, so a page not copied yet pins the file's folio, and a later COW break of
   * the mapping does not move it (gup_must_unshare, mm/internal.h, unshares only anonymous pages and
   * FOLL_LONGTERM pins). Its latch records whether it found the file's folio (size 2; a copy leaves it empty);
   * release empties it (the op's put: no snap reads it after).
   */
  | { k: 'pin'; region: string; off: number; latch: string; release?: boolean }
  /**
   * The checker's COW break of an O_DIRECT read into a MAP_PRIVATE mapping: GUP with FOLL_WRITE
   * copies each page not yet the mapping's own (wp_page_copy) when it pins it, before the DMA
   * lands, so the copy holds the file's page as it was then (refmodel.ts, breakCow).
   */
  | { k: 'cowbreak'; region: string; off: number; len: number }
  | { k: 'put'; latch: string; dst: string; dstOff: number; dstIsStore: boolean }
  /**
   * The checker's choice between an O_DIRECT write's two ways (linearize.ts, fallbackEvents):
   * `way` 1 the DMA, 2 the buffered fallback. The first claim of the op's latch decides; a claim of
   * the other way is then impossible.
   */
  | { k: 'claim'; latch: string; way: 1 | 2 }
  | { k: 'punch' | 'zero' | 'alloc'; region: string; off: number; len: number; keepSize: boolean }
  /**
   * keepCows: the private COW copies of the file's pages survive the shift, as in XFS (the
   * checker's variant); without it they go from the page holding `off` on, as in ext4 and the
   * model (refmodel.ts, shiftCows). latch: the checker's unmapcows step of the same op, if any.
   */
  | { k: 'collapse' | 'insert'; region: string; off: number; len: number; keepCows?: boolean; latch?: string }
  /**
   * The checker's first step of an ext4 collapse or insert (truncate_pagecache's first
   * unmap_mapping_range, even_cows): the file's private copies from the page holding `off` on go
   * before the shift; `latch` marks it done (the XFS variant of the same op is then impossible).
   */
  | { k: 'unmapcows'; region: string; off: number; latch: string }
  /**
   * block: a truncate down to `size` zeroes the rest of the new EOF block in the page cache first,
   * with i_size unchanged, then moves i_size and zeroes the rest of the EOF page (xfs_setattr_size:
   * xfs_truncate_page → iomap_truncate_page, then truncate_setsize → truncate_inode_partial_folio):
   * the filesystem's block size. Without it the truncate is one step.
   */
  | { k: 'truncate'; region: string; size: number; block?: number };

/** What a read returned, to be checked against the states it may have observed. */
export interface Observation {
  region: string;
  off: number;
  cells: Uint32Array;
}

export interface OpRecord {
  /** Provenance tag of the bytes this op writes. */
  readonly tag: number;
  readonly task: string;
  /** The op in litmus syntax, e.g. `pwrite f 0 32 direct`. */
  readonly label: string;
  readonly line: number;
  start: number;
  end: number;
  /** Bytes, 0, or -errno; null while in flight (a run that ended in a deadlock). */
  ret: number | null;
  effects: Effect[];
  /**
   * Other effect lists the op may have had instead of `effects`, where Linux leaves the outcome
   * open (an O_DIRECT read past EOF zero-fills some tail of its buffer): the checker tries each.
   */
  alternatives?: Effect[][];
  observed: Observation | null;
  /** fsync/fdatasync: the file it made durable (when ret === 0). */
  synced: string | null;
  /** msync: the byte range of `synced` it covered (fsync covers the whole file: null). */
  syncedRange?: [number, number];
}

export interface History {
  readonly ops: OpRecord[];
  clock: number;
}

export function tick(h: History): number {
  return ++h.clock;
}

/** Did `a` complete before `b` started? (Real time orders them; an op in flight completed never.) */
export function completedBefore(a: OpRecord, b: OpRecord): boolean {
  return a.ret !== null && a.end < b.start;
}

/** Two distinct ops that real time does not order: each may take effect inside the other. */
export function concurrent(a: OpRecord, b: OpRecord): boolean {
  return a !== b && !completedBefore(a, b) && !completedBefore(b, a);
}

/** Every effect an op may have had: its effects and each alternative's (a footprint covers them all). */
export function allEffects(o: OpRecord): Effect[] {
  return o.alternatives ? [...o.effects, ...o.alternatives.flat()] : o.effects;
}
