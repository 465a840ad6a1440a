/**
 * Buffered I/O through the page cache (fs/iomap/buffered-io.c, mm/page-writeback.c):
 * ->read_folio, the buffered write loop, ->page_mkwrite, zeroing, and writeback.
 *
 * Lock ordering inside (callers hold the scheme's locks above these):
 *   i_rwsem (exclusive, held by the caller of iomapFileBufferedWrite)
 *     folio_lock
 *       (the copy from user memory runs with page faults disabled: faulting on the folio we
 *        hold locked would deadlock — generic_perform_write's "nasty deadlock" comment)
 */
import { type Bio, type BioSeg, PRIVATE_BUFFER } from '../../block/bdev.js';
import { TAG_ZERO } from '../../block/data.js';
import {
  type AddressSpace,
  folioMarkDirty,
  VM_FAULT_LOCKED,
  VM_FAULT_NOPAGE,
  type VmFault,
  type WritebackControl,
} from '../../mm/filemap.js';
import type { Folio } from '../../mm/folio.js';
import { type AfterCopy, copyFromUser, faultInIovIterReadable } from '../../mm/memory.js';
import { EFAULT, EIO } from '../../sim/errno.js';
import { ANYTHING, isRecording, objectId, record } from '../../sim/footprint.js';
import type { Task } from '../../sim/task.js';
import { BlockState } from '../extent.js';
import type { Inode } from '../fs.js';

/** Allocates unwritten blocks for the holes among [lblk, lblk+n). Returns 0 or -ENOSPC. */
export function allocateUnwritten(t: Task, inode: Inode, lblk: number, n: number): number {
  for (let b = lblk; b < lblk + n; b++) {
    if (inode.extents.state(b) !== BlockState.Hole) continue;
    const pblk = inode.fs.alloc.alloc();
    if (pblk < 0) return pblk;
    inode.extents.set(b, BlockState.Unwritten, pblk);
    if (t.tracing) t.event('iomap_begin:allocate', `${inode.name} lblk ${b} → pblk ${pblk} (unwritten)`);
  }
  return 0;
}

/** A read bio being built (iomap_read_folio_ctx's read_ctx): where it starts on the device, its length. */
interface ReadBio {
  addr: number;
  len: number;
  segs: BioSeg[];
}

/**
 * Reads the blocks of a folio from disk, as iomap_read_folio does (fs/iomap/buffered-io.c): one
 * ->iomap_begin per mapping (iomap_iter), each a scheduling point here, since the filesystem's lock
 * (XFS_ILOCK_SHARED in xfs_read_iomap_begin) is dropped between two; its blocks are then walked by
 * iomap_read_folio_iter (iomap_readpage_iter before the 2025 rework): past i_size
 * (iomap_adjust_read_range cuts a mapping at the EOF block) and over a hole or unwritten extent
 * (iomap_block_needs_zeroing) folio_zero_range, else the range is added to the bio being built when
 * it starts where that bio ends on the device, or that bio is submitted and a new one started
 * (fs/iomap/bio.c iomap_bio_read_folio_range: `bio_end_sector(bio) != sector ||
 * !bio_add_folio(...)`); the last is submitted after the loop (->submit_read). So a folio over one
 * written extent is read by one bio. No block is skipped as already uptodate: the model's folio is
 * uptodate whole or not at all (a partial write reads it whole first: iomapWriteBegin).
 * Context: folio locked. Departure: the completions are waited for here, in the reader's context,
 * instead of the last one unlocking the folio from its end_io (iomap_finish_folio_read →
 * folio_end_read); the folio stays locked across the I/O either way, which is what the
 * interleavings depend on.
 */
export async function iomapReadFolioSync(t: Task, inode: Inode, folio: Folio): Promise<number> {
  const bs = inode.blockSize;
  const ps = inode.fs.pageSize;
  const nblocks = ps / bs;
  const first = (folio.index * ps) / bs;
  const bios: Bio[] = [];
  let building: ReadBio | null = null;
  for (let b = 0; b < nblocks; ) {
    // ->iomap_begin: the folio's own page; i_size and the extent map record themselves.
    await t.pointPages('iomap_read_folio_iter', inode.ino, folio.index, folio.index + 1, true);
    const map = inode.extents.lookup(first + b, nblocks - b);
    // The blocks of the mapping that start below i_size are read; the rest are zeroed.
    const belowEof = Math.min(map.len, Math.max(0, Math.ceil(inode.size / bs) - (first + b)));
    const read = map.state === BlockState.Written ? belowEof : 0;
    if (t.tracing) t.event('iomap_read_folio_iter', readEvent(folio, first + b, map.len, read, map.pblk));
    if (read > 0) {
      const seg: BioSeg = { buf: folio.data, off: b * bs, len: read * bs, obj: folio.fpObj };
      const addr = map.pblk * bs;
      if (building && building.addr + building.len === addr) addToBio(building, seg);
      else {
        if (building) bios.push(submitReadBio(t, inode, building));
        building = { addr, len: 0, segs: [] };
        addToBio(building, seg);
      }
    }
    folio.data.fill(TAG_ZERO, (b + read) * bs, (b + map.len) * bs);
    b += map.len;
  }
  if (building) bios.push(submitReadBio(t, inode, building));
  let err = 0;
  for (const bio of bios) {
    await bio.done.wait(t, 'iomap_read_folio:wait_read');
    err ||= bio.error;
  }
  if (err) return err;
  const eofInPage = inode.size - folio.index * ps;
  if (eofInPage < ps && eofInPage >= 0) folio.data.fill(TAG_ZERO, eofInPage, ps);
  folio.uptodate = true;
  return 0;
}

/** bio_add_folio: a range of the folio right after the previous one extends its segment. */
function addToBio(bio: ReadBio, seg: BioSeg): void {
  const last = bio.segs[bio.segs.length - 1];
  if (last && last.off + last.len === seg.off) last.len += seg.len;
  else bio.segs.push(seg);
  bio.len += seg.len;
}

/** submit_bio of a read bio: its completion writes the folio's data (its segments) and nothing else. */
function submitReadBio(t: Task, inode: Inode, r: ReadBio): Bio {
  const bio = inode.fs.bdev.submitBio(t, 'read', r.addr, r.segs);
  inode.fs.bdev.footprintRecorded(bio);
  return bio;
}

/** The trace's line for one mapping of a fill: what was read, from where, and what was zeroed. */
function readEvent(folio: Folio, lblk: number, len: number, read: number, pblk: number): string {
  const parts: string[] = [];
  if (read) parts.push(`${read} read from pblk ${pblk}`);
  if (len > read) parts.push(`${len - read} zeroed`);
  return `${folio.name} lblk ${lblk}+${len}: ${parts.join(', ')}`;
}

/** ->read_folio: reads and unlocks the folio. */
export async function iomapReadFolio(t: Task, inode: Inode, folio: Folio): Promise<number> {
  const err = await iomapReadFolioSync(t, inode, folio);
  folio.lock.unlock(t);
  return err;
}

/**
 * iomap_write_begin(): finds or creates the folio, locked, reading it first if the write does not
 * cover it whole. Allocation (->iomap_begin) is done here for holes. Returns the folio or -errno.
 */
async function iomapWriteBegin(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  /**
   * The caller goes on with this folio only, up to its next point (the buffered write's copy, or
   * iomapZeroRange when its own caller's continuation records itself, extendSize): the lookup
   * declares page `index` alone. Otherwise (iomap_zero_range from fallocate and truncate paths that
   * go on unrecorded) the whole inode.
   */
  ownPage = false,
): Promise<Folio | number> {
  const mapping = inode.mapping;
  const ps = inode.fs.pageSize;
  const bs = inode.blockSize;
  const index = Math.floor(pos / ps);
  const err = allocateUnwritten(
    t,
    inode,
    Math.floor(pos / bs),
    Math.ceil((pos + len) / bs) - Math.floor(pos / bs),
  );
  if (err) return err;
  for (let attempt = 0; attempt < 1000; attempt++) {
    // The slot and the folio lock record themselves; the folio's flags and data, and ->read_folio
    // (which declares the same page), are page `index`'s.
    if (ownPage) await t.pointPages('iomap_write_begin:grab_folio', inode.ino, index, index + 1, true);
    else await t.point('iomap_write_begin:grab_folio', inode.ino, true);
    let folio = mapping.get(index);
    if (!folio) folio = mapping.addFolio(t, index);
    else await folio.lock.lock(t, 'iomap_write_begin:folio_lock');
    if (folio.mapping !== mapping) {
      folio.lock.unlock(t);
      continue;
    }
    await folio.waitWriteback(t, 'iomap_write_begin:folio_wait_stable');
    const whole = pos % ps === 0 && len === ps;
    if (!folio.uptodate && !whole) {
      const rerr = await iomapReadFolioSync(t, inode, folio);
      if (rerr) {
        folio.lock.unlock(t);
        return rerr;
      }
    }
    return folio;
  }
  throw new Error('iomap_write_begin: no progress');
}

/**
 * The step goes on into the caller, which may touch anything before its next point unless its
 * tail records itself (`tailRecorded`: see iomapFileBufferedWrite).
 */
function callerGoesOn(ret: number, tailRecorded: boolean): number {
  if (!tailRecorded) record(ANYTHING, true);
  return ret;
}

/**
 * iomap_file_buffered_write() / generic_perform_write(): per folio, fault the source in, lock the
 * folio, copy with page faults disabled, dirty it, unlock. A copy that makes no progress (the
 * source page was reclaimed or unmapped after the fault-in) retries after faulting in again.
 * Context: the caller holds i_rwsem exclusive (or the scheme's equivalent). Returns bytes or -errno.
 */
export async function iomapFileBufferedWrite(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  /**
   * What the scheme does after this returns, up to its next point (AfterCopy): `recorded` when all
   * it touches records itself (dropping its locks); it counts only if the system call's caller
   * records its part too (Task.syscallReturnRecorded).
   */
  tail: AfterCopy = 'anything',
): Promise<number> {
  const ps = inode.fs.pageSize;
  const tailRecorded = tail === 'recorded' && t.syscallReturnRecorded;
  let done = 0;
  let retries = 0;
  while (done < len) {
    const off = pos + done;
    const chunk = Math.min(len - done, ps - (off % ps));
    // Returning into the caller from a step a recorded copy continued (below).
    if ((await faultInIovIterReadable(t, ubuf + done, chunk)) === chunk)
      return callerGoesOn(done || -EFAULT, tailRecorded);
    const folio = await iomapWriteBegin(t, inode, off, chunk, true);
    if (typeof folio === 'number') return callerGoesOn(done || folio, tailRecorded);
    t.pagefaultDisabled++;
    // What follows the copy up to the next point is recorded: the folio's data and flags
    // (recorded below), i_size, the folio lock, and the next chunk's fault-in walk; after the last
    // one the caller goes on, recorded only if its tail is (AfterCopy).
    const last = done + chunk >= len;
    const copied = await copyFromUser(
      t,
      folio.data,
      off % ps,
      ubuf + done,
      chunk,
      last && !tailRecorded ? 'anything' : 'recorded',
      folio.fpObj,
    );
    t.pagefaultDisabled--;
    // The copy wrote the folio's data; write_end sets its flags: its page granule (and the inode,
    // the granule's parent, read).
    record(folio.fpObj, true);
    record(inode.ino, false);
    if (copied === chunk || folio.uptodate) iomapWriteEnd(t, inode, folio, off, copied, chunk);
    folio.lock.unlock(t);
    if (copied === 0) {
      if (++retries > 64) return callerGoesOn(done || -EFAULT, tailRecorded);
      continue;
    }
    done += copied;
  }
  return done;
}

/** iomap_write_end(): uptodate, dirty, and i_size extended when the write passes EOF. */
function iomapWriteEnd(t: Task, inode: Inode, folio: Folio, pos: number, copied: number, len: number): void {
  if (copied === len) folio.uptodate = true;
  folioMarkDirty(t, folio);
  if (pos + copied > inode.size) {
    inode.size = pos + copied;
    if (t.tracing) t.event('i_size_write', `${inode.name} size ${inode.size}`);
  }
}

/**
 * iomap_zero_range() for the part of one page: zeroes [pos, pos+len) through the page cache so a
 * later extension does not expose stale bytes past the old EOF. Context: i_rwsem held.
 */
export async function iomapZeroRange(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  tailRecorded = false,
): Promise<number> {
  // xfs_zero_range / ext4_zero_partial_blocks: a DAX file is zeroed on the media (dax_zero_range).
  if (inode.mapping.dax) return inode.mapping.dax.zeroRange(t, pos, len);
  const ps = inode.fs.pageSize;
  let done = 0;
  while (done < len) {
    const off = pos + done;
    const chunk = Math.min(len - done, ps - (off % ps));
    const lblk = Math.floor(off / inode.blockSize);
    const page = inode.mapping.get(Math.floor(off / ps));
    // iomap_zero_range (Linux ≥ 6.12, Brian Foster): "Zero range can skip mappings that are zero
    // on disk so long as pagecache is clean. If pagecache was dirty prior to zero range, the
    // mapping converts on writeback completion and so must be zeroed." A clean cached page over a
    // hole or unwritten block is left alone: zeroing it would dirty it and writeback would turn the
    // unwritten block written (found by the differential test: ext4 on 6.18 leaves the EOF block
    // of a truncate into fallocated space unwritten, so a misaligned O_DIRECT read of it is not
    // EINVAL).
    const dirty = page !== undefined && (page.dirty || page.writeback);
    if (dirty || inode.extents.state(lblk) === BlockState.Written) {
      const folio = await iomapWriteBegin(t, inode, off, chunk, tailRecorded);
      if (typeof folio === 'number') return folio;
      folio.data.fill(TAG_ZERO, off % ps, (off % ps) + chunk);
      folio.uptodate = true;
      folioMarkDirty(t, folio);
      folio.lock.unlock(t);
    }
    done += chunk;
  }
  return 0;
}

/**
 * iomap_page_mkwrite(): locks the folio, checks it is still this file's and inside i_size,
 * allocates blocks for the holes under it, dirties it. Returns VM_FAULT_LOCKED or VM_FAULT_NOPAGE
 * (the folio was truncated or invalidated: the fault is retried).
 */
export async function iomapPageMkwrite(t: Task, inode: Inode, vmf: VmFault): Promise<number> {
  const folio = vmf.folio as Folio;
  const ps = inode.fs.pageSize;
  const bs = inode.blockSize;
  await folio.lock.lock(t, 'iomap_page_mkwrite:folio_lock');
  if (folio.mapping !== inode.mapping || folio.index * ps >= inode.size) {
    folio.lock.unlock(t);
    return VM_FAULT_NOPAGE;
  }
  const end = Math.min(inode.size, (folio.index + 1) * ps);
  const first = (folio.index * ps) / bs;
  const err = allocateUnwritten(t, inode, first, Math.ceil(end / bs) - first);
  if (err) {
    folio.lock.unlock(t);
    return VM_FAULT_NOPAGE | 2; // VM_FAULT_SIGBUS on ENOSPC, as vmf_fs_error(-ENOSPC)
  }
  folioMarkDirty(t, folio);
  await folio.waitWriteback(t, 'iomap_page_mkwrite:folio_wait_stable');
  return VM_FAULT_LOCKED;
}

/** What writeback does with a folio that a DMA pin may still be writing to (seed 002). */
export type PinnedWritebackAction = 'write' | 'skip' | 'fail' | 'bounce';

export interface WritepagesHooks {
  /** Called with the folio locked and pinned, before it is cleaned. Default: write it as is. */
  pinned?: (t: Task, folio: Folio, wbc: WritebackControl) => Promise<PinnedWritebackAction>;
}

/**
 * write_cache_pages() + iomap_writepage_map(): for each dirty folio of the range: lock it, wait
 * for writeback under WB_SYNC_ALL, clear_page_dirty_for_io (which write-protects its PTEs:
 * folio_mkclean), set writeback, unlock, and submit a write bio per contiguous block run; the
 * bio's end_io converts unwritten extents and ends writeback. Returns 0 or -errno.
 */
export async function iomapWritepages(
  t: Task,
  inode: Inode,
  wbc: WritebackControl,
  hooks: WritepagesHooks = {},
): Promise<number> {
  const mapping = inode.mapping;
  const ps = inode.fs.pageSize;
  let ret = 0;
  const last = Math.ceil(Math.min(wbc.end, Number.MAX_SAFE_INTEGER) / ps) - 1;
  // The folios dirty when the walk starts, found by their mark: WB_SYNC_ALL's
  // tag_pages_for_writeback (PAGECACHE_TAG_TOWRITE). Departure: a WB_SYNC_NONE walk in Linux goes
  // by the dirty mark as it advances, so it may also write a folio dirtied ahead of its cursor.
  const dirty = mapping.dirtyTag.in(Math.floor(wbc.start / ps), last);
  for (const index of dirty) {
    // The step looks the folio up, locks, cleans and submits it: its page, and the inode read
    // (i_size, i_mmap for folio_mkclean); the PTEs, the marks, the extent map, wb_err and the bios
    // record themselves.
    await t.pointPages('write_cache_pages:lookup', inode.ino, index, index + 1, true);
    const folio = mapping.get(index);
    if (!folio?.dirty) continue;
    await folio.lock.lock(t, 'write_cache_pages:folio_lock');
    if (folio.mapping !== mapping || !folio.dirty) {
      folio.lock.unlock(t);
      continue;
    }
    if (folio.writeback) {
      if (!wbc.syncAll) {
        folio.lock.unlock(t);
        continue;
      }
      await folio.waitWriteback(t, 'write_cache_pages:folio_wait_writeback');
    }
    let action: PinnedWritebackAction = 'write';
    if (folio.maybeDmaPinned && hooks.pinned) {
      record(inode.ino, true); // the scheme's hook: the inode, as the whole step once declared
      action = await hooks.pinned(t, folio, wbc);
    }
    if (action === 'skip') {
      if (t.tracing) t.event('writeback:skip_pinned', `${folio.name} left dirty: pinned`, folio.id);
      folio.lock.unlock(t);
      continue;
    }
    if (action === 'fail') {
      if (t.tracing) t.event('writeback:fail_pinned', `${folio.name}: pinned, -EIO`, folio.id);
      folio.lock.unlock(t);
      ret = -EIO;
      continue;
    }
    const err = await writeOneFolio(t, inode, folio, action === 'bounce');
    if (err && !ret) ret = err;
  }
  // The step that leaves the walk goes on into the caller: the whole inode, as the walk's points
  // once declared, unless the caller says its continuation records itself (genericFsync).
  if (dirty.length > 0 && !wbc.tailRecorded) record(inode.ino, true);
  return ret;
}

/** clear_page_dirty_for_io + folio_mkclean: clean the folio and write-protect every PTE of it. */
function clearPageDirtyForIo(t: Task, mapping: AddressSpace, folio: Folio): void {
  folio.dirty = false;
  for (const vma of mapping.iMmap) {
    const v = vma as unknown as { ptes: Map<number, { folio: Folio; writable: boolean }> };
    for (const pte of v.ptes.values()) if (pte.folio === folio) pte.writable = false;
  }
  t.event('clear_page_dirty_for_io', folio.name, folio.id);
}

async function writeOneFolio(t: Task, inode: Inode, folio: Folio, bounce: boolean): Promise<number> {
  const ps = inode.fs.pageSize;
  const bs = inode.blockSize;
  clearPageDirtyForIo(t, inode.mapping, folio);
  folio.writeback = true;
  // iomap_writepage_handle_eof(): the part of a folio straddling EOF beyond i_size is zeroed on
  // every writeback, "because it may be mmapped" and written there.
  const eof = inode.size - folio.index * ps;
  if (eof > 0 && eof < ps) folio.data.fill(TAG_ZERO, eof, ps);
  // A bounce buffer is a stable copy: the device writes what the page held when it was cleaned,
  // whatever a DMA through a pin does to the page afterwards.
  const src = bounce ? folio.data.slice() : folio.data;
  const first = (folio.index * ps) / bs;
  const nblocks = Math.max(0, Math.min(ps / bs, Math.ceil(inode.size / bs) - first));
  const allocErr = allocateUnwritten(t, inode, first, nblocks);
  folio.lock.unlock(t);
  if (allocErr) {
    folio.endWriteback();
    inode.mapping.wbErr.set(allocErr);
    return allocErr;
  }
  let pending = 0;
  const pendingObj = isRecording() ? objectId(`writeback bios of ${folio.name}`) : -1;
  for (let b = 0; b < nblocks; b++) {
    const lblk = first + b;
    const pblk = inode.extents.pblk(lblk);
    // The DMA reads the folio (a bounce copy is the bio's alone) when the bio completes.
    const obj = bounce ? PRIVATE_BUFFER : folio.fpObj;
    const bio = inode.fs.bdev.submitBio(t, 'write', pblk * bs, [{ buf: src, off: b * bs, len: bs, obj }]);
    if (bio.irq) folio.writebackWait.by.push(bio.irq);
    pending++;
    bio.endIo = (ct) => {
      // The extent map records itself; the folio's flags (PG_writeback, and `pending`, which the
      // folio's other bios share) are the folio's object — its page granule: every step that looks
      // at a cached folio's flags declares or records that granule. folio_end_writeback records
      // the writeback mark and its wake-ups itself. The granule's parent, the inode, is read (a
      // step that declares the whole inode conflicts with it: src/sim/footprint.ts).
      // Only the last completion changes the flags: the others count `pending` down, which
      // nothing else reads, so they commute with each other (a group access of the count, as a
      // mode lock's grants: src/sim/footprint.ts); the last one writes the count, so the order
      // that makes another bio the last is explored too (fs/iomap/buffered-io.c,
      // iomap_finish_folio_write: "if (!ifs || atomic_sub_and_test(len,
      // &ifs->write_bytes_pending)) folio_end_writeback(folio);"). Each converts its own block:
      // the extent map records it per block.
      record(inode.ino, false);
      if (inode.extents.state(lblk) === BlockState.Unwritten && inode.extents.pblk(lblk) === pblk) {
        inode.extents.set(lblk, BlockState.Written, pblk);
      }
      if (--pending === 0) {
        ct.touch(pendingObj, true);
        record(folio.fpObj, true);
        folio.endWriteback();
      } else ct.touchGroup(pendingObj, 0);
    };
    inode.fs.bdev.footprintRecorded(bio);
  }
  if (pending === 0) folio.endWriteback();
  // What follows is the walk's next lookup, or its end (which records the caller's share).
  await t.pointRecorded('iomap_writepage_map:submitted');
  return 0;
}
