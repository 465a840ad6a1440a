/**
 * The generic read and write paths that schemes wrap with their locks (mm/filemap.c
 * filemap_read, generic_file_direct_write's buffered fallback, fs/read_write.c's checks).
 */
import { filemapGetPage, filemapWriteAndWaitRange, invalidateMappingPages } from '../mm/filemap.js';
import type { Folio } from '../mm/folio.js';
import { type AfterCopy, copyToUser, folioPut } from '../mm/memory.js';
import { EFAULT, EINVAL } from '../sim/errno.js';
import { ANYTHING, record } from '../sim/footprint.js';
import type { Task } from '../sim/task.js';
import type { Inode } from './fs.js';
import { iomapFileBufferedWrite, iomapZeroRange } from './iomap/buffered-io.js';

/**
 * filemap_read(): for each page: find or read it (filemap_get_pages), re-check i_size, copy to
 * the user buffer with page faults enabled (copy_folio_to_iter may fault on the destination,
 * which is how a read into an mmap of the same file re-enters the fault path). No inode lock.
 */
export async function filemapRead(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  /**
   * What the scheme does after filemap_read returns, up to its next point (AfterCopy): `recorded`
   * when everything it touches records itself (dropping its locks); it counts only if the
   * system call's caller records its part too (Task.syscallReturnRecorded).
   */
  tail: AfterCopy = 'anything',
): Promise<number> {
  const ps = inode.fs.pageSize;
  let done = 0;
  const tailRecorded = tail === 'recorded' && t.syscallReturnRecorded;
  // Every return but the first loop top's (done === 0: nothing ran since the caller's own point)
  // is in a step that began at a point of ours — a copy's last page, a lookup, a fault — and runs
  // on into the caller's tail, which may touch anything unless it records itself
  // (footprints: src/sim/footprint.ts).
  const leave = (ret: number, ranHere: boolean): number => {
    if (ranHere && !tailRecorded) record(ANYTHING, true);
    return ret;
  };
  while (done < len) {
    const off = pos + done;
    if (off >= inode.size) return leave(done, done > 0);
    const got = await filemapGetPage(t, inode.mapping, Math.floor(off / ps));
    if (typeof got === 'number') return leave(done || got, true);
    const folio: Folio = got;
    folio.refcount++;
    // i_size may have shrunk while we slept: never copy bytes beyond the EOF we see now.
    const n = Math.min(len - done, ps - (off % ps), inode.size - off);
    if (n <= 0) {
      folioPut(folio);
      return leave(done, true);
    }
    const copied = await copyToUser(t, ubuf + done, folio.data, off % ps, n, 'recorded', folio.fpObj);
    // folio_put: the folio's reference count, its page granule (and the granule's parent, the
    // inode, read: a step that declares the whole inode conflicts with it).
    record(folio.fpObj, true);
    record(inode.ino, false);
    folioPut(folio);
    done += copied;
    // A short copy (a fault that failed, or page faults disabled) returns like a full one.
    if (copied < n) return leave(done || -EFAULT, true);
  }
  return leave(done, true);
}

/** Common argument checks of read(2)/write(2) (rw_verify_area and friends). */
export function rwVerifyArea(pos: number, len: number): number {
  if (pos < 0 || len < 0 || !Number.isSafeInteger(pos + len)) return -EINVAL;
  return 0;
}

/**
 * The part of write checks that zeroes the gap between the old EOF and a write beginning past it
 * (xfs_file_write_checks / ext4's EOF zeroing): bytes a mmap store left beyond EOF in the EOF page
 * must not become file data. Context: i_rwsem exclusive.
 */
export async function writeChecksZeroEof(t: Task, inode: Inode, pos: number): Promise<number> {
  if (pos <= inode.size) return 0;
  const ps = inode.fs.pageSize;
  const end = Math.min(pos, Math.ceil(inode.size / ps) * ps);
  if (end <= inode.size) return 0;
  return iomapZeroRange(t, inode, inode.size, end - inode.size);
}

/**
 * direct_write_fallback() (fs/libfs.c, 6.6+; the same steps in ext4_dio_write_iter, btrfs's
 * btrfs_direct_write and __generic_file_write_iter before it): after -ENOTBLK (or a short direct
 * write), write the rest through the page cache, write it back and wait, then drop the range with
 * invalidate_mapping_pages() — not invalidate_inode_pages2_range(): a folio that is mapped, dirty
 * again, locked, under writeback or held by someone stays cached, and nothing is unmapped. A
 * writeback error returns what the direct part wrote, or the error. Context: i_rwsem exclusive.
 */
export async function directWriteFallback(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  done: number,
): Promise<number> {
  if (t.tracing) t.event('direct_write_fallback', `${inode.name} [${pos + done},${pos + len}) buffered`);
  const n = await iomapFileBufferedWrite(t, inode, pos + done, len - done, ubuf + done);
  if (n < 0) return done || n;
  const ps = inode.fs.pageSize;
  const err = await filemapWriteAndWaitRange(t, inode.mapping, pos + done, pos + done + n);
  if (err) return done || err;
  invalidateMappingPages(
    t,
    inode.mapping,
    Math.floor((pos + done) / ps),
    Math.ceil((pos + done + n) / ps) - 1,
  );
  return done + n;
}
