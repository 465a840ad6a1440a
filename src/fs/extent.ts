/**
 * The inode's block map: for each logical block, a hole, an unwritten extent (allocated, reads as
 * zeroes until converted at I/O completion), or a written extent.
 *
 * Departures from Linux: kept as one entry per block rather than as extent records (files in
 * scenarios are a few blocks long); lookups return maximal runs, as ->iomap_begin does, so the
 * paths above see extents. Delayed allocation is not modelled: buffered writes and page_mkwrite
 * allocate unwritten blocks at once (ext4's nodelalloc/dioread_nolock behaviour) and writeback
 * converts them; XFS's delalloc would only move the allocation to writeback time, and the iomap
 * "Direct I/O collision with buffered writes" -EIO on a delalloc extent is not reproduced.
 */

import { ENOSPC } from '../sim/errno.js';
import { indexedObjectIds, isRecording, objectId, record } from '../sim/footprint.js';

export enum BlockState {
  Hole = 0,
  Unwritten = 1,
  Written = 2,
}

export const BLOCK_STATE_NAMES = ['hole', 'unwritten', 'written'] as const;

export interface Mapping {
  state: BlockState;
  /** Device block of the first block of the run (-1 for holes). */
  pblk: number;
  /** First logical block and length of the run. */
  lblk: number;
  len: number;
}

const ALLOCATOR = objectId('block allocator');

/** The block allocator: lowest free block first, ENOSPC when none is left. */
export class Allocator {
  private readonly free: boolean[];
  constructor(
    nblocks: number,
    readonly firstBlock = 0,
  ) {
    this.free = new Array(nblocks).fill(true);
    for (let i = 0; i < firstBlock; i++) this.free[i] = false;
  }

  /** Allocates one block; returns its number or -ENOSPC. */
  alloc(): number {
    record(ALLOCATOR, true);
    const b = this.free.indexOf(true);
    if (b < 0) return -ENOSPC;
    this.free[b] = false;
    return b;
  }

  release(pblk: number): void {
    record(ALLOCATOR, true);
    if (this.free[pblk]) throw new Error(`double free of block ${pblk}`);
    this.free[pblk] = true;
  }

  get freeCount(): number {
    return this.free.filter(Boolean).length;
  }
}

/**
 * The per-block map. Its footprint (src/sim/footprint.ts) is keyed as a RecordingMap's: a block's
 * lookup reads that block's object and the map's, a block's change writes the block's object and
 * reads the map's, so conversions and allocations of different blocks commute (writeback's
 * completions convert one block each: iomap_finish_ioend → xfs_end_ioend / ext4_convert_unwritten_
 * extents, on the ioend's own range). What sees more than one block writes the whole map: its
 * length, and punch, collapse, insert and truncate. A block past the end reads as a hole whatever
 * the length, so growing the arrays changes nothing another block's lookup sees.
 */
export class ExtentMap {
  private states: BlockState[] = [];
  private pblks: number[] = [];
  /** Its footprint object (the inode sets it); ANYTHING until then. */
  obj = -1;
  private blockIds: ((lblk: number) => number) | null = null;

  /** Block lblk's footprint object (ANYTHING while the map has none). */
  private blockObj(lblk: number): number {
    if (this.obj < 0) return -1;
    if (!this.blockIds) {
      const obj = this.obj;
      this.blockIds = indexedObjectIds((i) => `extent map ${obj} block ${i}`);
    }
    return this.blockIds(lblk);
  }

  private recordBlock(lblk: number, write: boolean): void {
    if (!isRecording()) return;
    record(this.blockObj(lblk), write);
    record(this.obj, false);
  }

  get length(): number {
    record(this.obj, true);
    return this.states.length;
  }

  state(lblk: number): BlockState {
    this.recordBlock(lblk, false);
    return lblk < this.states.length ? this.states[lblk] : BlockState.Hole;
  }

  pblk(lblk: number): number {
    this.recordBlock(lblk, false);
    return lblk < this.pblks.length ? this.pblks[lblk] : -1;
  }

  /** The run of blocks with the same state (and contiguous pblks) starting at lblk, at most maxLen. */
  lookup(lblk: number, maxLen: number): Mapping {
    const state = this.state(lblk);
    const pblk = this.pblk(lblk);
    let len = 1;
    while (len < maxLen) {
      const s = this.state(lblk + len);
      if (s !== state) break;
      if (pblk >= 0 && this.pblk(lblk + len) !== pblk + len) break;
      len++;
    }
    return { state, pblk, lblk, len };
  }

  /**
   * A copy of the map for the crash model (what a journal commit made durable): not an access
   * of the run, so it records no footprint and cannot change which schedules are explored.
   */
  snapshot(): { states: readonly BlockState[]; pblks: readonly number[] } {
    return { states: this.states.slice(), pblks: this.pblks.slice() };
  }

  set(lblk: number, state: BlockState, pblk: number): void {
    this.recordBlock(lblk, true);
    while (this.states.length <= lblk) {
      this.states.push(BlockState.Hole);
      this.pblks.push(-1);
    }
    this.states[lblk] = state;
    this.pblks[lblk] = pblk;
  }

  /** Removes the mapping of [lblk, lblk+len) and returns the device blocks it freed. */
  punch(lblk: number, len: number): number[] {
    record(this.obj, true);
    const freed: number[] = [];
    for (let b = lblk; b < lblk + len && b < this.states.length; b++) {
      if (this.pblks[b] >= 0) freed.push(this.pblks[b]);
      this.states[b] = BlockState.Hole;
      this.pblks[b] = -1;
    }
    return freed;
  }

  /** FALLOC_FL_COLLAPSE_RANGE on the map: drop [lblk, lblk+len) and shift the rest down. */
  collapse(lblk: number, len: number): number[] {
    const freed = this.punch(lblk, len);
    this.states.splice(lblk, len);
    this.pblks.splice(lblk, len);
    return freed;
  }

  /** FALLOC_FL_INSERT_RANGE on the map: shift [lblk, end) up by len, leaving a hole. */
  insert(lblk: number, len: number): void {
    record(this.obj, true);
    if (lblk >= this.states.length) return;
    // No spread of `len` arguments: a large insert would overflow the call stack.
    this.states = [
      ...this.states.slice(0, lblk),
      ...new Array<BlockState>(len).fill(BlockState.Hole),
      ...this.states.slice(lblk),
    ];
    this.pblks = [
      ...this.pblks.slice(0, lblk),
      ...new Array<number>(len).fill(-1),
      ...this.pblks.slice(lblk),
    ];
  }

  /** Truncate down: drops mappings at and beyond lblk; returns the freed device blocks. */
  truncate(lblk: number): number[] {
    const freed = this.punch(lblk, Math.max(0, this.states.length - lblk));
    this.states.length = Math.min(this.states.length, lblk);
    this.pblks.length = Math.min(this.pblks.length, lblk);
    return freed;
  }

  describe(): string {
    return this.states
      .map((s, i) => `${i}:${BLOCK_STATE_NAMES[s]}${this.pblks[i] >= 0 ? '@' + this.pblks[i] : ''}`)
      .join(' ');
  }
}
