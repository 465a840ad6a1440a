/**
 * bcachefs and bcachefs-fair: the pagecache lock of seed 000 (ei_pagecache_lock, a
 * two_state_shared_lock: src/sync/twostate.ts) and the recursion guard of seed 004
 * (current->faults_disabled_mapping), as in fs/bcachefs of Linux 6.7-6.17 (fs-io-direct.c,
 * fs-io-pagecache.c, fs-io-buffered.c, fs-io.c; the paths are in src/fs/bcachefs/).
 *
 * Lock ordering (fs/bcachefs/fs.h, fs-io-pagecache.c):
 *   i_rwsem                        (exclusive: write(2), O_DIRECT write — dropped right after
 *                                   "block" unless the write extends the file —, fallocate,
 *                                   truncate; never taken by reads or faults)
 *     i_dio_count                  (inode_dio_wait: fallocate, truncate — before "block")
 *       ei_pagecache_lock "block"  (O_DIRECT write from before its shoot-down to the end of the
 *                                   I/O, across GUP; fallocate; truncate)
 *         mmap_lock                (GUP of the O_DIRECT buffer)
 *           ei_pagecache_lock "add" of another inode, only in address order
 *                                  (bch2_page_fault: `fdm > mapping` → trylock, else drop
 *                                   "block", wait, retake, SIGBUS and retry)
 *   mmap_lock
 *     ei_pagecache_lock "add"      (bch2_page_fault around filemap_fault; bch2_page_mkwrite)
 *       invalidate_lock shared     (filemap_fault / filemap_create_folio adding a folio: generic)
 *         folio_lock
 *   i_rwsem → ei_pagecache_lock "add" (buffered write: bch2_buffered_write)
 *   ei_pagecache_lock "add" → mmap_lock (buffered read: filemap_read's copy_to_user may fault,
 *                                   taking "add" again: recursive, never waits with 'original')
 * "add" and "block" are each shared within themselves: O_DIRECT writes run in parallel with each
 * other (seed 000: "That way the DIO path can use it without singlethreading writes to a single
 * file") and faults with faults; the two states exclude each other, so no page can be added to
 * the cache while an O_DIRECT write, a fallocate or a truncate holds "block" (seed 004: "the lock
 * needs to prevent pages from being _added_ to the page cache").
 *
 * Kernel functions mirrored:
 *   bch2_read_iter        buffered: add_get, filemap_read, add_put; O_DIRECT: bch2_direct_IO_read
 *                         (no pagecache lock, filemap_write_and_wait_range first)
 *   bch2_write_iter       O_DIRECT: bch2_direct_write; else inode_lock, bch2_buffered_write
 *                         (add_get around the whole copy loop, fault-in included)
 *   bch2_direct_write     see src/fs/bcachefs/fs-io-direct.ts
 *   bch2_page_fault       see src/fs/bcachefs/fs-io-pagecache.ts: SIGBUS when the fault is on the
 *                         mapping our own O_DIRECT write blocks
 *   bch2_page_mkwrite     add_get around lock, check, dirty
 *   bch2_fallocate_dispatch  inode_lock → inode_dio_wait → block_get → the mode
 *   bchfs_truncate        (inode_lock from do_truncate) → inode_dio_wait → block_get
 *   bch2_fsync            write back and wait, flush; errseq
 *
 * What the seeds say and the code settles:
 * - A same-file mmap'd buffer (seed 000: "What happens if the dio call passes in an address from
 *   the same address space?"): the pages are not mapped after the shoot-down, GUP faults,
 *   bch2_page_fault sees fdm == mapping and returns SIGBUS, the write fails with -EFAULT — no
 *   deadlock, no livelock, no buffered fallback (kernel.md §4). The same happens for a disjoint
 *   range of the same file when its pages are not mapped yet: the check is per mapping, not per
 *   range, so Jan Kara's "if the buffer and direct IO range does not overlap, it will just happily
 *   work" (said of GFS2) does not hold for bcachefs.
 * - Fairness (seed 000: "if someone is e.g. heavily faulting pages on a file, direct IO to that
 *   file can be starved indefinitely"): with 'original' fairness it is; `bcachefs-fair` adds Jan
 *   Kara's deadline ("some kind of deadline for a waiter after which it will block acquisitions of
 *   the other lock state"). src/explore/measures.ts measures both on fault-storm-vs-dio.
 *
 * Departures from Linux, and why:
 * - block_bytes(c) is the device's logical block size, and bch2_write writes in place through
 *   unwritten extents: see src/fs/bcachefs/fs-io-direct.ts.
 * - Readahead (bch2_readahead, which takes "add") is not modelled, as in every scheme: a miss
 *   reads exactly the folio it needs, under the "add" of the read or the fault.
 * - fallocate and truncate use the generic bodies (src/fs/fallocate.ts): write back, drop the page
 *   cache of the range, change the block map — the shape of bchfs_fpunch,
 *   bchfs_fcollapse_finsert and bchfs_truncate, on the model's block map instead of the extents
 *   btree. remap_file_range (bch2_lock_inodes) is not modelled: there is no reflink op.
 * - Writes beyond EOF zero the EOF page's tail first (writeChecksZeroEof), as in every scheme here,
 *   under the lock state the write holds ("add" for buffered, "block" for O_DIRECT): the zeroing adds
 *   a page, and no page may be added outside the lock.
 * - bcachefs-fair is not a kernel: the deadline rule is ours (src/sync/twostate.ts), with the
 *   deadline a parameter (bcachefsWithDeadline); `bcachefs-fair` uses DEFAULT_DEADLINE_TICKS.
 */
import {
  bch2InodeInitPagecacheLock,
  bch2PagecacheAddGet,
  bch2PagecacheAddPut,
  bch2PagecacheBlockGet,
  bch2PagecacheBlockPut,
} from '../fs/bcachefs/fs.js';
import { bch2DirectRead, bch2DirectWrite } from '../fs/bcachefs/fs-io-direct.js';
import { bch2PageFault, bch2PageMkwrite } from '../fs/bcachefs/fs-io-pagecache.js';
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import { type FileOperations, type Inode, inodeDioWait } from '../fs/fs.js';
import { iomapFileBufferedWrite, iomapWritepages } from '../fs/iomap/buffered-io.js';
import { filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { genericFsync } from '../fs/sync.js';
import type { Task } from '../sim/task.js';
import type { TwoStateFairness } from '../sync/twostate.js';
import type { Scheme } from './scheme.js';

/**
 * The deadline of `bcachefs-fair`, in virtual ticks: 100, five bio latencies of the default
 * scenario (latency 20) — a few page reads under "add" finish undisturbed, a storm of them does
 * not hold a waiting O_DIRECT write back for longer than that plus one hold.
 */
export const DEFAULT_DEADLINE_TICKS = 100;

/** bch2_read_iter(). */
async function bch2ReadIter(t: Task, inode: Inode, pos: number, len: number, ubuf: number, direct: boolean) {
  if (direct) return bch2DirectRead(t, inode, pos, len, ubuf);
  await bch2PagecacheAddGet(t, inode, 'bch2_read_iter');
  try {
    // After filemap_read: bch2_pagecache_add_put, which records itself.
    return await filemapRead(t, inode, pos, len, ubuf, 'recorded');
  } finally {
    bch2PagecacheAddPut(t, inode);
  }
}

/** bch2_write_iter() buffered: inode_lock, then bch2_buffered_write's "add" around the copy loop. */
async function bch2BufferedWrite(t: Task, inode: Inode, pos: number, len: number, ubuf: number) {
  await inode.iRwsem.downWrite(t, 'bch2_write_iter:inode_lock');
  try {
    await bch2PagecacheAddGet(t, inode, 'bch2_buffered_write');
    try {
      // EOF zeroing adds a page: under "add", like every page the write adds.
      const zerr = await writeChecksZeroEof(t, inode, pos);
      if (zerr) return zerr;
      // After it: bch2_pagecache_add_put and inode_unlock, which record themselves.
      return await iomapFileBufferedWrite(t, inode, pos, len, ubuf, 'recorded');
    } finally {
      bch2PagecacheAddPut(t, inode);
    }
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

/** inode_dio_wait → bch2_pagecache_block_get around `body` (i_rwsem held by the caller). */
async function underBlock(t: Task, inode: Inode, fn: string, body: () => Promise<number>): Promise<number> {
  await inodeDioWait(t, inode);
  await bch2PagecacheBlockGet(t, inode, fn);
  try {
    return await body();
  } finally {
    bch2PagecacheBlockPut(t, inode);
  }
}

/** inode_lock around `body`: bch2_fallocate_dispatch's own, do_truncate's for setattr. */
async function underInodeLock(t: Task, inode: Inode, site: string, body: () => Promise<number>) {
  await inode.iRwsem.downWrite(t, `${site}:inode_lock`);
  try {
    return await body();
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

export const ops: FileOperations = {
  readIter: bch2ReadIter,
  writeIter: (t, inode, pos, len, ubuf, direct) =>
    direct ? bch2DirectWrite(t, inode, pos, len, ubuf) : bch2BufferedWrite(t, inode, pos, len, ubuf),
  fallocate: (t, inode, mode, off, len, keepSize) =>
    underInodeLock(t, inode, 'bch2_fallocate_dispatch', () =>
      underBlock(t, inode, 'bch2_fallocate_dispatch', () =>
        fallocateLocked(t, inode, mode, off, len, keepSize),
      ),
    ),
  setattrSize: (t, inode, size) =>
    underInodeLock(t, inode, 'do_truncate', () =>
      underBlock(t, inode, 'bchfs_truncate', () => truncateLocked(t, inode, size)),
    ),
  fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
  fault: bch2PageFault,
  pageMkwrite: bch2PageMkwrite,
  writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc),
};

function makeBcachefs(name: string, summary: string, fairness: TwoStateFairness): Scheme {
  return {
    name,
    summary,
    // Linux 6.7+: filemap_fault and filemap_create_folio take mapping->invalidate_lock shared for
    // every filesystem; bcachefs never takes it exclusive.
    invalidateLock: true,
    setupInode: (inode) => bch2InodeInitPagecacheLock(inode, fairness),
    ops,
  };
}

/** bcachefs with Jan Kara's deadline fairness, the deadline in virtual ticks. */
export function bcachefsWithDeadline(deadlineTicks: number, name = `bcachefs-fair-${deadlineTicks}`): Scheme {
  return makeBcachefs(
    name,
    `bcachefs with a ${deadlineTicks}-tick deadline after which a waiter blocks the other state (Kara, seed 000)`,
    { kind: 'deadline', deadlineTicks },
  );
}

export const bcachefs: Scheme = makeBcachefs(
  'bcachefs',
  'bcachefs: two-state pagecache lock, "add" for buffered I/O and faults, "block" for O_DIRECT writes and fallocate; faults_disabled_mapping',
  { kind: 'original' },
);

export const bcachefsFair: Scheme = bcachefsWithDeadline(DEFAULT_DEADLINE_TICKS, 'bcachefs-fair');
