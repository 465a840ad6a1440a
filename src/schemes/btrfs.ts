/**
 * btrfs (Linux 5.16): i_rwsem, ordered extents, and Filipe Manana's "btrfs: fix deadlock due to
 * page faults during direct IO reads and writes" (51bd9563b678): the gfs2-style fault-in-and-retry
 * loop with FOLL_NOFAULT, plus what gfs2 lacks — a retry that made no progress falls back to
 * buffered I/O, so an O_DIRECT write from an mmap of the very range it writes completes (seed 000,
 * fstests generic/647 and generic/729).
 *
 * Lock ordering (fs/btrfs/inode.c, file.c, ordered-data.c):
 *   i_rwsem                     (exclusive: write(2), O_DIRECT write, truncate, fallocate;
 *                                shared: O_DIRECT read, BTRFS_ILOCK_SHARED)
 *     invalidate_lock           (exclusive: truncate, fallocate; models btrfs's i_mmap_lock)
 *     mmap_lock                 (GUP with FOLL_NOFAULT: takes nothing; the fault-in between passes)
 *       invalidate_lock shared  (filemap_fault adding a folio; btrfs_page_mkwrite)
 *         folio_lock
 *           ordered extent      (waited for, never held: btrfs_lock_and_flush_ordered_range in
 *                                readpage, btrfs_page_mkwrite; lock_extent_direct)
 *
 * Kernel functions mirrored:
 *   btrfs_direct_write   i_rwsem exclusive; again: from->nofault; iomap_dio_rw(IOMAP_DIO_PARTIAL);
 *                        if data is left and the pass returned -EFAULT or progress: if
 *                        left == prev_left → -ENOTBLK, else fault_in_iov_iter_readable(from, left)
 *                        (the inode lock stays held, "to prevent races with truncate"), goto
 *                        again; then on -ENOTBLK or a short write: buffered write of the rest,
 *                        written back and invalidated ("We want the next direct IO read to be
 *                        able to read what was just written")
 *   btrfs_direct_read    i_rwsem shared; pagefault_disable + to->nofault + IOMAP_DIO_PARTIAL, the
 *                        same retry with fault_in_iov_iter_writeable; no progress → stop, and
 *                        btrfs_file_read_iter reads the rest buffered (filemap_read)
 *   btrfs_dio_iomap_begin → lock_extent_direct(writing): waits for ordered extents in the range;
 *                        pages in the range (filemap_range_has_page) → -ENOTBLK; then the ordered
 *                        extent of the write (btrfs_create_dio_extent), finished when its bios
 *                        complete (DioFlags.endIo), also with nothing submitted (btrfs_dio_iomap_end)
 *   btrfs_read_folio / readahead → btrfs_lock_and_flush_ordered_range: a page read waits for the
 *                        ordered extent over it, so a refault during an O_DIRECT write reads the
 *                        new data
 *   btrfs_page_mkwrite   i_mmap_lock shared, waits for the ordered extent over the page
 *   buffered write       i_rwsem exclusive, iomap-style copy (btrfs_buffered_write)
 *   truncate, fallocate  i_rwsem + i_mmap_lock exclusive, inode_dio_wait, drop the range
 *
 * What is omitted, and why:
 * - The extent io tree lock (lock_extent_bits). It orders readpage, page_mkwrite, O_DIRECT
 *   iomap_begin and hole punching over a byte range. What decides the scenarios is kept: the
 *   ordered-extent waits above, lock_extent_direct's refusal when pages are cached, and, for punch
 *   and truncate vs faults, the exclusion invalidate_lock gives (btrfs gets it from the extent lock
 *   in readpage). The O_DIRECT read's range lock (held from btrfs_dio_iomap_begin to end_io, the
 *   generic/647 read deadlock before the fix) is omitted: with FOLL_NOFAULT the read's own GUP
 *   never faults while it would be held, and for other tasks it only delays buffered readers of a
 *   range no read changes.
 * - btrfs's i_mmap_lock (BTRFS_ILOCK_MMAP, 5.13: shared in btrfs_page_mkwrite, exclusive around
 *   reflink) is modelled as mapping->invalidate_lock.
 * - Copy-on-write, checksums, compression, delalloc and the journal-like log tree: writes go in
 *   place through unwritten extents, as in the other schemes; none of the races here depends on
 *   where the new blocks are.
 * - check_direct_IO / check_direct_read: O_DIRECT whose offset or buffer (address, length) is not
 *   aligned to the fs sector size goes through the page cache (btrfs_direct_write: `goto
 *   buffered`; btrfs_direct_read returns 0 and btrfs_file_read_iter reads it all buffered). Here it
 *   takes iomap's per-extent rules and may be EINVAL (docs/fidelity.md).
 */
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import type { FileOperations, Inode } from '../fs/fs.js';
import {
  allocateUnwritten,
  iomapFileBufferedWrite,
  iomapPageMkwrite,
  iomapWritepages,
} from '../fs/iomap/buffered-io.js';
import { type DioFlags, iomapDioRw } from '../fs/iomap/direct-io.js';
import { directWriteFallback, filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { inRetryLoop, withPagefaultDisabled } from '../fs/retry.js';
import { genericFsync } from '../fs/sync.js';
import { type AddressSpaceOps, filemapFault } from '../mm/filemap.js';
import { faultInIovIterReadable, faultInIovIterWriteable } from '../mm/memory.js';
import { assert } from '../sim/assert.js';
import { EFAULT, ENOTBLK } from '../sim/errno.js';
import { isRecording, MAX_GRANULES, objectId, record } from '../sim/footprint.js';
import type { Task } from '../sim/task.js';
import { Completion } from '../sync/completion.js';
import {
  fsPrivateOf,
  truncateSites,
  withInodeAndInvalidateLock,
  withInvalidateLockShared,
  withIRwsemExcl,
} from './locks.js';
import type { Scheme } from './scheme.js';

/** struct btrfs_ordered_extent of an O_DIRECT write: [start, end) of the file, done at completion. */
class OrderedExtent {
  readonly done: Completion;
  constructor(
    readonly start: number,
    readonly end: number,
    name: string,
  ) {
    this.done = new Completion(`ordered extent ${name}[${start},${end})`, 'btrfs_ordered_extent');
  }
}

/** btrfs_inode->ordered_tree. */
class OrderedTree {
  private readonly list: OrderedExtent[] = [];

  /** btrfs_add_ordered_extent(): completed by `t`'s bios. */
  add(t: Task, inode: Inode, start: number, end: number): OrderedExtent {
    const oe = new OrderedExtent(start, end, inode.name);
    oe.done.setWaker(t);
    this.list.push(oe);
    t.event('btrfs_add_ordered_extent', oe.done.name);
    return oe;
  }

  /** btrfs_mark_ordered_io_finished() → btrfs_finish_ordered_io(): wakes the waiters. */
  finish(t: Task, oe: OrderedExtent): void {
    const i = this.list.indexOf(oe);
    assert(i >= 0, () => `${oe.done.name} finished twice`);
    this.list.splice(i, 1);
    oe.done.complete(t);
    t.event('btrfs_finish_ordered_io', oe.done.name);
  }

  /** btrfs_lookup_ordered_range(). */
  lookupRange(start: number, end: number): OrderedExtent | undefined {
    return this.list.find((oe) => oe.start < end && start < oe.end);
  }
}

function orderedTree(inode: Inode): OrderedTree {
  return fsPrivateOf(inode, 'ordered_tree', OrderedTree);
}

/**
 * Records an access of the ordered tree over bytes [start, end) of the file: one footprint object
 * per page the range touches, and the whole tree read (a range of more than MAX_GRANULES pages
 * writes the whole). A lookup's answer depends only on the extents overlapping its range, and an
 * add or a finish changes only its own range, so accesses of disjoint pages commute; two extents
 * overlapping one page are ordered by their writes of it.
 */
function recordOrdered(inode: Inode, start: number, end: number, write: boolean): void {
  if (!isRecording()) return;
  const ps = inode.fs.pageSize;
  const first = Math.floor(start / ps);
  const last = Math.ceil(end / ps);
  const all = objectId(`btrfs ordered_tree ${inode.ino}`);
  if (last - first > MAX_GRANULES) {
    record(all, true);
    return;
  }
  record(all, false);
  for (let i = first; i < last; i++) record(objectId(`btrfs ordered_tree ${inode.ino}+${i}`), write);
}

/** Waits until no ordered extent overlaps [start, end) (btrfs_lock_and_flush_ordered_range). */
async function waitOrderedRange(
  t: Task,
  inode: Inode,
  start: number,
  end: number,
  site: string,
): Promise<void> {
  for (;;) {
    recordOrdered(inode, start, end, false);
    const oe = orderedTree(inode).lookupRange(start, end);
    if (!oe) return;
    await oe.done.wait(t, `${site}:btrfs_start_ordered_extent`);
  }
}

/** filemap_range_has_page(). */
function rangeHasPage(inode: Inode, start: number, end: number): boolean {
  const ps = inode.fs.pageSize;
  return inode.mapping.indicesIn(Math.floor(start / ps), Math.ceil(end / ps) - 1).length > 0;
}

/**
 * The ->iomap_begin and end_io of one O_DIRECT write pass: lock_extent_direct(writing) and the
 * ordered extent, finished when the pass's bios have completed. The first ->iomap_begin of the
 * pass covers everything the pass writes, so the model makes one ordered extent for all of it
 * (btrfs makes one per extent it maps; later ones lie inside this one and never wait for it).
 */
function dioWriteFlags(inode: Inode): DioFlags {
  let made: OrderedExtent | null = null;
  const bs = inode.blockSize;
  return {
    nofault: true,
    partial: true,
    // Up to its first point it waits for ordered extents or allocates: both record themselves.
    iomapBeginRecorded: true,
    async iomapBegin(t, _inode, lblk, n) {
      if (!made) {
        const start = lblk * bs;
        const end = (lblk + n) * bs;
        const err = await lockExtentDirect(t, inode, start, end);
        if (err) return err;
        recordOrdered(inode, start, end, true);
        made = orderedTree(inode).add(t, inode, start, end);
      }
      return allocateUnwritten(t, inode, lblk, n);
    },
    endIo(t) {
      if (made) {
        recordOrdered(inode, made.start, made.end, true);
        orderedTree(inode).finish(t, made);
      }
      made = null;
    },
  };
}

/**
 * lock_extent_direct(writing): waits for the ordered extents over [start, end); pages cached in
 * the range (filemap_range_has_page) → -ENOTBLK, "We could trigger writeback for this range ...
 * but that can lead us to a deadlock with a concurrent call to readahead".
 */
async function lockExtentDirect(t: Task, inode: Inode, start: number, end: number): Promise<number> {
  await waitOrderedRange(t, inode, start, end, 'lock_extent_direct');
  // What follows up to dioIter's next point: the range's page slots (filemap_range_has_page), the
  // ordered tree and the allocation, which record themselves.
  const ps = inode.fs.pageSize;
  await t.pointPages('lock_extent_direct', inode.ino, Math.floor(start / ps), Math.ceil(end / ps), true);
  if (!rangeHasPage(inode, start, end)) return 0;
  if (t.tracing) t.event('lock_extent_direct', `${inode.name} [${start},${end}) has pages: -ENOTBLK`);
  return -ENOTBLK;
}

interface Progress {
  done: number;
  ret: number;
}

/**
 * The retry loop of btrfs_direct_write / btrfs_direct_read: a pass, then, while data is left and
 * the pass returned -EFAULT or progress, fault in the rest and go again — unless as much is left as
 * after the previous fault-in (no progress): then stop, `noProgress` says so.
 */
async function faultInRetry(
  t: Task,
  fn: string,
  inode: Inode,
  len: number,
  pass: (done: number) => Promise<number>,
  faultIn: (done: number, left: number) => Promise<number>,
): Promise<Progress & { noProgress: boolean }> {
  return inRetryLoop(t, fn, async () => {
    const p = { done: 0, ret: 0, noProgress: false };
    let prevLeft = 0;
    for (;;) {
      p.ret = await pass(p.done);
      if (p.ret > 0) p.done += p.ret;
      const left = len - p.done;
      if (left === 0 || (p.ret !== -EFAULT && p.ret <= 0)) return p;
      if (left === prevLeft) {
        p.noProgress = true;
        if (t.tracing) t.event(fn, `no progress since the last fault-in: ${left} bytes left`);
        return p;
      }
      await faultIn(p.done, left);
      prevLeft = left;
      t.retries++;
      await t.point(`${fn}:again`, inode.ino);
    }
  });
}

/** btrfs_direct_write(): O_DIRECT with the fault-in retry, buffered for what it could not do. */
async function directWrite(t: Task, inode: Inode, pos: number, len: number, ubuf: number): Promise<number> {
  let p: Progress & { noProgress: boolean };
  await inode.iRwsem.downWrite(t, 'btrfs_direct_write:btrfs_inode_lock');
  try {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    p = await faultInRetry(
      t,
      'btrfs_direct_write',
      inode,
      len,
      (done) => iomapDioRw(t, inode, pos + done, len - done, ubuf + done, true, dioWriteFlags(inode)),
      (done, left) => faultInIovIterReadable(t, ubuf + done, left),
    );
  } finally {
    inode.iRwsem.upWrite(t);
  }
  const err = p.noProgress ? -ENOTBLK : p.ret;
  if ((err < 0 && err !== -ENOTBLK) || p.done === len) return err < 0 ? err : p.done;
  await inode.iRwsem.downWrite(t, 'btrfs_buffered_write:btrfs_inode_lock');
  try {
    return await directWriteFallback(t, inode, pos, len, ubuf, p.done);
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

/** btrfs_direct_read(): page faults disabled and FOLL_NOFAULT; no progress → stop. */
async function directRead(t: Task, inode: Inode, pos: number, len: number, ubuf: number): Promise<number> {
  await inode.iRwsem.downRead(t, 'btrfs_direct_read:btrfs_inode_lock(BTRFS_ILOCK_SHARED)');
  try {
    const p = await faultInRetry(
      t,
      'btrfs_direct_read',
      inode,
      len,
      (done) =>
        withPagefaultDisabled(t, () =>
          iomapDioRw(t, inode, pos + done, len - done, ubuf + done, false, { nofault: true, partial: true }),
        ),
      (done, left) => faultInIovIterWriteable(t, ubuf + done, left),
    );
    return p.noProgress || p.ret >= 0 ? p.done : p.ret;
  } finally {
    inode.iRwsem.upRead(t);
  }
}

/** btrfs_file_read_iter(): O_DIRECT, then what it did not read through the page cache. */
async function readIter(t: Task, inode: Inode, pos: number, len: number, ubuf: number, direct: boolean) {
  // After filemap_read: nothing but the return value's arithmetic.
  if (!direct) return filemapRead(t, inode, pos, len, ubuf, 'recorded');
  const ret = await directRead(t, inode, pos, len, ubuf);
  if (ret < 0 || ret === len || pos + ret >= inode.size) return ret;
  if (t.tracing) t.event('btrfs_file_read_iter', `${inode.name} [${pos + ret},${pos + len}) buffered`);
  const more = await filemapRead(t, inode, pos + ret, len - ret, ubuf + ret, 'recorded');
  return more < 0 ? ret || more : ret + more;
}

function bufferedWrite(t: Task, inode: Inode, pos: number, len: number, ubuf: number): Promise<number> {
  return withIRwsemExcl(t, inode, 'btrfs_buffered_write:btrfs_inode_lock', async () => {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    // After it: btrfs_inode_unlock, which records itself, and the return.
    return iomapFileBufferedWrite(t, inode, pos, len, ubuf, 'recorded');
  });
}

export const ops: FileOperations = {
  readIter,
  writeIter: (t, inode, pos, len, ubuf, direct) =>
    direct ? directWrite(t, inode, pos, len, ubuf) : bufferedWrite(t, inode, pos, len, ubuf),
  // btrfs_inode_lock(inode, BTRFS_ILOCK_MMAP): i_rwsem, then i_mmap_lock, both exclusive.
  fallocate: (t, inode, mode, off, len, keepSize) =>
    withInodeAndInvalidateLock(
      t,
      inode,
      {
        iRwsem: 'btrfs_fallocate:btrfs_inode_lock',
        invalidateLock: 'btrfs_fallocate:btrfs_inode_lock(BTRFS_ILOCK_MMAP)',
      },
      () => fallocateLocked(t, inode, mode, off, len, keepSize),
    ),
  // i_rwsem is do_truncate's. 5.16's btrfs_setsize takes no i_mmap_lock: the model's exclusive
  // invalidate_lock there stands for the extent locking that keeps readpage out (see the header).
  setattrSize: (t, inode, size) =>
    withInodeAndInvalidateLock(t, inode, truncateSites('btrfs_setsize', 'i_mmap_lock'), () =>
      truncateLocked(t, inode, size),
    ),
  fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
  fsyncRecorded: true, // genericFsync over iomapWritepages
  fault: (t, _inode, vmf) => filemapFault(t, vmf),
  pageMkwrite: (t, inode, vmf) =>
    withInvalidateLockShared(t, inode, 'btrfs_page_mkwrite:i_mmap_lock', async () => {
      const ps = inode.fs.pageSize;
      await waitOrderedRange(t, inode, vmf.pgoff * ps, (vmf.pgoff + 1) * ps, 'btrfs_page_mkwrite');
      return iomapPageMkwrite(t, inode, vmf);
    }),
  writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc),
};

/** The ordered tree, and ->read_folio waiting for the ordered extent over the folio. */
function setupInode(inode: Inode): void {
  inode.fsPrivate.set('ordered_tree', new OrderedTree());
  const aops = inode.mapping.aops;
  assert(aops !== null, () => `btrfs: ${inode.name} has no address_space_operations yet`);
  const ps = inode.fs.pageSize;
  const btrfsAops: AddressSpaceOps = {
    async readFolio(t, folio) {
      const start = folio.index * ps;
      await waitOrderedRange(t, inode, start, start + ps, 'btrfs_lock_and_flush_ordered_range');
      return aops.readFolio(t, folio);
    },
    writepages: (t, mapping, wbc) => aops.writepages(t, mapping, wbc),
  };
  inode.mapping.aops = btrfsAops;
}

export const btrfs: Scheme = {
  name: 'btrfs',
  summary:
    'btrfs 5.16: i_rwsem, ordered extents; O_DIRECT with FOLL_NOFAULT and fault-in retry, no progress → buffered',
  invalidateLock: true,
  setupInode,
  ops,
};
