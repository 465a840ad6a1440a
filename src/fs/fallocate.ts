/**
 * fallocate(2) and truncate: the argument rules of vfs_fallocate + ext4/xfs, and the page cache
 * and block map work once the scheme holds its locks.
 *
 * The order, as ext4 and xfs do it: (scheme locks: i_rwsem, then MMAPLOCK/invalidate_lock
 * exclusive where the scheme has one) → inode_dio_wait → write back → drop the page cache of the
 * range (truncate_pagecache_range) → change the block map → i_size. Kent Overstreet (seed 004):
 * truncate's trick "only works for truncate because it's changing i_size and shooting down pages
 * above i_size. Fallocate needs to shoot down pages that are still within i_size" — nothing in
 * this function stops a fault from re-reading a page after the shoot-down; only a scheme lock can.
 */
import { TAG_ZERO } from '../block/data.js';
import { filemapWriteAndWaitRange, truncatePagecache, truncatePagecacheRange } from '../mm/filemap.js';
import { EFBIG, EINVAL, EOPNOTSUPP } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import { BlockState } from './extent.js';
import { type FallocMode, type Inode, inodeDioWait } from './fs.js';
import { allocateUnwritten, iomapZeroRange } from './iomap/buffered-io.js';

/** vfs_fallocate() + the filesystem's checks. Returns 0 or -errno without touching anything. */
export function fallocateCheck(
  inode: Inode,
  mode: FallocMode,
  off: number,
  len: number,
  keepSize: boolean,
): number {
  if (off < 0 || len <= 0) return -EINVAL;
  if (off + len > inode.fs.maxBytes) return -EFBIG;
  const bs = inode.blockSize;
  switch (mode) {
    case 'punch':
      // FALLOC_FL_PUNCH_HOLE must come with FALLOC_FL_KEEP_SIZE (the parser implies it).
      return keepSize ? 0 : -EOPNOTSUPP;
    case 'collapse':
      // COLLAPSE and INSERT with KEEP_SIZE: EOPNOTSUPP since "fs: sort out the fallocate mode vs
      // flag mess" (Hellwig, Linux 6.12); EINVAL before ("should only be used exclusively").
      if (keepSize) return -EOPNOTSUPP;
      if (off % bs !== 0 || len % bs !== 0) return -EINVAL;
      // "There is no need to overlap collapse range with EOF, in which case it is effectively a truncate".
      if (off + len >= inode.size) return -EINVAL;
      return 0;
    case 'insert':
      if (keepSize) return -EOPNOTSUPP;
      if (off % bs !== 0 || len % bs !== 0) return -EINVAL;
      if (off >= inode.size) return -EINVAL;
      if (inode.size + len > inode.fs.maxBytes) return -EFBIG;
      return 0;
    default:
      return 0;
  }
}

/**
 * The body of ->fallocate once the scheme holds its locks: inode_dio_wait, flush and drop the
 * page cache where the block map changes, then change it. Returns 0 or -errno.
 */
export async function fallocateLocked(
  t: Task,
  inode: Inode,
  mode: FallocMode,
  off: number,
  len: number,
  keepSize: boolean,
): Promise<number> {
  await inodeDioWait(t, inode);
  const bs = inode.blockSize;
  const end = off + len;
  // An allocation's step records all it touches (docs/architecture.md, "Step footprints"); every
  // other mode changes the page cache and the block map of its range wholesale: the inode.
  if (mode === 'alloc') await t.pointRecorded('fallocate:alloc');
  else await t.point(`fallocate:${mode}`, inode.ino, true);
  switch (mode) {
    case 'alloc': {
      const err = allocateUnwritten(
        t,
        inode,
        Math.floor(off / bs),
        Math.ceil(end / bs) - Math.floor(off / bs),
      );
      if (err) return err;
      if (!keepSize && end > inode.size) return extendSize(t, inode, end);
      return 0;
    }
    case 'punch':
    case 'zero':
      return punchOrZero(t, inode, mode, off, len, keepSize);
    case 'collapse':
      // The EOF rule again, under the scheme's locks, where Linux checks it: ext4_collapse_range
      // after inode_lock() ("if (end >= inode->i_size) return -EINVAL;"), xfs_falloc_collapse_range
      // under IOLOCK_EXCL. fallocateCheck ran before the locks, and a truncate may have shrunk the
      // file since (found by pagelab fsx --tasks: a collapse left i_size negative).
      if (end >= inode.size) return -EINVAL;
      return collapseRange(t, inode, off, len);
    case 'insert':
      // ext4_insert_range after inode_lock(): "if (len > inode->i_sb->s_maxbytes - inode->i_size)
      // ret = -EFBIG;" and "Offset must be less than i_size: if (offset >= inode->i_size) ret = -EINVAL;".
      if (inode.size + len > inode.fs.maxBytes) return -EFBIG;
      if (off >= inode.size) return -EINVAL;
      return insertRange(t, inode, off, len);
  }
}

async function punchOrZero(
  t: Task,
  inode: Inode,
  mode: 'punch' | 'zero',
  off: number,
  len: number,
  keepSize: boolean,
): Promise<number> {
  const bs = inode.blockSize;
  const end = off + len;
  const err = await filemapWriteAndWaitRange(t, inode.mapping, off, end);
  if (err) return err;
  // Partial blocks at the edges are zeroed through the page cache (ext4_zero_partial_blocks).
  const headEnd = Math.min(end, Math.ceil(off / bs) * bs);
  if (off % bs !== 0 && off < inode.size)
    await iomapZeroRange(t, inode, off, Math.min(headEnd, inode.size) - off);
  const tailStart = Math.max(headEnd, Math.floor(end / bs) * bs);
  if (end % bs !== 0 && tailStart < end && tailStart < inode.size) {
    await iomapZeroRange(t, inode, tailStart, Math.min(end, inode.size) - tailStart);
  }
  await truncatePagecacheRange(t, inode.mapping, off, end);
  const first = Math.ceil(off / bs);
  const last = Math.floor(end / bs);
  await t.point(`fallocate:${mode}:extents`, inode.ino, true);
  if (last > first) {
    for (const pblk of inode.extents.punch(first, last - first)) inode.fs.alloc.release(pblk);
    if (mode === 'zero') {
      const aerr = allocateUnwritten(t, inode, first, last - first);
      if (aerr) return aerr;
    }
    if (t.tracing) t.event(`fallocate:${mode}`, `${inode.name} blocks [${first},${last})`);
  }
  if (mode === 'zero' && !keepSize && end > inode.size) return extendSize(t, inode, end);
  return 0;
}

function roundDownToPage(inode: Inode, off: number): number {
  const ps = inode.fs.pageSize;
  return Math.floor(off / ps) * ps;
}

async function collapseRange(t: Task, inode: Inode, off: number, len: number): Promise<number> {
  const bs = inode.blockSize;
  // Everything from off to EOF moves: write it all back, then drop it all from the cache, from
  // the page boundary down (ext4_collapse_range: ioffset = round_down(offset, PAGE_SIZE)).
  const ioffset = roundDownToPage(inode, off);
  const err = await filemapWriteAndWaitRange(t, inode.mapping, ioffset, Number.MAX_SAFE_INTEGER);
  if (err) return err;
  await truncatePagecache(t, inode.mapping, ioffset);
  await t.point('fallocate:collapse:extents', inode.ino, true);
  for (const pblk of inode.extents.collapse(off / bs, len / bs)) inode.fs.alloc.release(pblk);
  inode.size -= len;
  if (t.tracing)
    t.event('fallocate:collapse', `${inode.name} [${off},${off + len}) removed, size ${inode.size}`);
  return daxZeroEofBlock(t, inode);
}

/**
 * The new EOF block's bytes past i_size zeroed on the media, for a DAX file. A store through a
 * mapping past EOF in the EOF page goes straight to the media under DAX (no writeback zeroes it, as
 * iomap_writepage_handle_eof does for the page cache), and collapse and insert move that block: XFS
 * zeroes it when it changes i_size around the shift (xfs_falloc_setsize → xfs_setattr_size:
 * xfs_zero_range from the old EOF when growing, before an insert; xfs_truncate_page at the new EOF
 * when shrinking, after a collapse). Found by fsx -e 1 replayed on the dax schemes.
 */
async function daxZeroEofBlock(t: Task, inode: Inode): Promise<number> {
  const bs = inode.blockSize;
  const tail = inode.size % bs;
  if (!inode.mapping.dax || tail === 0) return 0;
  return iomapZeroRange(t, inode, inode.size, bs - tail);
}

async function insertRange(t: Task, inode: Inode, off: number, len: number): Promise<number> {
  const bs = inode.blockSize;
  const zerr = await daxZeroEofBlock(t, inode);
  if (zerr) return zerr;
  const ioffset = roundDownToPage(inode, off);
  const err = await filemapWriteAndWaitRange(t, inode.mapping, ioffset, Number.MAX_SAFE_INTEGER);
  if (err) return err;
  await truncatePagecache(t, inode.mapping, ioffset);
  await t.point('fallocate:insert:extents', inode.ino, true);
  inode.extents.insert(off / bs, len / bs);
  inode.size += len;
  if (t.tracing)
    t.event('fallocate:insert', `${inode.name} [${off},${off + len}) inserted, size ${inode.size}`);
  return 0;
}

/**
 * Moves i_size up, zeroing first what lies between the old EOF and the end of its page in the page
 * cache: a store through a mapping may have left bytes there that were never file data (the
 * iomap_zero_range of xfs_setattr_size; pagecache_isize_extended makes the next store fault).
 * What follows the zeroing records itself: i_size, then the return through the
 * scheme's lock releases to the end of the system call — so the zeroing's steps declare only the
 * EOF page.
 */
export async function extendSize(t: Task, inode: Inode, size: number): Promise<number> {
  const ps = inode.fs.pageSize;
  const old = inode.size;
  const tailEnd = Math.min(size, Math.ceil(old / ps) * ps);
  if (tailEnd > old) {
    const err = await iomapZeroRange(t, inode, old, tailEnd - old, true);
    if (err) return err;
  }
  inode.size = Math.max(inode.size, size);
  return 0;
}

/**
 * The truncate part of ->setattr (truncate_setsize + block freeing) once the scheme holds its
 * locks: inode_dio_wait, zero the partial EOF block through the page cache, move i_size, drop the
 * page cache beyond it, free the blocks.
 */
export async function truncateLocked(t: Task, inode: Inode, size: number): Promise<number> {
  if (size < 0 || size > inode.fs.maxBytes) return -EINVAL;
  await inodeDioWait(t, inode);
  const bs = inode.blockSize;
  const old = inode.size;
  if (size > old) {
    if (t.tracing) t.event('truncate', `${inode.name} up to ${size}`);
    return extendSize(t, inode, size);
  }
  if (size % bs !== 0 && inode.extents.state(Math.floor(size / bs)) !== BlockState.Hole) {
    await iomapZeroRange(t, inode, size, Math.ceil(size / bs) * bs - size);
  }
  await t.point('truncate_setsize', inode.ino, true);
  inode.size = size;
  await truncatePagecache(t, inode.mapping, size);
  for (const pblk of inode.extents.truncate(Math.ceil(size / bs))) inode.fs.alloc.release(pblk);
  if (t.tracing) t.event('truncate', `${inode.name} down to ${size}`);
  return 0;
}

export { TAG_ZERO };
