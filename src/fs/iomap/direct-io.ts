/**
 * O_DIRECT through iomap (fs/iomap/direct-io.c, __iomap_dio_rw). The order of steps is Linux's:
 *
 *   read:  kiocb_write_and_wait: write back dirty cache over the range (its error fails the
 *          read; no invalidation since 5.9)
 *   write: kiocb_invalidate_pages: write back, then invalidate_inode_pages2_range
 *          (either failing: -ENOTBLK, the caller falls back to buffered I/O; before 5.9 a writeback
 *          error failed the write and a failed invalidation was ignored)
 *   inode_dio_begin
 *   per extent (iomap_iter → ->iomap_begin, which allocates unwritten blocks for a write):
 *          holes/unwritten on read: zero the user buffer (a CPU copy: it can fault)
 *          mapped: bio_iov_iter_get_pages (GUP pin of the user buffer, honours nofault), submit;
 *          a write zeroes the head of a sub-block unwritten block before its bio and the tail
 *          after it (iomap_dio_zero), or the tail past EOF; a short pin submits what it pinned
 *          and the next ->iomap_begin goes on from there (-EFAULT when a pass pins nothing)
 *          ->iomap_begin -ENOTBLK (gfs2 over a hole, btrfs): stop; what was submitted completes
 *   wait for the bios
 *   iomap_dio_complete: ->end_io converts unwritten extents and moves i_size;
 *          write: kiocb_invalidate_post_direct_write — the second shoot-down, whose failure is
 *          dio_warn_stale_pagecache(): pr_crit + EIO in the mapping's errseq (the next fsync)
 *   unpin the user pages (a read dirties them), inode_dio_end
 *
 * Between the first invalidation and the bio, nothing stops a fault, a GUP or a buffered read
 * from bringing the range back into the page cache: the race of seed 004 that the second
 * invalidation narrows and does not close.
 */
import { type Bio, type BioSeg, PRIVATE_BUFFER } from '../../block/bdev.js';
import { allocCells } from '../../block/data.js';
import { filemapWriteAndWaitRange, invalidateInodePages2Range } from '../../mm/filemap.js';
import { getUserPagesFast, type PinnedPage, unpinUserPages } from '../../mm/gup.js';
import { copyToUser } from '../../mm/memory.js';
import { EFAULT, EINVAL, EIO, ENOTBLK, errnoName } from '../../sim/errno.js';
import type { Task } from '../../sim/task.js';
import { BlockState } from '../extent.js';
import { type Inode, inodeDioBegin, inodeDioEnd } from '../fs.js';
import { allocateUnwritten } from './buffered-io.js';

export interface DioFlags {
  /** iter->nofault (gfs2, btrfs since 5.16): GUP gets FOLL_NOFAULT, CPU copies do not fault. */
  nofault?: boolean;
  /** IOMAP_DIO_PARTIAL: on -EFAULT after some progress, return the progress. */
  partial?: boolean;
  /**
   * Not Linux (pagelab): the pre-write invalidation treats a folio pinned for DMA as busy, so the
   * write returns -ENOTBLK (buffered fallback) rather than drop a folio an O_DIRECT read is about
   * to fill (the read's bytes would never reach the file).
   */
  pinnedBusy?: boolean;
  /** Pre-5.9 behaviour: a failed pre-write invalidation is ignored instead of -ENOTBLK. */
  ignorePreInvalidateFailure?: boolean;
  /**
   * ->iomap_begin of a write over blocks [lblk, lblk+n): maps them, allocating unwritten blocks
   * for holes; 0 or -errno. Default: allocateUnwritten in one step. ext4 starts a jbd2 handle
   * around the allocation (ext4_get_block_trans / ext4_iomap_alloc: ext4_journal_start).
   */
  iomapBegin?: (t: Task, inode: Inode, lblk: number, n: number) => Promise<number>;
  /**
   * ->iomap_begin records everything it touches up to its own next scheduling point (the extent
   * map, a journal): the step that calls it then declares the range's pages, as the generic
   * allocation does. Otherwise it declares the whole inode.
   */
  iomapBeginRecorded?: boolean;
  /**
   * fs/direct-io.c order (__blockdev_direct_IO: ext4 before 5.5, the ext4 of seed 002):
   * do_direct_IO() pins the user pages first (dio_get_page → dio_refill_pages →
   * iov_iter_get_pages, up to DIO_PAGES = 64 of them) and only then maps their blocks
   * (get_more_blocks → ->get_block, which may start a journal handle), so the mapping runs with
   * the buffer pinned. iomap pins an extent's pages after its ->iomap_begin.
   */
  pinBeforeMap?: boolean;
  /**
   * fs/direct-io.c's argument check (do_blockdev_direct_IO, ext4 before 5.5): offset, buffer
   * address and length aligned (dioAligned) before anything else, reads past EOF included.
   * Without it, iomap's: per mapped extent (iomap_dio_bio_iter), and the buffer by the block layer.
   */
  alignUpFront?: boolean;
  /**
   * Called once every bio of the DIO has completed, before iomap_dio_complete() (its ->end_io and
   * the post-write invalidation): where a filesystem finishes per-I/O state tied to bio
   * completion. btrfs finishes its ordered extents there (btrfs_dio_end_io →
   * btrfs_mark_ordered_io_finished), also for a DIO that submitted nothing.
   */
  endIo?: (t: Task) => void;
}

/**
 * fs/direct-io.c's alignment rule (do_blockdev_direct_IO, the path of DioFlags.alignUpFront):
 * `offset | iov_iter_alignment(iter)` — the offset, the buffer's address and its length — on the
 * fs block size, else on the device's logical block size, else -EINVAL; checked before anything
 * else, reads at or past EOF included. iomap checks per extent instead (dioIter).
 */
export function dioAligned(inode: Inode, pos: number, len: number, ubuf: number): boolean {
  const ss = inode.fs.bdev.sectorSize;
  return pos % ss === 0 && len % ss === 0 && ubuf % ss === 0;
}

/** The page indices [first, end) that bytes [pos, pos+len) of a file fall in. */
function pagesOf(ps: number, pos: number, len: number): [number, number] {
  return [Math.floor(pos / ps), Math.ceil((pos + len) / ps)];
}

interface DioState {
  pinned: PinnedPage[];
  /** pinBeforeMap: the pages pinned up front, each with the user address it starts at. */
  refill: { uaddr: number; page: PinnedPage }[] | null;
  bios: Bio[];
  /** Blocks written through unwritten extents, to convert at completion. */
  convert: { lblk: number; pblk: number }[];
  error: number;
}

/**
 * iomap_dio_rw(). Returns bytes transferred, or -errno: -EINVAL (misaligned), -EFAULT,
 * -ENOSPC, -ENOTBLK (the pre-write invalidation failed: the caller must fall back to buffered
 * I/O). -ENOTBLK from ->iomap_begin is no error: the bytes before it complete (iomap_dio_complete)
 * and are returned, possibly 0, and the caller writes the rest buffered. Context: the caller holds
 * the scheme's inode locks; this takes none of its own (Linux takes none either).
 */
export async function iomapDioRw(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  write: boolean,
  flags: DioFlags = {},
): Promise<number> {
  if (flags.alignUpFront && !dioAligned(inode, pos, len, ubuf)) return -EINVAL;
  // A read at or past EOF returns 0 before any alignment check (__iomap_dio_rw tests
  // `iomi.pos >= dio->i_size` first; iomap_dio_bio_iter checks alignment per extent): a retry that
  // resumes a read cut short by EOF (gfs2, btrfs) starts at the unaligned EOF.
  // dio->i_size: i_size when the DIO starts, what iomap_dio_complete clamps a read with.
  const iSize = inode.size;
  if (!write && pos >= iSize) return 0;
  const mapping = inode.mapping;
  const ps = inode.fs.pageSize;
  const count = len;
  if (!write) {
    // iomap walks the whole iter, past EOF too: past the EOF block every extent is a hole or
    // unwritten (truncate frees the blocks past it), and iomap_dio_iter hands those to
    // iomap_dio_hole_iter, which zero-fills the user buffer over the whole extent
    // (`length = iov_iter_zero(length, dio->submit.iter); dio->size += length;`);
    // iomap_dio_complete then clamps only the return to dio->i_size. So a read of 16 bytes at 120
    // with EOF at 128 returns 8 and leaves bytes 8..15 of its buffer zeroed (fs/iomap/direct-io.c).
    // kiocb_write_and_wait(): writes back and waits on the range's dirty pages; a writeback error
    // fails the read (`ret = kiocb_write_and_wait(iocb, iomi.len); if (ret) goto out_free_dio;`,
    // and filemap_write_and_wait_range's `if (retval < 0) goto out` in generic_file_read_iter of
    // the kernels before iomap).
    await t.pointPages('iomap_dio_rw:kiocb_write_and_wait', inode.ino, ...pagesOf(ps, pos, count), true);
    const err = await filemapWriteAndWaitRange(t, mapping, pos, pos + count);
    if (err) return dioWritebackFailed(t, inode, err, err);
  } else {
    await t.pointPages('iomap_dio_rw:kiocb_invalidate_pages', inode.ino, ...pagesOf(ps, pos, count), true);
    const err = await filemapWriteAndWaitRange(t, mapping, pos, pos + count);
    // kiocb_invalidate_pages() returns the writeback error before invalidating anything, and
    // __iomap_dio_rw turns every error but -EAGAIN into -ENOTBLK (5.9, 60263d5889e6): the write
    // goes through the page cache. Before 5.9 (iomap_dio_rw: `ret = filemap_write_and_wait_range();
    // if (ret) goto out_free_dio;`) and in fs/direct-io.c's generic_file_direct_write (`written =
    // filemap_write_and_wait_range(...); if (written) goto out;`), the write fails with the error.
    if (err) {
      const legacy = flags.ignorePreInvalidateFailure || flags.pinBeforeMap;
      return dioWritebackFailed(t, inode, err, legacy ? err : -ENOTBLK);
    }
    const inv = await invalidateInodePages2Range(
      t,
      mapping,
      Math.floor(pos / ps),
      Math.ceil((pos + count) / ps) - 1,
      { pinnedBusy: flags.pinnedBusy },
    );
    if (inv && !flags.ignorePreInvalidateFailure) {
      t.event('iomap_dio_rw', 'pre-write invalidation failed: -ENOTBLK (fall back to buffered)');
      return -ENOTBLK;
    }
  }
  inodeDioBegin(t, inode);
  const st: DioState = { pinned: [], refill: null, bios: [], convert: [], error: 0 };
  if (flags.pinBeforeMap) await dioRefillPages(t, inode, ubuf, count, write, flags, st);
  const done = await dioIter(t, inode, pos, count, ubuf, write, flags, st);
  for (const bio of st.bios) {
    await bio.done.wait(t, 'iomap_dio_rw:wait_for_completion');
    if (bio.error && !st.error) st.error = bio.error;
  }
  flags.endIo?.(t);
  let ret = st.error && !(st.error === -EFAULT && done > 0 && flags.partial) ? st.error : done;
  if (ret > 0) ret = await iomapDioComplete(t, inode, pos, ret, write, st, iSize);
  unpinUserPages(t, st.pinned, true, !write);
  inodeDioEnd(t, inode);
  return ret;
}

/** The iomap_iter loop: one extent at a time. Returns bytes submitted or zeroed. */
async function dioIter(
  t: Task,
  inode: Inode,
  pos: number,
  count: number,
  ubuf: number,
  write: boolean,
  flags: DioFlags,
  st: DioState,
): Promise<number> {
  const bs = inode.blockSize;
  const end = pos + count;
  let done = 0;
  while (done < count) {
    const p = pos + done;
    // A filesystem's own ->iomap_begin may touch anything of the inode (a journal, ordered
    // extents); the generic allocation touches the extent map and the allocator, which record
    // themselves, and the range's pages.
    if (flags.iomapBegin && !flags.iomapBeginRecorded)
      await t.point('iomap_iter:iomap_begin', inode.ino, write);
    else
      await t.pointPages(
        'iomap_iter:iomap_begin',
        inode.ino,
        ...pagesOf(inode.fs.pageSize, p, end - p),
        write,
      );
    const lblk = Math.floor(p / bs);
    const lastBlk = Math.ceil(end / bs);
    if (write) {
      const err = flags.iomapBegin
        ? await flags.iomapBegin(t, inode, lblk, lastBlk - lblk)
        : allocateUnwritten(t, inode, lblk, lastBlk - lblk);
      if (err) {
        // __iomap_dio_rw: `if (ret == -ENOTBLK) { wait_for_completion = true; ret = 0; }` — the
        // filesystem asked to stop here (gfs2_iomap_begin over a hole, btrfs's
        // lock_extent_direct): what was submitted completes as a short DIO, the caller writes the
        // rest buffered. Any other error fails the DIO.
        if (err !== -ENOTBLK) st.error = err;
        else if (t.tracing)
          t.event('iomap_dio_rw', `->iomap_begin: -ENOTBLK after ${done} bytes: stop, complete them`);
        break;
      }
    }
    const map = inode.extents.lookup(lblk, lastBlk - lblk);
    const bytes = Math.min(end, (map.lblk + map.len) * bs) - p;
    if (!write && map.state !== BlockState.Written) {
      const n = await dioZeroUser(t, ubuf + done, bytes, flags);
      done += n;
      if (n < bytes) {
        st.error = -EFAULT;
        break;
      }
      continue;
    }
    // iomap_dio_bio_iter (Linux 6.18): `if ((pos | length) & (bdev_logical_block_size(iomap->bdev)
    // - 1)) return -EINVAL;` for this extent only. Holes and unwritten extents of a read never get
    // here (a misaligned read of them returns their zeroes), and the bios already submitted for
    // earlier extents stay submitted: a write whose last extent fails has written the others. Since
    // "iomap: simplify direct io validity check" (Keith Busch, 6.18) the user buffer is no longer
    // checked here (bdev_iter_is_aligned) but by the block layer (BlockDevice.submitBio).
    const ss = inode.fs.bdev.sectorSize;
    if (p % ss || bytes % ss) {
      st.error = -EINVAL;
      break;
    }
    // need_zeroout (an unwritten or newly allocated extent): zero from the start of the block to
    // the write offset before the data (iomap_dio_zero).
    const zeroout = write && map.state === BlockState.Unwritten;
    if (zeroout) dioZeroHead(t, inode, map.pblk, p - map.lblk * bs, st);
    const n = await dioBioIter(
      t,
      inode,
      map.pblk * bs + (p - map.lblk * bs),
      ubuf + done,
      bytes,
      write,
      flags,
      st,
      p,
    );
    // zero_tail: "We need to zeroout the tail of a sub-block write if the extent type requires
    // zeroing or the write extends beyond EOF", from where the bios reached (a short pin included:
    // "otherwise this short IO may expose stale data in the tail of the block").
    if (zeroout || (write && p + n >= inode.size)) dioZeroTail(t, inode, map.pblk, p + n - map.lblk * bs, st);
    if (zeroout) {
      for (let b = 0; b < Math.ceil((p - map.lblk * bs + n) / bs); b++)
        st.convert.push({ lblk: map.lblk + b, pblk: map.pblk + b });
    }
    done += n;
    if (n < bytes) {
      // A short pin: iomap_dio_bio_iter returns the bytes it submitted (`if (copied) return
      // iomap_iter_advance(iter, copied)`), and iomap_iter calls ->iomap_begin again for the rest,
      // which may allocate; only a pass that submits nothing fails the DIO with -EFAULT. The pages
      // fs/direct-io.c pinned up front (refill) have no second pass: do_direct_IO stops there.
      if (n > 0 && !st.refill) continue;
      st.error = -EFAULT;
      break;
    }
  }
  return done;
}

/**
 * iomap_dio_zero() before the data: a sub-block write into an unwritten (or newly allocated) block
 * zeroes the block from its start to the write offset, or the conversion at completion would
 * expose whatever the block held. `off`: the write's offset from the extent's first block.
 */
function dioZeroHead(t: Task, inode: Inode, pblk: number, off: number, st: DioState): void {
  const bs = inode.blockSize;
  const head = off % bs;
  if (head) st.bios.push(zeroBio(t, inode, (pblk + Math.floor(off / bs)) * bs, head));
}

/** iomap_dio_zero() after the data: from `end` (offset from the extent's first block) to its block's end. */
function dioZeroTail(t: Task, inode: Inode, pblk: number, end: number, st: DioState): void {
  const bs = inode.blockSize;
  const pad = end % bs;
  if (pad) st.bios.push(zeroBio(t, inode, pblk * bs + end, bs - pad));
}

/** A write of `len` zero bytes from a buffer of its own: its completion touches only sectors. */
function zeroBio(t: Task, inode: Inode, addr: number, len: number): Bio {
  const bdev = inode.fs.bdev;
  const bio = bdev.submitBio(t, 'write', addr, [{ buf: allocCells(len), off: 0, len, obj: PRIVATE_BUFFER }]);
  bdev.footprintRecorded(bio);
  return bio;
}

/** iov_iter_zero() into the user buffer for a hole read: a CPU copy, so it may fault. */
async function dioZeroUser(t: Task, uaddr: number, len: number, flags: DioFlags): Promise<number> {
  if (flags.nofault) t.pagefaultDisabled++;
  const n = await copyToUser(t, uaddr, allocCells(len), 0, len);
  if (flags.nofault) t.pagefaultDisabled--;
  return n;
}

/**
 * iomap_dio_bio_iter(): pins the user pages for the extent (bio_iov_iter_get_pages), trims to whole
 * sectors and submits. Returns the bytes submitted (less than len on a short pin).
 */
async function dioBioIter(
  t: Task,
  inode: Inode,
  addr: number,
  uaddr: number,
  len: number,
  write: boolean,
  flags: DioFlags,
  st: DioState,
  /** The file position `addr` holds. */
  filePos: number,
): Promise<number> {
  const ss = inode.fs.bdev.sectorSize;
  let pages: PinnedPage[] | number;
  if (st.refill) {
    pages = refilledPages(st.refill, uaddr, len);
  } else {
    // Pins user memory: page tables and folios record themselves; the file is only read.
    await t.pointPages('bio_iov_iter_get_pages', inode.ino, 0, 0, false);
    pages = await getUserPagesFast(t, uaddr, len, { write: !write, nofault: !!flags.nofault, pin: true });
  }
  if (typeof pages === 'number') return 0;
  // iomap_dio_bio_end_io → bio_release_pages: each bio drops its own pins when it completes (a read
  // dirties them first); pages pinned up front (refill) stay pinned until the whole DIO ends.
  const own = st.refill ? null : pages;
  let bytes = 0;
  const segs: BioSeg[] = [];
  for (const p of pages) {
    segs.push({ buf: p.folio.data, off: p.off, len: p.len, obj: p.folio.fpObj });
    bytes += p.len;
  }
  const whole = bytes - (bytes % ss);
  if (whole < bytes) trimSegs(segs, whole);
  if (whole === 0) {
    if (own) unpinUserPages(t, own, true, false);
    return 0;
  }
  const ps = inode.fs.pageSize;
  await t.pointPages('iomap_dio_submit_bio', inode.ino, ...pagesOf(ps, filePos, whole), write);
  const bio = inode.fs.bdev.submitBio(t, write ? 'write' : 'read', addr, segs);
  if (own) bio.endIo = (irq) => unpinUserPages(irq, own, true, !write, t);
  // Its segments name their folios and unpinning records itself.
  inode.fs.bdev.footprintRecorded(bio);
  st.bios.push(bio);
  return whole;
}

/**
 * dio_refill_pages(): pins the whole user buffer before any block is mapped (pinBeforeMap). A short
 * pin leaves the rest to fail in refilledPages, as a later refill would with -EFAULT.
 */
async function dioRefillPages(
  t: Task,
  inode: Inode,
  ubuf: number,
  count: number,
  write: boolean,
  flags: DioFlags,
  st: DioState,
): Promise<void> {
  // Pins user memory (page tables and folios record themselves); what follows up to dioIter's
  // first ->iomap_begin point only fills st.refill. With nothing to transfer the DIO ends in this
  // step: anything.
  if (count > 0) await t.pointPages('dio_refill_pages:iov_iter_get_pages', inode.ino, 0, 0, false);
  else await t.point('dio_refill_pages:iov_iter_get_pages', -1, !write);
  const pages = await getUserPagesFast(t, ubuf, count, {
    write: !write,
    nofault: !!flags.nofault,
    pin: true,
  });
  st.refill = [];
  if (typeof pages === 'number') return;
  let uaddr = ubuf;
  for (const page of pages) {
    st.refill.push({ uaddr, page });
    uaddr += page.len;
  }
  st.pinned.push(...pages);
}

/** The pieces of the pages pinned up front that cover [uaddr, uaddr+len), stopping at a gap. */
function refilledPages(
  refill: { uaddr: number; page: PinnedPage }[],
  uaddr: number,
  len: number,
): PinnedPage[] {
  const out: PinnedPage[] = [];
  let at = uaddr;
  const end = uaddr + len;
  for (const r of refill) {
    const rEnd = r.uaddr + r.page.len;
    if (rEnd <= at) continue;
    if (r.uaddr > at) break;
    const n = Math.min(end, rEnd) - at;
    out.push({ folio: r.page.folio, off: r.page.off + (at - r.uaddr), len: n });
    at += n;
    if (at >= end) break;
  }
  return out;
}

function trimSegs(segs: BioSeg[], bytes: number): void {
  let left = bytes;
  for (let i = 0; i < segs.length; i++) {
    if (left <= 0) {
      segs.length = i;
      return;
    }
    if (segs[i].len > left) segs[i] = { ...segs[i], len: left };
    left -= segs[i].len;
  }
}

/** iomap_dio_complete(): ->end_io, then the post-write invalidation and its stale-cache warning. */
async function iomapDioComplete(
  t: Task,
  inode: Inode,
  pos: number,
  ret: number,
  write: boolean,
  st: DioState,
  /** dio->i_size, sampled when the DIO started. */
  iSize: number,
): Promise<number> {
  // A read is transferred in whole blocks but reports no bytes past i_size — dio->i_size, the size
  // when the DIO started (`if (dio->flags & IOMAP_DIO_WRITE) ...; else if (offset + ret > dio->i_size
  // && ...) ret = dio->i_size - offset;`), not the size now: bytes an extending write added meanwhile
  // are not reported.
  if (!write) return Math.max(0, Math.min(ret, iSize - pos));
  const ps = inode.fs.pageSize;
  await t.pointPages('iomap_dio_complete:end_io', inode.ino, ...pagesOf(ps, pos, ret), true);
  for (const c of st.convert) {
    if (inode.extents.state(c.lblk) === BlockState.Unwritten && inode.extents.pblk(c.lblk) === c.pblk) {
      inode.extents.set(c.lblk, BlockState.Written, c.pblk);
    }
  }
  if (pos + ret > inode.size) {
    inode.size = pos + ret;
    if (t.tracing) t.event('i_size_write', `${inode.name} size ${inode.size}`);
  }
  await t.pointPages('kiocb_invalidate_post_direct_write', inode.ino, ...pagesOf(ps, pos, ret), true);
  const inv = await invalidateInodePages2Range(
    t,
    inode.mapping,
    Math.floor(pos / ps),
    Math.ceil((pos + ret) / ps) - 1,
  );
  if (inv) dioWarnStalePagecache(t, inode);
  return ret;
}

/** The DIO stops before inode_dio_begin on a writeback error: its trace line and its result. */
function dioWritebackFailed(t: Task, inode: Inode, err: number, ret: number): number {
  if (t.tracing)
    t.event(
      'iomap_dio_rw',
      `${inode.name}: writeback before the DIO failed with ${errnoName(err)}: ${errnoName(ret)}`,
    );
  return ret;
}

/**
 * dio_warn_stale_pagecache(): "Page cache invalidation failure on direct I/O. Possible data
 * corruption due to collision with buffered I/O!" — and EIO for the next fsync (5a9d929d6e13).
 * Reported is not prevented: the stale page stays and the data it hides can still be lost.
 */
export function dioWarnStalePagecache(t: Task, inode: Inode): void {
  inode.mapping.wbErr.set(-EIO);
  if (t.tracing)
    t.event(
      'dio_warn_stale_pagecache',
      `${inode.name}: page cache invalidation failure on direct I/O (EIO set for fsync)`,
    );
}
