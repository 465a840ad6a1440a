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
 *
 * Sites are ext4's of 6.15+: ext4_buffered_write_iter and ext4_dio_write_iter take inode_lock,
 * ext4_dio_read_iter inode_lock_shared (all three since 5.5, when ext4 moved to iomap), and
 * ext4_fallocate takes inode_lock, then invalidate_lock for the modes that drop page cache
 * (2890e5e0f49e "ext4: move out common parts into ext4_fallocate()", 6.15; each mode's own
 * function before); truncate's i_rwsem is do_truncate's. Departures: ext4_dio_write_iter takes
 * inode_lock shared for an aligned overwrite inside i_size (ext4_dio_write_checks), here always
 * exclusive; a plain allocation (mode 0) takes no invalidate_lock in ext4, here it does.
 */
import type { FileOperations } from '../fs/fs.js';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { filemapRead } from '../fs/read_write.js';
import {
  exclusiveWrite,
  fallocateUnderInvalidateLock,
  invalidateLockIomapOps,
  truncateSites,
  withIRwsemShared,
} from './locks.js';
import type { Scheme } from './scheme.js';

export const ops: FileOperations = {
  readIter(t, inode, pos, len, ubuf, direct) {
    if (!direct) return filemapRead(t, inode, pos, len, ubuf, 'recorded'); // nothing after it
    return withIRwsemShared(t, inode, 'ext4_dio_read_iter:inode_lock_shared', () =>
      iomapDioRw(t, inode, pos, len, ubuf, false),
    );
  },
  // ext4_file_write_iter → ext4_buffered_write_iter / ext4_dio_write_iter, each takes inode_lock.
  writeIter: (t, inode, pos, len, ubuf, direct) =>
    exclusiveWrite(
      t,
      inode,
      direct ? 'ext4_dio_write_iter:inode_lock' : 'ext4_buffered_write_iter:inode_lock',
      {
        pos,
        len,
        ubuf,
        direct,
      },
    ),
  // Since 6.15 ext4_fallocate takes inode_lock and invalidate_lock itself, for every mode.
  fallocate: (t, inode, mode, off, len, keepSize) =>
    fallocateUnderInvalidateLock(t, inode, 'ext4_fallocate', 'filemap_invalidate_lock', {
      mode,
      off,
      len,
      keepSize,
    }),
  ...invalidateLockIomapOps(
    truncateSites('ext4_setattr', 'filemap_invalidate_lock'),
    'ext4_page_mkwrite:filemap_invalidate_lock_shared',
  ),
};

export const invalidateLock: Scheme = {
  name: 'invalidate_lock',
  summary: 'Linux ≥ 5.15: mapping->invalidate_lock shared to add pages, exclusive to remove them',
  invalidateLock: true,
  setupInode() {},
  ops,
};
