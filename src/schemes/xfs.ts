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
 * The ILOCK guards the extent map in short critical sections that never sleep on anything the
 * scenarios can reach; the model does each extent-map change in one step instead.
 */

import { BlockState } from '../fs/extent.js';
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import { type FileOperations, type Inode, inodeDioWait } from '../fs/fs.js';
import { iomapPageMkwrite, iomapWritepages } from '../fs/iomap/buffered-io.js';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { directWriteFallback, filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { genericFsync } from '../fs/sync.js';
import { filemapFault } from '../mm/filemap.js';
import { EAGAIN, EINVAL, ENOTBLK } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import type { RwSemaphore } from '../sync/rwsem.js';
import { writeIterExclusive } from './invalidate_lock.js';
import type { Scheme } from './scheme.js';

function mmaplock(inode: Inode): RwSemaphore {
  return inode.mapping.invalidateLock as RwSemaphore;
}

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
  if (pos + len > inode.size) return writeIterExclusive(t, inode, pos, len, ubuf, true);
  await inode.iRwsem.downRead(t, 'xfs_file_dio_write_aligned:xfs_ilock(IOLOCK_SHARED)');
  let ret: number;
  try {
    ret = await iomapDioRw(t, inode, pos, len, ubuf, true);
  } finally {
    inode.iRwsem.upRead(t);
  }
  // -ENOTBLK: xfs only falls back for reflink CoW; the model has no CoW, so redo it exclusive
  // through the generic fallback, which is what the other iomap filesystems do.
  if (ret === -ENOTBLK) return writeIterExclusive(t, inode, pos, len, ubuf, true);
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

async function withIolockShared(
  t: Task,
  inode: Inode,
  site: string,
  fn: () => Promise<number>,
): Promise<number> {
  await inode.iRwsem.downRead(t, `${site}:xfs_ilock(IOLOCK_SHARED)`);
  try {
    return await fn();
  } finally {
    inode.iRwsem.upRead(t);
  }
}

/** xfs_ilock(IOLOCK_EXCL | MMAPLOCK_EXCL) around a block-map change. */
async function withIolockMmaplockExcl(
  t: Task,
  inode: Inode,
  site: string,
  fn: () => Promise<number>,
): Promise<number> {
  await inode.iRwsem.downWrite(t, `${site}:xfs_ilock(IOLOCK_EXCL)`);
  await mmaplock(inode).downWrite(t, `${site}:xfs_ilock(MMAPLOCK_EXCL)`);
  try {
    return await fn();
  } finally {
    mmaplock(inode).upWrite(t);
    inode.iRwsem.upWrite(t);
  }
}

export const ops: FileOperations = {
  readIter(t, inode, pos, len, ubuf, direct) {
    if (direct)
      return withIolockShared(t, inode, 'xfs_file_dio_read', () =>
        iomapDioRw(t, inode, pos, len, ubuf, false),
      );
    return withIolockShared(t, inode, 'xfs_file_buffered_read', () => filemapRead(t, inode, pos, len, ubuf));
  },
  writeIter(t, inode, pos, len, ubuf, direct) {
    if (direct) return xfsFileDioWrite(t, inode, pos, len, ubuf);
    return writeIterExclusive(t, inode, pos, len, ubuf, false);
  },
  fallocate: (t, inode, mode, off, len, keepSize) =>
    withIolockMmaplockExcl(t, inode, 'xfs_file_fallocate', () =>
      fallocateLocked(t, inode, mode, off, len, keepSize),
    ),
  setattrSize: (t, inode, size) =>
    withIolockMmaplockExcl(t, inode, 'xfs_vn_setattr', () => truncateLocked(t, inode, size)),
  fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
  fault: (t, _inode, vmf) => filemapFault(t, vmf),
  async pageMkwrite(t, inode, vmf) {
    await mmaplock(inode).downRead(t, '__xfs_filemap_fault:xfs_ilock(MMAPLOCK_SHARED)');
    try {
      return await iomapPageMkwrite(t, inode, vmf);
    } finally {
      mmaplock(inode).upRead(t);
    }
  },
  writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc),
  fsyncRecorded: true, // genericFsync over iomapWritepages
};

export const xfs: Scheme = {
  name: 'xfs',
  summary: 'XFS: IOLOCK (i_rwsem) around buffered and direct I/O, MMAPLOCK for faults vs truncate/fallocate',
  invalidateLock: true,
  setupInode() {},
  ops,
};
