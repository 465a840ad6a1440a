/**
 * vfs2019: the generic VFS + iomap of the seeds' time (2019), i_rwsem only.
 *
 * Lock ordering:
 *   i_rwsem                 (exclusive: buffered write, O_DIRECT write, truncate, fallocate;
 *                            shared: O_DIRECT read; buffered read takes nothing)
 *     mmap_lock             (faults of copy_{to,from}_user and GUP while i_rwsem is held)
 *       folio_lock
 *   mmap_lock → folio_lock  (page faults: no filesystem lock at all, there is no invalidate_lock)
 *
 * O_DIRECT invalidates the page cache before and after the I/O; a failed invalidation before the
 * write is ignored (the -ENOTBLK fallback came in 5.9), a failed one after it only warns
 * (dio_warn_stale_pagecache). Seed 004: "no one has a solution for pages getting _faulted_ back in
 * - either because of mmap or gup()"; "that doesn't eliminate the race, it just makes it harder
 * to trigger". This scheme is wrong on purpose: it is the baseline the seeds argue about.
 *
 * Whose locking this is: ext4's of 2019 (Linux 5.0-5.4), which took i_rwsem exactly so (XFS
 * also took IOLOCK_SHARED around buffered reads), and the sites name its functions:
 * ext4_file_write_iter takes inode_lock for buffered and O_DIRECT writes; ext4_file_read_iter →
 * generic_file_read_iter takes nothing (a buffered read runs unlocked), and its O_DIRECT path
 * reaches ext4_direct_IO_read, which takes inode_lock_shared (16c54688592c;
 * ext4_dio_read_iter replaced it in 5.5); truncate's inode_lock is do_truncate's; fallocate's is
 * taken by the mode's own function (ext4_punch_hole, ext4_zero_range, ext4_collapse_range,
 * ext4_insert_range, or ext4_fallocate for an allocation). Left out on purpose: ext4's i_mmap_sem
 * (ea3d7209ca01, 4.5) in the fault path and around block-map changes, and its
 * __blockdev_direct_IO (the I/O is the model's iomap DIO, as XFS's was).
 */
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import type { FileOperations, Inode } from '../fs/fs.js';
import { iomapFileBufferedWrite, iomapPageMkwrite, iomapWritepages } from '../fs/iomap/buffered-io.js';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { genericFsync } from '../fs/sync.js';
import { filemapFault } from '../mm/filemap.js';
import type { Task } from '../sim/task.js';
import { ext4FallocateFn, withIRwsemExcl, withIRwsemShared } from './locks.js';
import type { Scheme } from './scheme.js';

/** ext4_file_write_iter (5.4): inode_lock; a failed pre-write invalidation is ignored (pre-5.9). */
function writeIter(t: Task, inode: Inode, pos: number, len: number, ubuf: number, direct: boolean) {
  return withIRwsemExcl(t, inode, 'ext4_file_write_iter:inode_lock', async () => {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    if (direct) return iomapDioRw(t, inode, pos, len, ubuf, true, { ignorePreInvalidateFailure: true });
    // After it: the inode_unlock, which records itself, and the return.
    return iomapFileBufferedWrite(t, inode, pos, len, ubuf, 'recorded');
  });
}

/** generic_file_read_iter takes no lock; O_DIRECT: ext4_direct_IO_read's inode_lock_shared. */
function readIter(t: Task, inode: Inode, pos: number, len: number, ubuf: number, direct: boolean) {
  if (!direct) return filemapRead(t, inode, pos, len, ubuf, 'recorded'); // nothing after it
  return withIRwsemShared(t, inode, 'ext4_direct_IO_read:inode_lock_shared', () =>
    iomapDioRw(t, inode, pos, len, ubuf, false),
  );
}

export const ops: FileOperations = {
  readIter,
  writeIter,
  fallocate: (t, inode, mode, off, len, keepSize) =>
    withIRwsemExcl(t, inode, `${ext4FallocateFn(mode)}:inode_lock`, () =>
      fallocateLocked(t, inode, mode, off, len, keepSize),
    ),
  setattrSize: (t, inode, size) =>
    withIRwsemExcl(t, inode, 'do_truncate:inode_lock', () => truncateLocked(t, inode, size)),
  fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
  fault: (t, _inode, vmf) => filemapFault(t, vmf),
  pageMkwrite: (t, inode, vmf) => iomapPageMkwrite(t, inode, vmf),
  writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc),
  fsyncRecorded: true, // genericFsync over iomapWritepages
};

export const vfs2019: Scheme = {
  name: 'vfs2019',
  summary: 'generic VFS of 2019: i_rwsem only; O_DIRECT invalidates before and after the I/O',
  invalidateLock: false,
  setupInode() {},
  ops,
};
