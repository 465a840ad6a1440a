/**
 * invalidate_lock: Linux ≥ 5.15 (Jan Kara, 730633f0b7f9 "mm: Protect operations adding pages to
 * page cache with invalidate_lock"), as ext4 uses it.
 *
 * Lock ordering (mm/filemap.c, ext4):
 *   i_rwsem                          (exclusive: buffered write, O_DIRECT write, truncate, fallocate;
 *                                     shared: O_DIRECT read)
 *     mmap_lock                      (faults of copy_{to,from}_user and GUP)
 *       invalidate_lock (shared)     (filemap_fault and filemap_create_folio when they add a folio,
 *                                     ext4_page_mkwrite)
 *         folio_lock
 *   i_rwsem → invalidate_lock (exclusive) (truncate, punch, zero, collapse, insert)
 *
 * "SHARED: the holder may insert folios; EXCL: the holder removes folios and changes the block
 * mapping" — so a fault cannot re-read a page between fallocate's shoot-down and its extent change.
 * O_DIRECT does not take invalidate_lock (Kent Overstreet, 2023: "still technically racy"): a
 * failed pre-write invalidation falls back to buffered I/O (-ENOTBLK, 5.9), a failed post-write
 * one warns and sets EIO.
 */
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import type { FileOperations, Inode } from '../fs/fs.js';
import { iomapFileBufferedWrite, iomapPageMkwrite, iomapWritepages } from '../fs/iomap/buffered-io.js';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { directWriteFallback, filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { genericFsync } from '../fs/sync.js';
import { filemapFault } from '../mm/filemap.js';
import { ENOTBLK } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import type { RwSemaphore } from '../sync/rwsem.js';
import type { Scheme } from './scheme.js';

function il(inode: Inode): RwSemaphore {
  return inode.mapping.invalidateLock as RwSemaphore;
}

/** A write through i_rwsem exclusive; O_DIRECT falls back to buffered I/O on -ENOTBLK. */
export async function writeIterExclusive(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  direct: boolean,
): Promise<number> {
  await inode.iRwsem.downWrite(t, 'ext4_file_write_iter:inode_lock');
  try {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    if (!direct) return await iomapFileBufferedWrite(t, inode, pos, len, ubuf);
    const ret = await iomapDioRw(t, inode, pos, len, ubuf, true);
    if (ret === -ENOTBLK) return await directWriteFallback(t, inode, pos, len, ubuf, 0);
    return ret;
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

/** Takes i_rwsem and invalidate_lock exclusive around a block-map change (ext4_punch_hole etc.). */
async function withInodeAndInvalidateLock(
  t: Task,
  inode: Inode,
  site: string,
  fn: () => Promise<number>,
): Promise<number> {
  await inode.iRwsem.downWrite(t, `${site}:inode_lock`);
  await il(inode).downWrite(t, `${site}:filemap_invalidate_lock`);
  try {
    return await fn();
  } finally {
    il(inode).upWrite(t);
    inode.iRwsem.upWrite(t);
  }
}

export const ops: FileOperations = {
  async readIter(t, inode, pos, len, ubuf, direct) {
    if (!direct) return filemapRead(t, inode, pos, len, ubuf);
    await inode.iRwsem.downRead(t, 'ext4_dio_read_iter:inode_lock_shared');
    try {
      return await iomapDioRw(t, inode, pos, len, ubuf, false);
    } finally {
      inode.iRwsem.upRead(t);
    }
  },
  writeIter: writeIterExclusive,
  fallocate: (t, inode, mode, off, len, keepSize) =>
    withInodeAndInvalidateLock(t, inode, 'ext4_fallocate', () =>
      fallocateLocked(t, inode, mode, off, len, keepSize),
    ),
  setattrSize: (t, inode, size) =>
    withInodeAndInvalidateLock(t, inode, 'ext4_setattr', () => truncateLocked(t, inode, size)),
  fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
  fault: (t, _inode, vmf) => filemapFault(t, vmf),
  async pageMkwrite(t, inode, vmf) {
    await il(inode).downRead(t, 'ext4_page_mkwrite:filemap_invalidate_lock_shared');
    try {
      return await iomapPageMkwrite(t, inode, vmf);
    } finally {
      il(inode).upRead(t);
    }
  },
  writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc),
  fsyncRecorded: true, // genericFsync over iomapWritepages
};

export const invalidateLock: Scheme = {
  name: 'invalidate_lock',
  summary: 'Linux ≥ 5.15: mapping->invalidate_lock shared to add pages, exclusive to remove them',
  invalidateLock: true,
  setupInode() {},
  ops,
};
