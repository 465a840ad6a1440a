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
 */
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import type { FileOperations, Inode } from '../fs/fs.js';
import { iomapFileBufferedWrite, iomapPageMkwrite, iomapWritepages } from '../fs/iomap/buffered-io.js';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { genericFsync } from '../fs/sync.js';
import { filemapFault } from '../mm/filemap.js';
import type { Task } from '../sim/task.js';
import type { Scheme } from './scheme.js';

async function writeIter(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  direct: boolean,
): Promise<number> {
  await inode.iRwsem.downWrite(t, 'generic_file_write_iter:inode_lock');
  try {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    if (direct) return await iomapDioRw(t, inode, pos, len, ubuf, true, { ignorePreInvalidateFailure: true });
    return await iomapFileBufferedWrite(t, inode, pos, len, ubuf);
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

async function readIter(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  direct: boolean,
): Promise<number> {
  if (!direct) return filemapRead(t, inode, pos, len, ubuf);
  await inode.iRwsem.downRead(t, 'generic_file_read_iter:inode_lock_shared');
  try {
    return await iomapDioRw(t, inode, pos, len, ubuf, false);
  } finally {
    inode.iRwsem.upRead(t);
  }
}

export const ops: FileOperations = {
  readIter,
  writeIter,
  async fallocate(t, inode, mode, off, len, keepSize) {
    await inode.iRwsem.downWrite(t, 'vfs_fallocate:inode_lock');
    try {
      return await fallocateLocked(t, inode, mode, off, len, keepSize);
    } finally {
      inode.iRwsem.upWrite(t);
    }
  },
  async setattrSize(t, inode, size) {
    await inode.iRwsem.downWrite(t, 'do_truncate:inode_lock');
    try {
      return await truncateLocked(t, inode, size);
    } finally {
      inode.iRwsem.upWrite(t);
    }
  },
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
