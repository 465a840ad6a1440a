/**
 * ext4 + jbd2 with four answers to seed 002's question — what does writeback do with a page that
 * a DMA pin may still be writing to? (Jan Kara, July 2018: "So what should be a result of
 * fsync(file), where some 'file' pages are pinned e.g. by running direct IO? If we just skip those
 * pages, we'll lie to userspace that data was committed while it was not ... If fsync(2) returns
 * error, it would be really unexpected by userspace ... So what else can you do than block?")
 *
 *   ext4-pin-block   wait for the pin to drop (folio.unpinWait), holding the folio lock and the
 *                    writepages handle: the seed's deadlock
 *   ext4-pin-skip    leave the page dirty: fsync returns 0 and the data is not durable
 *   ext4-pin-fail    fsync (WB_SYNC_ALL) returns -EIO; background writeback leaves it dirty
 *   ext4-pin-bounce  write a stable copy (Kara's 2023 RFC for integrity writeback)
 *
 * Lock ordering (fs/ext4/super.c, "Lock ordering"; i_mmap_sem is invalidate_lock since 5.15):
 *   page fault:          mmap_lock → invalidate_lock (shared) → transaction start → folio lock
 *                          → i_data_sem
 *   buffered write:      i_rwsem → mmap_lock;  i_rwsem → transaction start → folio lock → i_data_sem
 *   truncate, fallocate: i_rwsem → invalidate_lock (excl) → i_mmap_rwsem → folio lock
 *                        i_rwsem → invalidate_lock (excl) → transaction start → i_data_sem
 *   direct I/O:          i_rwsem → mmap_lock (GUP pins the buffer);
 *                        i_rwsem → transaction start (->get_block) → i_data_sem
 *   writepages:          transaction start → folio lock(s) → i_data_sem
 * The jbd2 handle ranks *above* the folio lock (ext4_write_begin unlocks the page before
 * ext4_journal_start and relocks it after). A pin is no lock in lockdep's eyes: the block policy
 * adds "folio lock → wait for unpin" to writepages while the DIO pins and then starts a handle —
 * and the commit, which waits for every handle while it blocks every new one, closes the cycle:
 *
 *   ext4_writepages()                      ext4_direct_IO_write()
 *                                            __blockdev_direct_IO()
 *                                              iov_iter_get_pages()  - pins page
 *   handle = ext4_journal_start_with_reserve(inode, ...)
 *     - starts transaction
 *   ...                                    [kjournald2: T_LOCKED, waits for the writepages handle]
 *   lock_page(page)                            ->get_block → ext4_journal_start → waits for commit
 *   mpage_submit_page()
 *     clear_page_dirty_for_io(page) -> blocks on pin                  (seed 002, Jan Kara)
 *
 * Kernel functions mirrored: ext4_file_write_iter / ext4_direct_IO_write (4.18: __blockdev_direct_IO
 * with ext4_dio_get_block_unwritten_sync → ext4_get_block_trans), ext4_direct_IO_read,
 * ext4_writepages (ext4_journal_start_with_reserve, mpage_prepare_extent_to_map: lock_page,
 * mpage_submit_page: clear_page_dirty_for_io), ext4_sync_file (file_write_and_wait_range,
 * jbd2_complete_transaction, blkdev_issue_flush), ext4_page_mkwrite, ext4_fallocate,
 * ext4_setattr; the journal is src/fs/jbd2.ts.
 *
 * Departures from Linux and why:
 * - The I/O paths are the model's iomap ones with 4.18's ordering where it matters: O_DIRECT pins
 *   the user buffer before mapping blocks (DioFlags.pinBeforeMap, do_direct_IO's dio_get_page then
 *   get_more_blocks), checks the alignment of offset, buffer and length before anything else, past
 *   EOF too (DioFlags.alignUpFront, do_blockdev_direct_IO), and starts a handle for each mapping
 *   that allocates (DioFlags.iomapBegin; an
 *   overwrite of written blocks inside i_size takes none, ext4_dio_get_block_overwrite). Since 5.5
 *   ext4 uses iomap, whose ->iomap_begin runs before the extent's pages are pinned and whose bios
 *   unpin at completion: there, the DIO half of the cycle is gone.
 * - Delayed allocation: buffered writes and page_mkwrite start no handle (ext4_da_write_begin,
 *   block_page_mkwrite with ext4_da_get_block_prep); the model's unwritten allocation at that point
 *   stands for the reservation, and writepages converts under its handle. i_disksize updates
 *   (ext4_da_write_end's handle) are not modelled.
 * - fallocate and truncate take no handle: ext4 starts it after the page cache work, holds it only
 *   across the extent change (one step in the model) and waits for nothing while holding it.
 * - 4.18 ext4_writepages took the handle for every pass; since 6.x a pass over pages that need no
 *   block mapping starts none (the pages here always need it: unwritten or delalloc blocks).
 * - invalidate_lock (5.15) is combined with the 4.18 I/O paths, as if Jan Kara's series had landed
 *   on the kernel of the seed.
 */
import { BlockState } from '../fs/extent.js';
import { truncateLocked } from '../fs/fallocate.js';
import type { FileOperations, Inode } from '../fs/fs.js';
import {
  allocateUnwritten,
  iomapPageMkwrite,
  iomapWritepages,
  type PinnedWritebackAction,
  type WritepagesHooks,
} from '../fs/iomap/buffered-io.js';
import { type DioFlags, iomapDioRw } from '../fs/iomap/direct-io.js';
import { journalOf } from '../fs/jbd2.js';
import { filemapRead } from '../fs/read_write.js';
import {
  filemapFault,
  filemapFdatawaitRange,
  filemapFdatawriteRange,
  type WritebackControl,
} from '../mm/filemap.js';
import type { Folio } from '../mm/folio.js';
import { assert } from '../sim/assert.js';
import { EIO } from '../sim/errno.js';
import { objectId, record } from '../sim/footprint.js';
import type { Task } from '../sim/task.js';
import {
  exclusiveWrite,
  ext4FallocateFn,
  fallocateUnderInvalidateLock,
  truncateSites,
  withInodeAndInvalidateLock,
  withInvalidateLockShared,
  withIRwsemShared,
} from './locks.js';
import type { Scheme } from './scheme.js';

/** What ext4_writepages does with a DMA-pinned page. */
export type PinnedPolicy = 'block' | 'skip' | 'fail' | 'bounce';

/** Credits asked by ext4_da_writepages_trans_blocks / ext4_chunk_trans_blocks (any small number). */
const WRITEPAGES_CREDITS = 8;
const DIO_CREDITS = 4;

const SYNC_TID = 'ext4_i_sync_tid';

/** The footprint object of EXT4_I(inode)->i_sync_tid (recorded by every read and write of it). */
function syncTidObj(inode: Inode): number {
  return objectId(`${SYNC_TID} ${inode.ino}`);
}

/** EXT4_I(inode)->i_sync_tid: the last transaction that changed the inode (setupInode sets 0). */
function syncTid(inode: Inode): number {
  record(syncTidObj(inode), false);
  const tid = inode.fsPrivate.get(SYNC_TID);
  assert(typeof tid === 'number', () => `ext4: ${inode.name} has no i_sync_tid`);
  return tid;
}

/** ext4_journal_start(inode, ...): a handle, and the inode's i_sync_tid follows it. */
async function ext4JournalStart(t: Task, inode: Inode, credits: number, site: string) {
  // What follows the start up to the caller's next point touches the inode's own state (the
  // allocation's point, or write_cache_pages' walk by the dirty mark, which records itself).
  const h = await journalOf(inode.fs).start(t, credits, site, inode.ino);
  record(syncTidObj(inode), true);
  inode.fsPrivate.set(SYNC_TID, h.transaction.tid);
  return h;
}

/**
 * ->get_block of an ext4 O_DIRECT write (ext4_dio_get_block_unwritten_sync → ext4_get_block_trans):
 * a handle around the allocation, unless every block is already written (the overwrite case).
 */
async function ext4GetBlockTrans(t: Task, inode: Inode, lblk: number, n: number): Promise<number> {
  let written = true;
  for (let b = lblk; b < lblk + n; b++) if (inode.extents.state(b) !== BlockState.Written) written = false;
  if (written) return 0;
  const h = await ext4JournalStart(t, inode, DIO_CREDITS, 'ext4_get_block_trans:ext4_journal_start');
  try {
    await t.point('ext4_map_blocks:create', inode.ino, true);
    return allocateUnwritten(t, inode, lblk, n);
  } finally {
    journalOf(inode.fs).stop(t, h);
  }
}

// ext4GetBlockTrans reads the extent map and starts the journal (both record themselves) before
// its first point.
const DIO: DioFlags = {
  pinBeforeMap: true,
  alignUpFront: true,
  iomapBegin: ext4GetBlockTrans,
  iomapBeginRecorded: true,
};

/** ext4_file_write_iter: i_rwsem exclusive; O_DIRECT falls back to buffered I/O on -ENOTBLK. */
function writeIter(t: Task, inode: Inode, pos: number, len: number, ubuf: number, direct: boolean) {
  return exclusiveWrite(t, inode, 'ext4_file_write_iter:inode_lock', { pos, len, ubuf, direct, dio: DIO });
}

/**
 * ext4_file_read_iter → generic_file_read_iter, which takes no lock: buffered reads run unlocked,
 * and O_DIRECT goes to ->direct_IO, where ext4_direct_IO_read takes i_rwsem shared (16c54688592c
 * "ext4: Allow parallel DIO reads") and pins the buffer before the blocks are mapped.
 */
function readIter(t: Task, inode: Inode, pos: number, len: number, ubuf: number, direct: boolean) {
  if (!direct) return filemapRead(t, inode, pos, len, ubuf, 'recorded'); // nothing after it
  return withIRwsemShared(t, inode, 'ext4_direct_IO_read:inode_lock_shared', () =>
    iomapDioRw(t, inode, pos, len, ubuf, false, { pinBeforeMap: true, alignUpFront: true }),
  );
}

/** The block policy: clear_page_dirty_for_io() waits, folio locked, until the last pin drops. */
async function waitForUnpin(t: Task, folio: Folio): Promise<PinnedWritebackAction> {
  if (t.tracing)
    t.event(
      'clear_page_dirty_for_io',
      `${folio.name} pinned (pin=${folio.pincount}): wait for unpin`,
      folio.id,
    );
  await folio.waitUnpinned(t, 'mpage_submit_page:clear_page_dirty_for_io:wait_for_unpin');
  return 'write';
}

function pinnedHook(policy: PinnedPolicy): WritepagesHooks['pinned'] {
  switch (policy) {
    case 'block':
      return (t, folio) => waitForUnpin(t, folio);
    case 'skip':
      return async () => 'skip';
    case 'fail':
      // Integrity writeback fails; background writeback leaves the page for a later pass.
      return async (_t, _folio, wbc: WritebackControl) => (wbc.syncAll ? 'fail' : 'skip');
    case 'bounce':
      return async () => 'bounce';
  }
}

/** mapping_tagged(mapping, PAGECACHE_TAG_DIRTY): by the mark, so a clean fault commutes with it. */
function hasDirtyFolio(inode: Inode): boolean {
  return inode.mapping.dirtyTag.any();
}

/**
 * ext4_writepages (4.18): nothing tagged dirty → nothing to do; else a handle
 * (ext4_journal_start_with_reserve) across locking, cleaning and submitting the pages.
 */
function writepages(policy: PinnedPolicy): FileOperations['writepages'] {
  const hooks: WritepagesHooks = { pinned: pinnedHook(policy) };
  return async (t, inode, wbc) => {
    if (!hasDirtyFolio(inode)) return 0;
    const h = await ext4JournalStart(
      t,
      inode,
      WRITEPAGES_CREDITS,
      'ext4_writepages:ext4_journal_start_with_reserve',
    );
    try {
      return await iomapWritepages(t, inode, wbc, hooks);
    } finally {
      journalOf(inode.fs).stop(t, h);
    }
  };
}

/**
 * ext4_sync_file: file_write_and_wait_range (an error returns at once), then the journal commit of
 * the inode's last transaction (jbd2_complete_transaction on i_sync_tid), then the device flush.
 */
async function syncFile(t: Task, inode: Inode, start: number, end: number): Promise<number> {
  const mapping = inode.mapping;
  const werr = await filemapFdatawriteRange(t, mapping, start, end);
  if (werr !== -EIO) await filemapFdatawaitRange(t, mapping, start, end);
  const seen = mapping.wbErr.checkAndAdvance(inode.file);
  if (werr || seen) return werr || seen;
  await journalOf(inode.fs).completeTransaction(t, syncTid(inode));
  // As in genericFsync: the flush, its completion and the return into fsync(2) record everything
  // they touch (the bio has no segments and no endIo).
  await t.pointRecorded('blkdev_issue_flush');
  return inode.fs.bdev.submitBioWait(t, 'flush', 0, [], 'blkdev_issue_flush', false, true);
}

function makeOps(policy: PinnedPolicy): FileOperations {
  return {
    readIter,
    writeIter,
    // 4.18: each mode's own function takes inode_lock, then i_mmap_sem (here invalidate_lock).
    fallocate: (t, inode, mode, off, len, keepSize) =>
      fallocateUnderInvalidateLock(t, inode, ext4FallocateFn(mode), 'filemap_invalidate_lock', {
        mode,
        off,
        len,
        keepSize,
      }),
    setattrSize: (t, inode, size) =>
      withInodeAndInvalidateLock(t, inode, truncateSites('ext4_setattr', 'filemap_invalidate_lock'), () =>
        truncateLocked(t, inode, size),
      ),
    fsync: (t, inode, start, end) => syncFile(t, inode, start, end),
    // syncFile up to its first point: the dirty and writeback marks, the folios they find,
    // wb_err, i_sync_tid and the journal, every one recorded.
    fsyncRecorded: true,
    fault: (t, _inode, vmf) => filemapFault(t, vmf),
    pageMkwrite: (t, inode, vmf) =>
      withInvalidateLockShared(t, inode, 'ext4_page_mkwrite:filemap_invalidate_lock_shared', () =>
        iomapPageMkwrite(t, inode, vmf),
      ),
    writepages: writepages(policy),
  };
}

function ext4Scheme(policy: PinnedPolicy, summary: string): Scheme {
  return {
    name: `ext4-pin-${policy}`,
    summary,
    invalidateLock: true,
    setupInode(inode) {
      journalOf(inode.fs);
      inode.fsPrivate.set(SYNC_TID, 0);
    },
    ops: makeOps(policy),
  };
}

export const ext4PinBlock = ext4Scheme(
  'block',
  'ext4 + jbd2 (seed 002): writeback waits for a DMA pin to drop, holding the page lock and a journal handle',
);
export const ext4PinSkip = ext4Scheme(
  'skip',
  'ext4 + jbd2 (seed 002): writeback skips DMA-pinned pages and leaves them dirty',
);
export const ext4PinFail = ext4Scheme(
  'fail',
  'ext4 + jbd2 (seed 002): fsync fails with EIO when a page to write is DMA-pinned',
);
export const ext4PinBounce = ext4Scheme(
  'bounce',
  'ext4 + jbd2 (seed 002): writeback of a DMA-pinned page writes a stable bounce copy',
);
