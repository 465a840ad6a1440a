/**
 * ext4 as Linux 6.x runs it (6.5+; checked against 6.18's fs/ext4/file.c): iomap direct I/O
 * with i_rwsem shared for overwrites, exclusive otherwise; mapping->invalidate_lock for faults
 * against truncate and fallocate. The scheme `pagelab native` names for an ext4 host.
 *
 * Lock ordering (fs/ext4/super.c "Lock ordering", i_mmap_sem = invalidate_lock since 5.15):
 *   i_rwsem → invalidate_lock (exclusive) → folio lock        (truncate, punch, zero, collapse, insert)
 *   mmap_lock → invalidate_lock (shared) → folio lock          (filemap_fault adding a folio, page_mkwrite)
 *   i_rwsem (shared or exclusive) → mmap_lock                  (O_DIRECT: GUP pins the user buffer)
 *   i_rwsem (exclusive) → mmap_lock → folio lock               (buffered write: copy from user)
 *
 * Who takes what (Linux 6.18):
 *   buffered read      nothing (ext4_file_read_iter → generic_file_read_iter; filemap_read takes
 *                      invalidate_lock shared only to add folios, filemap_create_folio)
 *   O_DIRECT read      i_rwsem shared (ext4_dio_read_iter: inode_lock_shared, iomap_dio_rw)
 *   buffered write     i_rwsem exclusive (ext4_buffered_write_iter: inode_lock)
 *   O_DIRECT write     ext4_dio_write_iter: i_rwsem shared unless the quick check sees an extending
 *                      write; ext4_dio_write_checks upgrades to exclusive ("restart") for an
 *                      extending write, a non-overwrite (a hole in the range: ext4_overwrite_io),
 *                      or an unaligned write over unwritten blocks; exclusive and unaligned or
 *                      extending → IOMAP_DIO_FORCE_WAIT, and unaligned over blocks not all
 *                      written → inode_dio_wait first. iomap_dio_rw's -ENOTBLK (the page cache
 *                      could not be invalidated) becomes 0 and the rest is written buffered after
 *                      i_rwsem is dropped (ext4_buffered_write_iter takes it again), then written
 *                      back and dropped (filemap_write_and_wait_range, invalidate_mapping_pages).
 *   read fault         filemap_fault (invalidate_lock shared when it adds the folio)
 *   page_mkwrite       ext4_page_mkwrite: filemap_invalidate_lock_shared
 *   fallocate          ext4_fallocate (6.15 on): inode_lock, inode_dio_wait; every mode but
 *                      allocate then filemap_invalidate_lock ("Follow-up operations will drop
 *                      page cache, hold invalidate lock to prevent page faults from
 *                      reinstantiating pages we have released from page cache")
 *   truncate           do_truncate takes i_rwsem; ext4_setattr: inode_dio_wait, invalidate_lock
 *                      exclusive
 *
 * Departures (the generic paths of src/fs stand in for ext4's own):
 * - Buffered writes and page_mkwrite use the iomap buffered path (iomapFileBufferedWrite,
 *   iomapPageMkwrite, iomapWritepages) where ext4 uses delayed allocation through buffer heads
 *   (ext4_da_write_begin, ext4_writepages); the unwritten allocation stands for the reservation.
 * - The buffered fallback of an O_DIRECT write runs its writeback and invalidation under i_rwsem
 *   (directWriteFallback), and invalidates with invalidate_inode_pages2_range where ext4 calls
 *   invalidate_mapping_pages (which skips dirty, locked and mapped folios instead of failing).
 * - No journal: extent changes are one step each (i_data_sem and the jbd2 handle are held only
 *   across them and wait for nothing the scenarios can reach).
 * - IS_NOSEC and fsverity/encryption checks are not modelled (regular files, no security xattrs).
 */
import { BlockState } from '../fs/extent.js';
import { fallocateLocked } from '../fs/fallocate.js';
import { type FileOperations, type Inode, inodeDioWait } from '../fs/fs.js';
import { iomapFileBufferedWrite } from '../fs/iomap/buffered-io.js';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { directWriteFallback, filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { ENOTBLK } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import {
  fallocateUnderInvalidateLock,
  invalidateLockIomapOps,
  truncateSites,
  withIRwsemExcl,
  withIRwsemShared,
} from './locks.js';
import type { Scheme } from './scheme.js';

/** ext4_buffered_write_iter(): inode_lock, write checks (EOF zeroing), generic_perform_write. */
function ext4BufferedWriteIter(t: Task, inode: Inode, pos: number, len: number, ubuf: number) {
  return withIRwsemExcl(t, inode, 'ext4_buffered_write_iter:inode_lock', async () => {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    // After it: the inode_unlock, which records itself, and the return.
    return iomapFileBufferedWrite(t, inode, pos, len, ubuf, 'recorded');
  });
}

/** What ext4_dio_write_checks() decides from i_size and the block map (ext4_overwrite_io). */
interface DioWriteCheck {
  extend: boolean;
  /** Every block of the range is allocated (written or unwritten) and inside i_size. */
  overwrite: boolean;
  /** Some block of the range is unwritten. */
  unwritten: boolean;
  /** ext4_unaligned_io(): offset or length not on a filesystem block. */
  unaligned: boolean;
}

function dioWriteCheck(inode: Inode, pos: number, len: number): DioWriteCheck {
  const bs = inode.blockSize;
  const extend = pos + len > inode.size;
  let overwrite = !extend && len > 0;
  let unwritten = false;
  for (let lblk = Math.floor(pos / bs); overwrite && lblk * bs < pos + len; lblk++) {
    const s = inode.extents.state(lblk);
    if (s === BlockState.Hole) overwrite = false;
    if (s === BlockState.Unwritten) unwritten = true;
  }
  return { extend, overwrite, unwritten, unaligned: pos % bs !== 0 || len % bs !== 0 };
}

/**
 * Takes i_rwsem as ext4_dio_write_iter and ext4_dio_write_checks settle it: shared unless the
 * unlocked quick check sees an extending write; under the shared lock, an extending write, a range
 * with a hole, or an unaligned write over unwritten blocks drops it and restarts exclusive.
 */
async function ext4DioWriteLock(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
): Promise<DioWriteCheck & { shared: boolean }> {
  // "Quick check here without any i_rwsem lock to see if it is extending IO."
  if (pos + len > inode.size) {
    await inode.iRwsem.downWrite(t, 'ext4_dio_write_iter:inode_lock');
    return { ...dioWriteCheck(inode, pos, len), shared: false };
  }
  await inode.iRwsem.downRead(t, 'ext4_dio_write_iter:inode_lock_shared');
  const c = dioWriteCheck(inode, pos, len);
  if (!(c.extend || !c.overwrite || (c.unaligned && c.unwritten))) return { ...c, shared: true };
  inode.iRwsem.upRead(t);
  await inode.iRwsem.downWrite(t, 'ext4_dio_write_checks:inode_lock');
  return { ...dioWriteCheck(inode, pos, len), shared: false };
}

/** The O_DIRECT part of ext4_dio_write_iter(), under the lock ext4DioWriteLock settled. */
async function ext4DioWriteLocked(
  t: Task,
  inode: Inode,
  io: { pos: number; len: number; ubuf: number },
  c: DioWriteCheck & { shared: boolean },
): Promise<number> {
  if (!c.shared) {
    const zerr = await writeChecksZeroEof(t, inode, io.pos);
    if (zerr) return zerr;
    // "unaligned && (!overwrite || unwritten)": partial-block zeroing must not race another DIO.
    if (c.unaligned && (!c.overwrite || c.unwritten)) await inodeDioWait(t, inode);
  }
  const ret = await iomapDioRw(t, inode, io.pos, io.len, io.ubuf, true);
  return ret === -ENOTBLK ? 0 : ret;
}

/** ext4_dio_write_iter(): the direct part, then the buffered fallback for what it left. */
async function ext4DioWriteIter(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
): Promise<number> {
  const c = await ext4DioWriteLock(t, inode, pos, len);
  let ret: number;
  try {
    ret = await ext4DioWriteLocked(t, inode, { pos, len, ubuf }, c);
  } finally {
    if (c.shared) inode.iRwsem.upRead(t);
    else inode.iRwsem.upWrite(t);
  }
  if (ret < 0 || ret >= len) return ret;
  // After i_rwsem is dropped: ext4_buffered_write_iter takes it again for the rest.
  return withIRwsemExcl(t, inode, 'ext4_buffered_write_iter:inode_lock', () =>
    directWriteFallback(t, inode, pos, len, ubuf, ret),
  );
}

export const ops: FileOperations = {
  readIter(t, inode, pos, len, ubuf, direct) {
    if (!direct) return filemapRead(t, inode, pos, len, ubuf, 'recorded'); // nothing after it
    return withIRwsemShared(t, inode, 'ext4_dio_read_iter:inode_lock_shared', () =>
      iomapDioRw(t, inode, pos, len, ubuf, false),
    );
  },
  writeIter(t, inode, pos, len, ubuf, direct) {
    if (direct) return ext4DioWriteIter(t, inode, pos, len, ubuf);
    return ext4BufferedWriteIter(t, inode, pos, len, ubuf);
  },
  fallocate(t, inode, mode, off, len, keepSize) {
    // ext4_fallocate (6.15 on): inode_lock and inode_dio_wait for every mode (inode_dio_wait is in
    // fallocateLocked), filemap_invalidate_lock for every mode but a plain allocation.
    if (mode === 'alloc')
      return withIRwsemExcl(t, inode, 'ext4_fallocate:inode_lock', () =>
        fallocateLocked(t, inode, mode, off, len, keepSize),
      );
    return fallocateUnderInvalidateLock(t, inode, 'ext4_fallocate', 'filemap_invalidate_lock', {
      mode,
      off,
      len,
      keepSize,
    });
  },
  ...invalidateLockIomapOps(
    truncateSites('ext4_setattr', 'filemap_invalidate_lock'),
    'ext4_page_mkwrite:filemap_invalidate_lock_shared',
  ),
};

export const ext4: Scheme = {
  name: 'ext4',
  summary:
    'ext4 as Linux 6.x runs it: iomap O_DIRECT under i_rwsem shared for overwrites, invalidate_lock for faults vs truncate/fallocate',
  invalidateLock: true,
  setupInode() {},
  ops,
};
