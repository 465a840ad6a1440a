/**
 * bcachefs O_DIRECT (fs/bcachefs/fs-io-direct.c, 6.7-6.17): its own loop, not iomap.
 *
 * Write (bch2_direct_write → bch2_dio_write_loop → bch2_dio_write_done):
 *   inode_lock; (pos | len) & (block_bytes - 1) → -EINVAL; inode_dio_begin;
 *   bch2_pagecache_block_get — held until bch2_dio_write_done, across GUP and the whole I/O;
 *   inode_unlock at once unless the write extends the file;
 *   if the mapping has pages: bch2_write_invalidate_inode_pages_range (once: under "block" nothing
 *   can bring them back, so there is no second shoot-down after the write);
 *   loop: current->faults_disabled_mapping = mapping; bio_iov_iter_get_pages (GUP pin of the user
 *         buffer: it may fault, into bch2_page_fault); read back fdm_dropped_locks and clear it;
 *         dropped && error → retry instead of failing; error → out; dropped → shoot the range down
 *         again, nothing pinned → go round again; trim to whole blocks, nothing left → -EFAULT;
 *         bch2_write; bch2_dio_write_end (ki_pos, i_size if extending, release the pages);
 *   bch2_dio_write_done: block_put, inode_dio_end, return op.error ?: written — an error wins
 *   over bytes already written.
 *
 * Read (bch2_read_iter, O_DIRECT branch → bch2_direct_IO_read): no pagecache lock and no
 * i_dio_count; filemap_write_and_wait_range if the mapping has pages; 512-byte alignment; the
 * length is cut at EOF rounded up to a block; one bio per bio_iov_iter_get_pages (GUP FOLL_WRITE,
 * no faults_disabled_mapping: a fault takes "add", which no DIO read holds); holes read as zeroes
 * (zero_fill_bio); returns min(len, i_size - pos). A GUP that pins nothing ends the bio with
 * BLK_STS_RESOURCE ("XXX: fault inject this path"), which blk_status_to_errno turns into -ENOMEM.
 *
 * Departures from Linux, and why:
 * - block_bytes(c) is the device's logical block size (the scenario's sector), as on a bcachefs
 *   formatted with 512-byte blocks under 4 KiB pages (`bcachefs format --block_size=512`): bcachefs
 *   block size is a format option independent of PAGE_SIZE. With the model's default of
 *   block = page, the sub-page O_DIRECT writes of the seed scenarios would otherwise all be EINVAL.
 * - bch2_write is copy-on-write (new extents, index update at completion); the model writes in
 *   place through unwritten extents converted at completion, like the iomap schemes. A sub-block
 *   write into an unwritten model block zeroes the rest of it as iomap_dio_zero does (bcachefs
 *   extents are sector-granular and need no zeroing), so two concurrent O_DIRECT writes into
 *   different sectors of one unwritten model block are outside what the model gets right; no
 *   built-in scenario does that.
 * - DIO reads take neither lock nor i_dio_count, as in bcachefs; bcachefs notices a read of an
 *   extent freed meanwhile through bucket generation numbers and retries (bch2_read's stale-pointer
 *   retry), which the model does not have: a DIO read racing a truncate that frees and reuses its
 *   blocks is outside what it gets right; no built-in scenario does that.
 * - No async (AIO) completion, no quota or disk reservation, no O_DSYNC journal flush.
 */
import { type Bio, type BioSeg, PRIVATE_BUFFER } from '../../block/bdev.js';
import { allocCells, TAG_ZERO } from '../../block/data.js';
import { filemapWriteAndWaitRange } from '../../mm/filemap.js';
import { getUserPagesFast, type PinnedPage, unpinUserPages } from '../../mm/gup.js';
import { EFAULT, EINVAL, ENOMEM } from '../../sim/errno.js';
import { record } from '../../sim/footprint.js';
import type { Task } from '../../sim/task.js';
import { BlockState } from '../extent.js';
import { type Inode, inodeDioBegin, inodeDioEnd } from '../fs.js';
import { allocateUnwritten } from '../iomap/buffered-io.js';
import { writeChecksZeroEof } from '../read_write.js';
import { bch2PagecacheBlockGet, bch2PagecacheBlockPut, setFaultsDisabledMapping } from './fs.js';
import { bch2WriteInvalidateInodePagesRange } from './fs-io-pagecache.js';

/** block_bytes(c): see the departures above. */
export function bch2BlockBytes(inode: Inode): number {
  return inode.fs.bdev.sectorSize;
}

function pinnedBytes(pages: readonly PinnedPage[]): number {
  let n = 0;
  for (const p of pages) n += p.len;
  return n;
}

/** The bio_vecs of bytes [skip, skip+n) of what `pages` pin, in order. */
function pinnedSegs(pages: readonly PinnedPage[], skip: number, n: number): BioSeg[] {
  const segs: BioSeg[] = [];
  let at = 0;
  for (const p of pages) {
    const s = Math.max(skip, at);
    const e = Math.min(skip + n, at + p.len);
    // Each segment names its folio, so the bio's completion records what the DMA touches.
    if (e > s) segs.push({ buf: p.folio.data, off: p.off + (s - at), len: e - s, obj: p.folio.fpObj });
    at += p.len;
    if (at >= skip + n) break;
  }
  return segs;
}

/**
 * Trims the pinned pages to `keep` bytes (bio->bi_iter.bi_size -= unaligned): pages wholly past it
 * are released at once; a page cut in the middle stays pinned, as it stays in the bio.
 */
function trimPinned(t: Task, pages: PinnedPage[], keep: number): PinnedPage[] {
  let at = 0;
  let i = 0;
  while (i < pages.length && at < keep) at += pages[i++].len;
  unpinUserPages(t, pages.splice(i), true, false);
  return pages;
}

// --- reads ---

/** bch2_direct_IO_read(): returns bytes read or -errno. */
async function bch2DirectIORead(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
): Promise<number> {
  // "bios must be 512 byte aligned" (SECTOR_SIZE: the scenario's sector here): offset and length,
  // before the EOF check, holes or not (iomap checks mapped extents only). The buffer is the block
  // layer's business (BlockDevice.submitBio).
  const ss = inode.fs.bdev.sectorSize;
  if (pos % ss || len % ss) return -EINVAL;
  const ret = Math.min(len, Math.max(0, inode.size - pos));
  if (!ret) return 0;
  const bb = bch2BlockBytes(inode);
  const count = Math.min(len, Math.ceil(ret / bb) * bb);
  const bios: Bio[] = [];
  const pinned: PinnedPage[] = [];
  let err = 0;
  let done = 0;
  while (done < count) {
    // Pins user memory (page tables and folios record themselves), looks the extents up (they
    // record themselves), zero-fills the holes' segments (recorded in bch2ReadExtents) and, if this
    // was the last pass and no bio is in flight, unpins and returns through bch2_read_iter into the
    // system call's caller: the file is only read, if that caller records itself.
    if (t.syscallReturnRecorded)
      await t.pointPages('bch2_direct_IO_read:bio_iov_iter_get_pages', inode.ino, 0, 0, false);
    else await t.point('bch2_direct_IO_read:bio_iov_iter_get_pages', -1, true);
    const pages = await getUserPagesFast(t, ubuf + done, count - done, {
      write: true,
      nofault: false,
      pin: true,
    });
    if (typeof pages === 'number') {
      err = -ENOMEM; // bio->bi_status = BLK_STS_RESOURCE
      break;
    }
    pinned.push(...pages);
    const n = pinnedBytes(pages);
    await bch2ReadExtents(t, inode, pos + done, pages, n, bios);
    done += n;
  }
  for (const bio of bios) {
    await bio.done.wait(t, 'bch2_direct_IO_read:closure_sync');
    if (bio.error && !err) err = bio.error;
  }
  unpinUserPages(t, pinned, true, true); // bio_check_pages_dirty
  return err || ret;
}

/** bch2_read() of [pos, pos+n) into pinned pages: a bio per written run, zero_fill_bio for the rest. */
async function bch2ReadExtents(
  t: Task,
  inode: Inode,
  pos: number,
  pages: PinnedPage[],
  n: number,
  bios: Bio[],
): Promise<void> {
  const bs = inode.blockSize;
  const lastBlk = Math.ceil((pos + n) / bs);
  let done = 0;
  while (done < n) {
    const p = pos + done;
    const map = inode.extents.lookup(Math.floor(p / bs), lastBlk - Math.floor(p / bs));
    const bytes = Math.min(pos + n, (map.lblk + map.len) * bs) - p;
    const segs = pinnedSegs(pages, done, bytes);
    if (map.state === BlockState.Written) {
      await t.point('bch2_read:submit_bio', inode.ino);
      bios.push(
        recorded(inode, inode.fs.bdev.submitBio(t, 'read', map.pblk * bs + (p - map.lblk * bs), segs)),
      );
    } else {
      for (const s of segs) {
        record(s.obj as number, true);
        s.buf.fill(TAG_ZERO, s.off, s.off + s.len);
      }
    }
    done += bytes;
  }
}

/** bch2_read_iter(), O_DIRECT branch. */
export async function bch2DirectRead(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
): Promise<number> {
  const mapping = inode.mapping;
  if (mapping.pages.size > 0) {
    const err = await filemapWriteAndWaitRange(t, mapping, pos, pos + len);
    if (err < 0) return err;
  }
  return bch2DirectIORead(t, inode, pos, len, ubuf);
}

// --- writes ---

/** What one O_DIRECT write carries through its loop (struct dio_write). */
interface DioWrite {
  readonly inode: Inode;
  readonly pos: number;
  readonly len: number;
  readonly ubuf: number;
  readonly extending: boolean;
  written: number;
  error: number;
}

/**
 * bch2_write() of one bio's worth: allocate the holes, submit a write per extent run (zeroing the
 * rest of a partly written unwritten block), wait, convert the unwritten blocks written (the
 * index update). Returns 0 or -errno.
 */
async function bch2Write(
  t: Task,
  inode: Inode,
  pos: number,
  pages: PinnedPage[],
  n: number,
): Promise<number> {
  const bs = inode.blockSize;
  const first = Math.floor(pos / bs);
  const lastBlk = Math.ceil((pos + n) / bs);
  const aerr = allocateUnwritten(t, inode, first, lastBlk - first);
  if (aerr) return aerr;
  const bios: Bio[] = [];
  const convert: { lblk: number; pblk: number }[] = [];
  let done = 0;
  while (done < n) {
    const p = pos + done;
    const map = inode.extents.lookup(Math.floor(p / bs), lastBlk - Math.floor(p / bs));
    const bytes = Math.min(pos + n, (map.lblk + map.len) * bs) - p;
    await t.point('bch2_write:submit_bio', inode.ino, true);
    const addr = map.pblk * bs + (p - map.lblk * bs);
    if (map.state === BlockState.Unwritten) {
      zeroPartialBlocks(t, inode, addr, bytes, bios);
      for (let b = Math.floor(p / bs); b < Math.ceil((p + bytes) / bs); b++)
        convert.push({ lblk: b, pblk: inode.extents.pblk(b) });
    }
    bios.push(recorded(inode, inode.fs.bdev.submitBio(t, 'write', addr, pinnedSegs(pages, done, bytes))));
    done += bytes;
  }
  let err = 0;
  for (const bio of bios) {
    await bio.done.wait(t, 'bch2_write:closure_sync');
    if (bio.error && !err) err = bio.error;
  }
  if (!err) convertWritten(t, inode, convert);
  return err;
}

/** The head and tail of the blocks of [addr, addr+len) the write does not cover, zeroed on disk. */
function zeroPartialBlocks(t: Task, inode: Inode, addr: number, len: number, bios: Bio[]): void {
  const bs = inode.blockSize;
  const head = addr % bs;
  if (head) bios.push(recorded(inode, inode.fs.bdev.submitBio(t, 'write', addr - head, [zeroSeg(head)])));
  const tail = (bs - ((addr + len) % bs)) % bs;
  if (tail) bios.push(recorded(inode, inode.fs.bdev.submitBio(t, 'write', addr + len, [zeroSeg(tail)])));
}

/**
 * The bio's completion records itself: its segments name their memory (pinned folios, or a
 * private zero buffer) and it has no end_io — the pages are unpinned by the submitter after
 * closure_sync (BlockDevice.footprintRecorded).
 */
function recorded(inode: Inode, bio: Bio): Bio {
  inode.fs.bdev.footprintRecorded(bio);
  return bio;
}

function zeroSeg(len: number): BioSeg {
  return { buf: allocCells(len), off: 0, len, obj: PRIVATE_BUFFER };
}

/** The index update at write completion: the unwritten blocks written become written. */
function convertWritten(t: Task, inode: Inode, convert: { lblk: number; pblk: number }[]): void {
  for (const c of convert) {
    if (inode.extents.state(c.lblk) === BlockState.Unwritten && inode.extents.pblk(c.lblk) === c.pblk)
      inode.extents.set(c.lblk, BlockState.Written, c.pblk);
  }
  if (convert.length) t.event('bch2_write_index_update', `${inode.name} ${convert.length} block(s) written`);
}

/**
 * bio_iov_iter_get_pages() with current->faults_disabled_mapping set. Returns the pages (none if a
 * fault dropped our locks: "If the fault handler returned an error but also signalled that it
 * dropped & retook ei_pagecache_lock, we just need to re-shoot down the page cache and retry"),
 * whether it dropped them, or -errno.
 */
async function dioGetPages(
  t: Task,
  dio: DioWrite,
): Promise<{ pages: PinnedPage[]; dropped: boolean } | number> {
  await t.point('bch2_dio_write_loop:bio_iov_iter_get_pages', -1);
  setFaultsDisabledMapping(t, dio.inode.mapping);
  let pages = await getUserPagesFast(t, dio.ubuf + dio.written, dio.len - dio.written, {
    write: false,
    nofault: false,
    pin: true,
  });
  const dropped = t.faultsDisabledDroppedLocks; // fdm_dropped_locks()
  setFaultsDisabledMapping(t, null);
  if (dropped && typeof pages === 'number') pages = [];
  if (typeof pages === 'number') return pages;
  return { pages, dropped };
}

/** One pass of bch2_dio_write_loop: 1 to go round again, 0 when done, or -errno. */
async function dioWritePass(t: Task, dio: DioWrite): Promise<number> {
  const inode = dio.inode;
  const got = await dioGetPages(t, dio);
  if (typeof got === 'number') return got;
  let pages = got.pages;
  const left = dio.len - dio.written;
  if (got.dropped) {
    if (t.tracing)
      t.event(
        'bch2_dio_write_loop',
        `${inode.name}: fault handler dropped our locks: shoot down again, retry`,
      );
    const ret = await bch2WriteInvalidateInodePagesRange(
      t,
      inode.mapping,
      dio.pos + dio.written,
      dio.pos + dio.len - 1,
    );
    if (ret) {
      unpinUserPages(t, pages, true, false);
      return ret;
    }
    if (pinnedBytes(pages) === 0) return 1;
  }
  const bb = bch2BlockBytes(inode);
  const bytes = pinnedBytes(pages);
  pages = trimPinned(t, pages, bytes - (bytes % bb));
  const n = Math.min(left, bytes - (bytes % bb));
  // bio_iov_iter_get_pages was only able to get < blocksize worth of pages:
  if (n === 0) {
    unpinUserPages(t, pages, true, false);
    return -EFAULT;
  }
  const err = await bch2Write(t, inode, dio.pos + dio.written, pages, n);
  bch2DioWriteEnd(t, dio, n, pages);
  if (err) return err;
  return dio.written < dio.len ? 1 : 0;
}

/** bch2_dio_write_end(): ki_pos, i_size when extending, bio_release_pages. */
function bch2DioWriteEnd(t: Task, dio: DioWrite, n: number, pages: PinnedPage[]): void {
  const inode = dio.inode;
  dio.written += n;
  if (dio.extending && dio.pos + dio.written > inode.size) {
    inode.size = dio.pos + dio.written;
    if (t.tracing) t.event('i_size_write', `${inode.name} size ${inode.size}`);
  }
  unpinUserPages(t, pages, true, false);
}

/** bch2_dio_write_loop() + bch2_dio_write_done(): returns op.error ?: written. */
async function bch2DioWriteLoop(t: Task, dio: DioWrite): Promise<number> {
  t.retryLoop = 'bch2_dio_write_loop';
  t.retries = 0;
  try {
    for (;;) {
      const r = await dioWritePass(t, dio);
      if (r < 0) dio.error = r;
      if (r <= 0) break;
      t.retries++;
    }
  } finally {
    t.retryLoop = '';
    t.retries = 0;
  }
  return bch2DioWriteDone(t, dio);
}

function bch2DioWriteDone(t: Task, dio: DioWrite): number {
  bch2PagecacheBlockPut(t, dio.inode);
  inodeDioEnd(t, dio.inode);
  return dio.error || dio.written;
}

/** bch2_direct_write(). Returns bytes written or -errno. */
export async function bch2DirectWrite(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
): Promise<number> {
  await inode.iRwsem.downWrite(t, 'bch2_direct_write:inode_lock');
  let locked = true;
  try {
    const bb = bch2BlockBytes(inode);
    if (pos % bb || len % bb) return -EINVAL;
    inodeDioBegin(t, inode);
    await bch2PagecacheBlockGet(t, inode, 'bch2_direct_write');
    const extending = pos + len > inode.size;
    const dio: DioWrite = { inode, pos, len, ubuf, extending, written: 0, error: 0 };
    // The model's EOF zeroing (see the scheme's departures) adds the EOF page under our own "block",
    // before the shoot-down below drops it again.
    if (extending) dio.error = await writeChecksZeroEof(t, inode, pos);
    if (!extending) {
      inode.iRwsem.upWrite(t);
      locked = false;
    }
    if (!dio.error && inode.mapping.pages.size > 0)
      dio.error = await bch2WriteInvalidateInodePagesRange(t, inode.mapping, pos, pos + len - 1);
    if (dio.error) return bch2DioWriteDone(t, dio);
    return await bch2DioWriteLoop(t, dio);
  } finally {
    if (locked) inode.iRwsem.upWrite(t);
  }
}
