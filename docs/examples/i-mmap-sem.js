/**
 * i-mmap-sem: ext4's locking of Linux 4.5-5.14, written from scratch against the public API only
 * (docs/writing-a-scheme.md walks through it). ext4 then had no mapping->invalidate_lock; it
 * closed the race of a page fault re-reading a page that truncate or punch had just dropped with
 * a per-inode rw_semaphore of its own, EXT4_I(inode)->i_mmap_sem (ea3d7209ca01, 4.5), which
 * invalidate_lock generalised in 5.15 (730633f0b7f9).
 *
 * Lock ordering:
 *   i_rwsem                 (exclusive: buffered write, O_DIRECT write, truncate, fallocate;
 *                            shared: O_DIRECT read; a buffered read takes nothing)
 *     mmap_lock             (faults of copy_{to,from}_user and GUP while i_rwsem is held)
 *       i_mmap_sem (shared) (ext4_filemap_fault, ext4_page_mkwrite)
 *         folio_lock
 *   i_rwsem → i_mmap_sem (exclusive) (ext4_setattr's truncate, ext4_punch_hole, ext4_zero_range,
 *                            ext4_collapse_range, ext4_insert_range)
 *
 * The sites are ext4's: ext4_filemap_fault and ext4_page_mkwrite wrap their work in
 * down_read(&EXT4_I(inode)->i_mmap_sem), ext4_setattr and the fallocate modes that drop page cache
 * take down_write after inode_lock (all ea3d7209ca01); the read and write sites are those of 5.5+
 * (ext4_dio_read_iter, ext4_buffered_write_iter, ext4_dio_write_iter).
 * Departures: ext4 took no i_mmap_sem for a plain allocation (mode 0); here every fallocate mode
 * takes it, which only serialises more. ext4's buffered write, page_mkwrite and writeback went
 * through buffer heads (ext4_da_write_begin, ext4_writepages); here they are the model's iomap
 * paths, as vfs2019's are.
 */
import {
  fallocateLocked,
  filemapFault,
  filemapRead,
  fsPrivateOf,
  genericFsync,
  iomapDioRw,
  iomapFileBufferedWrite,
  iomapPageMkwrite,
  iomapWritepages,
  RwSemaphore,
  truncateLocked,
  withIRwsemExcl,
  withIRwsemShared,
  writeChecksZeroEof,
} from 'pagelab';

const I_MMAP_SEM = 'i_mmap_sem';

/** EXT4_I(inode)->i_mmap_sem, created by setupInode (fsPrivateOf asserts it is there). */
function iMmapSem(inode) {
  return fsPrivateOf(inode, I_MMAP_SEM, RwSemaphore);
}

/** down_read(&EXT4_I(inode)->i_mmap_sem) around body; `site` names the kernel function. */
async function withIMmapSemShared(t, inode, site, body) {
  const sem = iMmapSem(inode);
  await sem.downRead(t, site);
  try {
    return await body();
  } finally {
    sem.upRead(t);
  }
}

/** inode_lock, then down_write(&EXT4_I(inode)->i_mmap_sem): a block-map change. */
function withBlockMapLocks(t, inode, fn, body) {
  return withIRwsemExcl(t, inode, `${fn}:inode_lock`, async () => {
    const sem = iMmapSem(inode);
    await sem.downWrite(t, `${fn}:down_write(i_mmap_sem)`);
    try {
      return await body();
    } finally {
      sem.upWrite(t);
    }
  });
}

const ops = {
  // ext4_file_read_iter: generic_file_read_iter takes nothing for a buffered read;
  // ext4_dio_read_iter (5.5+) takes inode_lock_shared.
  readIter(t, inode, pos, len, ubuf, direct) {
    if (!direct) return filemapRead(t, inode, pos, len, ubuf);
    return withIRwsemShared(t, inode, 'ext4_dio_read_iter:inode_lock_shared', () =>
      iomapDioRw(t, inode, pos, len, ubuf, false),
    );
  },
  // ext4_buffered_write_iter / ext4_dio_write_iter: inode_lock, then the write checks.
  writeIter(t, inode, pos, len, ubuf, direct) {
    const site = direct ? 'ext4_dio_write_iter:inode_lock' : 'ext4_buffered_write_iter:inode_lock';
    return withIRwsemExcl(t, inode, site, async () => {
      const err = await writeChecksZeroEof(t, inode, pos);
      if (err) return err;
      if (direct) return iomapDioRw(t, inode, pos, len, ubuf, true);
      return iomapFileBufferedWrite(t, inode, pos, len, ubuf);
    });
  },
  fallocate: (t, inode, mode, off, len, keepSize) =>
    withBlockMapLocks(t, inode, 'ext4_fallocate', () => fallocateLocked(t, inode, mode, off, len, keepSize)),
  setattrSize: (t, inode, size) =>
    withBlockMapLocks(t, inode, 'ext4_setattr', () => truncateLocked(t, inode, size)),
  fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
  fsyncRecorded: true, // genericFsync over iomapWritepages records its accesses
  fault: (t, inode, vmf) =>
    withIMmapSemShared(t, inode, 'ext4_filemap_fault:down_read(i_mmap_sem)', () => filemapFault(t, vmf)),
  pageMkwrite: (t, inode, vmf) =>
    withIMmapSemShared(t, inode, 'ext4_page_mkwrite:down_read(i_mmap_sem)', () =>
      iomapPageMkwrite(t, inode, vmf),
    ),
  writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc),
};

/** @type {import('pagelab').Scheme} */
export default {
  name: 'i-mmap-sem',
  summary: 'ext4 of 4.5-5.14: i_rwsem, and i_mmap_sem shared in faults, exclusive around block-map changes',
  invalidateLock: false,
  setupInode(inode) {
    inode.fsPrivate.set(I_MMAP_SEM, new RwSemaphore(`i_mmap_sem(${inode.name})`, 'i_mmap_sem'));
  },
  ops,
};
