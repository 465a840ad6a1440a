/**
 * xfs: IOLOCK + MMAPLOCK (fs/xfs/xfs_file.c, xfs_inode.c). IOLOCK is the VFS i_rwsem (since 4.10),
 * MMAPLOCK is mapping->invalidate_lock (since 5.15; Dave Chinner's i_mmaplock of 2015 before).
 *
 * Lock ordering (xfs_inode.c):
 *   i_rwsem (IOLOCK) → invalidate_lock (MMAPLOCK) → folio lock → ILOCK
 *   mmap_lock → invalidate_lock (MMAPLOCK) → folio lock → ILOCK
 *   i_rwsem → folio lock → mmap_lock      ("cannot hold invalidate_lock over read/write syscalls")
 *
 * Who takes what:
 *   buffered read            IOLOCK_SHARED (then invalidate_lock shared inside, to add folios)
 *   O_DIRECT read            IOLOCK_SHARED
 *   buffered write           IOLOCK_EXCL
 *   O_DIRECT write           IOLOCK_SHARED if aligned and inside EOF, else IOLOCK_EXCL
 *   read fault               filemap_fault (invalidate_lock shared when it adds the folio)
 *   page_mkwrite             MMAPLOCK_SHARED (__xfs_filemap_fault)
 *   truncate, fallocate      IOLOCK_EXCL + MMAPLOCK_EXCL, inode_dio_wait, flush + drop the range
 * Sites name the XFS of 5.15-6.12 (fs/xfs/xfs_file.c): xfs_file_buffered_read, xfs_file_dio_read,
 * xfs_file_buffered_write, xfs_file_dio_write_{aligned,unaligned}, xfs_file_fallocate,
 * xfs_vn_setattr (MMAPLOCK; IOLOCK is do_truncate's inode_lock) and __xfs_filemap_fault (6.13's
 * 1eb6fc044752 moved the write fault's MMAPLOCK into xfs_write_fault).
 * The ILOCK guards the extent map in short critical sections that never sleep on anything the
 * scenarios can reach; the model does each extent-map change in one step instead.
 */

import { BlockState } from '../fs/extent.js';
import { fallocateLocked } from '../fs/fallocate.js';
import { type FileOperations, type Inode, inodeDioWait } from '../fs/fs.js';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { directWriteFallback, filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { EAGAIN, EINVAL, ENOTBLK } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import {
  exclusiveWrite,
  invalidateLockIomapOps,
  truncateSites,
  withInodeAndInvalidateLock,
  withIRwsemShared,
} from './locks.js';
import type { Scheme } from './scheme.js';

/** Where XFS takes IOLOCK_EXCL for a write: buffered, or an O_DIRECT write the model does exclusive. */
const BUFFERED_WRITE_SITE = 'xfs_file_buffered_write:xfs_ilock(IOLOCK_EXCL)';
/**
 * xfs_file_write_checks upgrades IOLOCK_SHARED to IOLOCK_EXCL for an O_DIRECT write that starts
 * past EOF (EOF zeroing), and xfs_file_dio_write_aligned demotes it again before iomap_dio_rw; the
 * model holds it exclusive across every extending aligned write instead (docs/fidelity.md).
 */
const EXTENDING_DIO_SITE = 'xfs_file_write_checks:xfs_ilock(IOLOCK_EXCL)';

/**
 * xfs_file_dio_write(): "direct I/O must be aligned to device logical sector size" — `(ki_pos |
 * count) & bt_logical_sectormask` → -EINVAL before any lock; then xfs_file_dio_write_aligned:
 * IOLOCK_SHARED for an aligned write inside EOF.
 */
async function xfsFileDioWrite(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
): Promise<number> {
  const ss = inode.fs.bdev.sectorSize;
  if (pos % ss || len % ss) return -EINVAL;
  const bs = inode.blockSize;
  if (pos % bs || len % bs) return xfsFileDioWriteUnaligned(t, inode, pos, len, ubuf);
  const io = { pos, len, ubuf, direct: true };
  if (pos + len > inode.size) return exclusiveWrite(t, inode, EXTENDING_DIO_SITE, io);
  const ret = await withIRwsemShared(t, inode, 'xfs_file_dio_write_aligned:xfs_ilock(IOLOCK_SHARED)', () =>
    iomapDioRw(t, inode, pos, len, ubuf, true),
  );
  // -ENOTBLK: xfs_file_write_iter falls back to xfs_file_buffered_write only for reflink CoW; the
  // model has no CoW, so it redoes the write exclusive through the generic fallback, which is
  // what the other iomap filesystems do.
  if (ret === -ENOTBLK) return exclusiveWrite(t, inode, BUFFERED_WRITE_SITE, io);
  return ret;
}

/**
 * xfs_file_dio_write_unaligned(): a write that is not block aligned zeroes the rest of any block it
 * allocates or converts (iomap_dio_zero), so two of them in one block must never run together.
 * Under IOLOCK_SHARED it may only overwrite blocks already written (IOMAP_DIO_OVERWRITE_ONLY:
 * xfs_direct_write_iomap_begin returns -EAGAIN otherwise); an extending write, or one that would
 * allocate or convert, takes IOLOCK_EXCL and waits for every other O_DIRECT in flight first
 * (IOMAP_DIO_FORCE_WAIT → inode_dio_wait: "this must be the only I/O in-flight").
 */
async function xfsFileDioWriteUnaligned(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
): Promise<number> {
  const bs = inode.blockSize;
  if (pos + len < inode.size) {
    await inode.iRwsem.downRead(t, 'xfs_file_dio_write_unaligned:xfs_ilock(IOLOCK_SHARED)');
    let ret = -EAGAIN;
    try {
      const first = Math.floor(pos / bs);
      const last = Math.ceil((pos + len) / bs);
      const map = inode.extents.lookup(first, last - first);
      // IOMAP_DIO_OVERWRITE_ONLY: every block already written, or -EAGAIN.
      if (map.state === BlockState.Written && map.len === last - first) {
        ret = await iomapDioRw(t, inode, pos, len, ubuf, true);
      }
    } finally {
      inode.iRwsem.upRead(t);
    }
    if (ret !== -EAGAIN && ret !== -ENOTBLK) return ret;
  }
  // retry_exclusive: IOLOCK_EXCL, IOMAP_DIO_FORCE_WAIT.
  await inode.iRwsem.downWrite(t, 'xfs_file_dio_write_unaligned:xfs_ilock(IOLOCK_EXCL)');
  try {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    await inodeDioWait(t, inode);
    const ret = await iomapDioRw(t, inode, pos, len, ubuf, true);
    if (ret === -ENOTBLK) return await directWriteFallback(t, inode, pos, len, ubuf, 0);
    return ret;
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

export const ops: FileOperations = {
  readIter(t, inode, pos, len, ubuf, direct) {
    if (direct)
      return withIRwsemShared(t, inode, 'xfs_file_dio_read:xfs_ilock(IOLOCK_SHARED)', () =>
        iomapDioRw(t, inode, pos, len, ubuf, false),
      );
    // After filemap_read: xfs_iunlock (and, under bkl, unlock_kernel), locks that record themselves.
    return withIRwsemShared(t, inode, 'xfs_file_buffered_read:xfs_ilock(IOLOCK_SHARED)', () =>
      filemapRead(t, inode, pos, len, ubuf, 'recorded'),
    );
  },
  writeIter(t, inode, pos, len, ubuf, direct) {
    if (direct) return xfsFileDioWrite(t, inode, pos, len, ubuf);
    return exclusiveWrite(t, inode, BUFFERED_WRITE_SITE, { pos, len, ubuf, direct });
  },
  // xfs_ilock(ip, XFS_IOLOCK_EXCL | XFS_MMAPLOCK_EXCL) around the block-map change.
  fallocate: (t, inode, mode, off, len, keepSize) =>
    withInodeAndInvalidateLock(
      t,
      inode,
      {
        iRwsem: 'xfs_file_fallocate:xfs_ilock(IOLOCK_EXCL)',
        invalidateLock: 'xfs_file_fallocate:xfs_ilock(MMAPLOCK_EXCL)',
      },
      () => fallocateLocked(t, inode, mode, off, len, keepSize),
    ),
  // IOLOCK is do_truncate's inode_lock; xfs_vn_setattr takes MMAPLOCK_EXCL.
  ...invalidateLockIomapOps(
    truncateSites('xfs_vn_setattr', 'xfs_ilock(MMAPLOCK_EXCL)'),
    '__xfs_filemap_fault:xfs_ilock(MMAPLOCK_SHARED)',
  ),
};

export const xfs: Scheme = {
  name: 'xfs',
  summary: 'XFS: IOLOCK (i_rwsem) around buffered and direct I/O, MMAPLOCK for faults vs truncate/fallocate',
  invalidateLock: true,
  setupInode() {},
  ops,
};
