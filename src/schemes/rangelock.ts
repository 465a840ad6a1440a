/**
 * rangelock: Dave Chinner's design (seed 004, 2019) — range locks for the inode I/O lock, a lock
 * context kept in the task, and a page fault that would need a conflicting range of its own
 * context fails the I/O with EDEADLK instead of deadlocking: "put the lock context in the current
 * task, then if the page fault requires a conflicting lock context to be taken, we terminate the
 * page fault, back out of the IO and return EDEADLOCK out to userspace."
 *
 * Lock ordering:
 *   I/O range lock (Bueso's range rwlock; FIFO among conflicting requests)
 *                        exclusive: [pos, pos+len) for buffered writes, rounded out to whole
 *                        blocks for direct writes (see writeRange), ([pos, ∞) when
 *                        the write extends the file), [off, ∞) for truncate and fallocate;
 *                        shared: [pos, pos+len) for buffered and direct reads
 *     mmap_lock          (GUP and copy_{to,from}_user faults while a range is held)
 *       I/O range lock   shared over the faulting page, in filemap_fault and page_mkwrite,
 *                        under the task's lock context: a request that would wait for a range the
 *                        same context holds returns -EDEADLK, the fault fails (SIGBUS: GUP or the
 *                        copy comes up short) and the syscall returns -EDEADLK
 *         folio lock
 *
 * The range lock is taken on both sides of mmap_lock — the ordering Jan Kara's 2013 series and
 * Chinner's mail both run into; the lock context is what keeps the self-conflict from becoming a
 * deadlock. Cross-task cycles through mmap_lock need a writer of mmap_lock (mmap/munmap), which
 * the scenarios do not have.
 *
 * Departures: no such scheme was merged (kernel.md §7: no posted patch series, [NF]); i_rwsem is
 * not taken at all — the range lock replaces it, as Chinner proposed for the XFS inode locks. The
 * O_DIRECT paths keep iomap's two invalidations; with the range held, no fault or buffered I/O can
 * re-add a page of the range in between.
 */
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import type { FileOperations, Inode } from '../fs/fs.js';
import { iomapFileBufferedWrite, iomapPageMkwrite, iomapWritepages } from '../fs/iomap/buffered-io.js';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { genericFsync } from '../fs/sync.js';
import { filemapFault, VM_FAULT_SIGBUS, type VmFault } from '../mm/filemap.js';
import { EDEADLK } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import { LockContext } from '../sync/lockctx.js';
import { RangeLock, type RangeMode } from '../sync/rangelock.js';
import { rangeLockOf } from './locks.js';
import type { Scheme } from './scheme.js';

const END = Number.MAX_SAFE_INTEGER;

function iolock(inode: Inode): RangeLock {
  return rangeLockOf(inode, 'iolock');
}

/**
 * Runs a syscall body under a range of the I/O lock with a fresh lock context attached to the
 * task; a fault refused by the context turns the result into -EDEADLK ("back out of the IO").
 */
async function withRange(
  t: Task,
  inode: Inode,
  start: number,
  end: number,
  mode: RangeMode,
  site: string,
  body: () => Promise<number>,
): Promise<number> {
  const ctx = new LockContext(t).attach();
  try {
    const h = await iolock(inode).lock(t, start, end, mode, site, ctx);
    if (typeof h === 'number') return h;
    try {
      const ret = await body();
      return ctx.refused > 0 ? -EDEADLK : ret;
    } finally {
      iolock(inode).unlock(t, h);
    }
  } finally {
    ctx.detach();
  }
}

/** A fault takes the page's range shared, under whatever context the task has (a DIO's, in GUP). */
async function withFaultRange(
  t: Task,
  inode: Inode,
  vmf: VmFault,
  site: string,
  body: () => Promise<number>,
): Promise<number> {
  const ps = inode.fs.pageSize;
  const h = await iolock(inode).lock(t, vmf.pgoff * ps, (vmf.pgoff + 1) * ps, 'shared', site);
  if (typeof h === 'number') return VM_FAULT_SIGBUS;
  try {
    return await body();
  } finally {
    iolock(inode).unlock(t, h);
  }
}

/**
 * The range a write locks. An O_DIRECT write locks whole blocks: one that is not block aligned
 * zeroes the rest of a block it allocates (iomap_dio_zero), so two such writes into one block must
 * not run together — what XFS's exclusive IOLOCK and inode_dio_wait() guarantee today
 * (xfs_file_dio_write_unaligned) and a byte range alone would not.
 */
function writeRange(inode: Inode, pos: number, len: number, direct: boolean): [number, number] {
  const bs = direct ? inode.blockSize : 1;
  const start = Math.floor(pos / bs) * bs;
  const end = Math.ceil((pos + len) / bs) * bs;
  return pos + len > inode.size ? [Math.min(start, Math.floor(inode.size / bs) * bs), END] : [start, end];
}

export const ops: FileOperations = {
  readIter(t, inode, pos, len, ubuf, direct) {
    const site = direct ? 'xfs_file_dio_read:range_read_lock' : 'xfs_file_buffered_read:range_read_lock';
    return withRange(t, inode, pos, pos + len, 'shared', site, () =>
      // After filemap_read: the range unlock, which records its granules, and the lock context's
      // refusal count (the task's own).
      direct
        ? iomapDioRw(t, inode, pos, len, ubuf, false)
        : filemapRead(t, inode, pos, len, ubuf, 'recorded'),
    );
  },
  writeIter(t, inode, pos, len, ubuf, direct) {
    const [start, end] = writeRange(inode, pos, len, direct);
    const site = direct ? 'xfs_file_dio_write:range_write_lock' : 'xfs_file_buffered_write:range_write_lock';
    return withRange(t, inode, start, end, 'excl', site, async () => {
      const zerr = await writeChecksZeroEof(t, inode, pos);
      if (zerr) return zerr;
      // After it: the range unlock, which records its granules (and the task's lock context).
      if (!direct) return iomapFileBufferedWrite(t, inode, pos, len, ubuf, 'recorded');
      // -ENOTBLK (a page of the range could not be invalidated: one dirtied before we took the
      // range) is returned as it is: with the range held nothing re-adds pages, so it cannot recur.
      return iomapDioRw(t, inode, pos, len, ubuf, true);
    });
  },
  fallocate(t, inode, mode, off, len, keepSize) {
    const start =
      mode === 'collapse' || mode === 'insert'
        ? Math.floor(off / inode.fs.pageSize) * inode.fs.pageSize
        : off;
    return withRange(t, inode, start, END, 'excl', 'xfs_file_fallocate:range_write_lock', () =>
      fallocateLocked(t, inode, mode, off, len, keepSize),
    );
  },
  setattrSize(t, inode, size) {
    return withRange(
      t,
      inode,
      Math.min(size, inode.size),
      END,
      'excl',
      'xfs_vn_setattr:range_write_lock',
      () => truncateLocked(t, inode, size),
    );
  },
  fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
  fault: (t, inode, vmf) =>
    withFaultRange(t, inode, vmf, 'xfs_filemap_fault:range_read_lock', () => filemapFault(t, vmf)),
  pageMkwrite: (t, inode, vmf) =>
    withFaultRange(t, inode, vmf, 'xfs_filemap_page_mkwrite:range_read_lock', () =>
      iomapPageMkwrite(t, inode, vmf),
    ),
  writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc),
  fsyncRecorded: true, // genericFsync over iomapWritepages
};

export const rangelock: Scheme = {
  name: 'rangelock',
  summary:
    "Chinner's range-locked inode I/O lock; a fault conflicting with its own task's lock context fails with EDEADLK",
  invalidateLock: false,
  setupInode(inode) {
    inode.fsPrivate.set('iolock', new RangeLock(`iolock(${inode.name})`, 'xfs_iolock_range'));
  },
  ops,
};
