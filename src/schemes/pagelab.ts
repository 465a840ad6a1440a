/**
 * pagelab: our scheme — what the seeds argue for, combined. docs/pagelab-scheme.md argues each
 * property against each seed.
 *
 * Lock ordering:
 *   i_rwsem            exclusive: buffered writes, extending O_DIRECT writes, truncate, fallocate;
 *                      shared: non-extending O_DIRECT writes and O_DIRECT reads (so O_DIRECT to
 *                      disjoint ranges of one file runs in parallel — seed 000's reason for a
 *                      two-state lock, seed 004's for range locks)
 *     pagecache range lock, "block" state over the byte range whose blocks or data change:
 *                      [pos, pos+len) for O_DIRECT writes, [off, ∞) for truncate and fallocate;
 *                      exclusive over the whole blocks for an O_DIRECT write that is not block
 *                      aligned (it zeroes the rest of a block it allocates: two of them in one
 *                      block must never run together — XFS takes IOLOCK_EXCL and waits for all
 *                      O_DIRECT in xfs_file_dio_write_unaligned; "block" states share),
 *                      held from before the first invalidation until after the second
 *       mmap_lock      (GUP of the user buffer, copy_{to,from}_user)
 *         pagecache range lock, "add" state over one page, wherever a folio is added (the read
 *                      path's filemap_create_folio, filemap_fault) and in page_mkwrite, under the
 *                      task's lock context — of any inode, and of another range of this one (the
 *                      O_DIRECT buffer may map either)
 *           folio lock
 *   Waiting for a DMA pin (truncate down, and fallocate but for a plain allocation): holding
 *   i_rwsem exclusive and nothing else; "block" is dropped first and retaken after (the pinner may
 *   need "add" in the range to finish its GUP), as xfs_break_dax_layouts drops XFS_MMAPLOCK_EXCL.
 *   Across inodes (and ranges of one inode) there is no fixed order: "block" of a → "add" of b and
 *   "block" of b → "add" of a may both happen. The chain walk of the range lock keeps it
 *   deadlock-free: a wait that would close a cycle is refused (docs/pagelab-scheme.md argues it).
 *
 * - No stale data, no lost write (seed 004): while a DIO write, truncate or fallocate holds "block"
 *   over a range, no page of it can be added or re-dirtied — not by a buffered read, not by a
 *   fault, not by GUP. The second invalidation can no longer fail, and fallocate's shoot-down holds
 *   for the whole extent change ("Fallocate needs to shoot down pages that are still within i_size").
 * - No self-deadlock on an mmap'd DIO buffer (seeds 000, 004): the add request of a fault made
 *   inside our own DIO conflicts with our own "block"; the lock context (Chinner) refuses it with
 *   EDEADLK instead of sleeping, the fault fails, and the DIO falls back to buffered I/O for the
 *   rest (Overstreet: "A better solution would be for gup() to detect that and return an error, so
 *   we can just fall back to buffered writes"), so the syscall completes. `pagelab-edeadlk` returns
 *   EDEADLK to userspace instead (Chinner's choice).
 * - No deadlock through crossed buffers (issue 14): two O_DIRECT writes whose buffers map each
 *   other's range (two files, or two pages of one) each hold "block" and ask for "add" on the
 *   other's. The lock context alone sees only itself; with the chain walk (src/sync/rangelock.ts,
 *   after rt_mutex's deadlock detection) the second request sees the first task's wait and is
 *   refused like a self-conflict. bcachefs orders inodes by address and drops and retries instead
 *   (bch2_page_fault, fdm_dropped_locks).
 * - No livelock: the fallback happens on the first refusal; there is no retry loop to spin.
 * - Bounded waits (seed 000's fairness objection): conflicting requests are granted strictly in
 *   arrival order (Bueso's range lock), so a DIO waiting for "block" waits only for the "add"
 *   holders that arrived before it — a fault storm cannot starve it: the deadline of Kara's fix is
 *   zero.
 * - Pinned pages (seed 002): writeback of a DMA-pinned page writes a stable copy (bounce), so fsync
 *   neither blocks on the pin (deadlock with the journal), nor skips the page (a lie), nor fails.
 *   An O_DIRECT write never drops a pinned folio from the cache (Linux's
 *   invalidate_inode_pages2_range does): the pre-write invalidation finds it busy and the write
 *   falls back to buffered I/O, so an O_DIRECT read filling it keeps its bytes in the file. Nor
 *   do truncate and fallocate (Linux's truncate_inode_pages_range does, campaign 31216): under
 *   "block" they zap the range's mappings, and if a folio there is pinned they drop "block", wait
 *   for the pin and retry — dax_layout_busy_page's protocol, applied to the page cache.
 *
 * Departures: not a Linux scheme; every piece exists in a proposal of the seeds.
 */
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import type { FileOperations, Inode } from '../fs/fs.js';
import { iomapFileBufferedWrite, iomapPageMkwrite, iomapWritepages } from '../fs/iomap/buffered-io.js';
import { iomapDioRw } from '../fs/iomap/direct-io.js';
import { directWriteFallback, filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { inRetryLoop } from '../fs/retry.js';
import { genericFsync } from '../fs/sync.js';
import { filemapFault, unmapMappingPages, VM_FAULT_SIGBUS } from '../mm/filemap.js';
import type { Folio } from '../mm/folio.js';
import { EDEADLK, ENOTBLK } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import { LockContext } from '../sync/lockctx.js';
import { RangeLock } from '../sync/rangelock.js';
import { rangeLockOf } from './locks.js';
import type { Scheme } from './scheme.js';

const END = Number.MAX_SAFE_INTEGER;

function pagecacheLock(inode: Inode): RangeLock {
  return rangeLockOf(inode, 'pagecache_lock');
}

/** What a self-conflicting O_DIRECT does: fall back to buffered I/O, or return EDEADLK. */
export type OnSelfConflict = 'buffered' | 'edeadlk';

/** "block" over [start, end) for the body, with a fresh lock context attached to the task. */
async function withBlock(
  t: Task,
  inode: Inode,
  start: number,
  end: number,
  site: string,
  body: (ctx: LockContext) => Promise<number>,
  mode: 'block' | 'excl' = 'block',
): Promise<number> {
  const ctx = new LockContext(t).attach();
  try {
    const h = await pagecacheLock(inode).lock(t, start, end, mode, site, ctx);
    if (typeof h === 'number') return h;
    try {
      return await body(ctx);
    } finally {
      pagecacheLock(inode).unlock(t, h);
    }
  } finally {
    ctx.detach();
  }
}

/** The O_DIRECT write: i_rwsem shared unless it extends the file, "block" over its range. */
async function dioWrite(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  onSelf: OnSelfConflict,
): Promise<number> {
  const extending = pos + len > inode.size;
  if (extending) await inode.iRwsem.downWrite(t, 'pagelab_dio_write:inode_lock');
  else await inode.iRwsem.downRead(t, 'pagelab_dio_write:inode_lock_shared');
  let ret: number;
  let refused = false;
  try {
    const bs = inode.blockSize;
    const unaligned = pos % bs !== 0 || len % bs !== 0;
    const start = unaligned ? Math.floor(pos / bs) * bs : pos;
    const end = unaligned ? Math.ceil((pos + len) / bs) * bs : pos + len;
    const site = unaligned ? 'pagelab_dio_write:pagecache_excl' : 'pagelab_dio_write:pagecache_block';
    ret = await withBlock(
      t,
      inode,
      start,
      end,
      site,
      async (ctx) => {
        const zerr = extending ? await writeChecksZeroEof(t, inode, pos) : 0;
        if (zerr) return zerr;
        const r = await iomapDioRw(t, inode, pos, len, ubuf, true, { partial: true, pinnedBusy: true });
        refused = ctx.refused > 0;
        return r;
      },
      unaligned ? 'excl' : 'block',
    );
  } finally {
    if (extending) inode.iRwsem.upWrite(t);
    else inode.iRwsem.upRead(t);
  }
  if (!refused && ret !== -ENOTBLK) return ret;
  // A refusal after some pages were written is a short write, as iomap_dio_rw returns the bytes
  // done when GUP fails midway under IOMAP_DIO_PARTIAL; EDEADLK only when nothing was written.
  if (onSelf === 'edeadlk' && refused) return ret > 0 ? ret : -EDEADLK;
  // The buffer maps a page of the range we blocked (or a page could not be invalidated): write the
  // rest through the page cache, holding no "block", so its faults can add pages.
  const done = Math.max(ret, 0);
  if (t.tracing)
    t.event('pagelab_dio_write', `self-conflict: buffered fallback for [${pos + done},${pos + len})`);
  await inode.iRwsem.downWrite(t, 'pagelab_dio_write:fallback:inode_lock');
  try {
    return await directWriteFallback(t, inode, pos, len, ubuf, done);
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

/** The O_DIRECT read: i_rwsem shared; a self-conflict cannot arise (a read blocks nothing). */
async function dioRead(t: Task, inode: Inode, pos: number, len: number, ubuf: number): Promise<number> {
  await inode.iRwsem.downRead(t, 'pagelab_dio_read:inode_lock_shared');
  try {
    return await iomapDioRw(t, inode, pos, len, ubuf, false);
  } finally {
    inode.iRwsem.upRead(t);
  }
}

async function bufferedWrite(t: Task, inode: Inode, pos: number, len: number, ubuf: number): Promise<number> {
  await inode.iRwsem.downWrite(t, 'pagelab_buffered_write:inode_lock');
  try {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    // After it: the inode_unlock, which records itself, and the return.
    return await iomapFileBufferedWrite(t, inode, pos, len, ubuf, 'recorded');
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

/**
 * dax_layout_busy_page_range() (fs/dax.c), for the page cache: zaps every PTE of pages `first` and
 * on, then returns a folio there that a DMA holds pinned, or null. Zapping first is what makes the
 * answer last: with "block" held, a new pin needs GUP to fault the page back in, and the fault's
 * "add" waits for our "block" (DAX: "To do this without races, we need to ensure that no new
 * references can be established ... unmap_mapping_pages"). Context: the caller holds "block" over
 * [first page, ∞) and i_rwsem exclusive (i_size cannot move: no folio lies past its page).
 */
function layoutBusyFolio(t: Task, inode: Inode, first: number): Folio | null {
  const mapping = inode.mapping;
  unmapMappingPages(t, mapping, first, Number.MAX_SAFE_INTEGER, false);
  const last = Math.max(first, Math.ceil(inode.size / inode.fs.pageSize));
  for (const i of mapping.indicesIn(first, last)) {
    const folio = mapping.get(i) as Folio;
    if (folio.maybeDmaPinned) return folio;
  }
  return null;
}

/**
 * Sleeps until the DMA pins of `folio` drop, holding i_rwsem but no "block": the pinner may need
 * "add" on another page of this file to finish its GUP (its buffer may span two pages of the
 * range, the first pinned, the second not yet faulted in), so waiting with "block" held would
 * deadlock. XFS does the same around dax_layout_busy_page: xfs_break_dax_layouts waits in
 * xfs_wait_dax_page, which drops XFS_MMAPLOCK_EXCL across schedule() and retakes it, and
 * xfs_break_layouts loops until no page is busy. Nothing a pinner holds or waits for needs our
 * i_rwsem: GUP's faults take mmap_lock and "add", and the bio's completion unpins.
 */
async function waitForUnpin(t: Task, folio: Folio, site: string): Promise<void> {
  if (t.tracing)
    t.event(
      site,
      `${folio.name} pinned (pin=${folio.pincount}): drop "block", wait for unpin, retry`,
      folio.id,
    );
  t.retries++;
  await folio.waitUnpinned(t, `${site}:wait_for_unpin`);
}

/**
 * i_rwsem exclusive + "block" from `start` to EOF and beyond, around a block-map change. With
 * `removes` true (asked under i_rwsem: truncate down, and every fallocate mode but a plain
 * allocation, drop the page cache there), no folio of the range may be DMA-pinned when `fn` runs,
 * or its removal would lose the bytes the DMA lands (campaign 31216, docs/pagelab-scheme.md):
 * truncate_inode_pages_range checks neither the refcount nor folio_maybe_dma_pinned. So, like the
 * DAX layout break, take "block", zap the mappings, and if a folio is pinned drop "block", wait for
 * the pin, and retry.
 */
async function withInodeAndBlock(
  t: Task,
  inode: Inode,
  start: number,
  site: string,
  removes: () => boolean,
  fn: () => Promise<number>,
): Promise<number> {
  await inode.iRwsem.downWrite(t, `${site}:inode_lock`);
  try {
    if (!removes()) return await withBlock(t, inode, start, END, `${site}:pagecache_block`, fn);
    return await inRetryLoop(t, `${site}:break_layouts`, async () => {
      const first = Math.floor(start / inode.fs.pageSize);
      for (;;) {
        let busy = null as Folio | null;
        const ret = await withBlock(t, inode, start, END, `${site}:pagecache_block`, () => {
          busy = layoutBusyFolio(t, inode, first);
          return busy ? Promise.resolve(0) : fn();
        });
        if (!busy) return ret;
        await waitForUnpin(t, busy, `${site}:break_layouts`);
      }
    });
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

function makeOps(onSelf: OnSelfConflict, breakLayouts: boolean): FileOperations {
  return {
    readIter: (t, inode, pos, len, ubuf, direct) =>
      // filemap_read returns straight into the system call: nothing after it but the return.
      direct ? dioRead(t, inode, pos, len, ubuf) : filemapRead(t, inode, pos, len, ubuf, 'recorded'),
    writeIter: (t, inode, pos, len, ubuf, direct) =>
      direct ? dioWrite(t, inode, pos, len, ubuf, onSelf) : bufferedWrite(t, inode, pos, len, ubuf),
    fallocate(t, inode, mode, off, len, keepSize) {
      const ps = inode.fs.pageSize;
      // A plain allocation leaves the page cache alone; every other mode drops some of it.
      return withInodeAndBlock(
        t,
        inode,
        Math.floor(off / ps) * ps,
        'pagelab_fallocate',
        () => breakLayouts && mode !== 'alloc',
        () => fallocateLocked(t, inode, mode, off, len, keepSize),
      );
    },
    setattrSize: (t, inode, size) =>
      // Only a truncate down drops pages; i_size is read once the i_rwsem is ours.
      withInodeAndBlock(
        t,
        inode,
        Math.min(size, inode.size),
        'pagelab_setattr',
        () => breakLayouts && size < inode.size,
        () => truncateLocked(t, inode, size),
      ),
    fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
    fault: (t, _inode, vmf) => filemapFault(t, vmf),
    async pageMkwrite(t, inode, vmf) {
      const ps = inode.fs.pageSize;
      const h = await pagecacheLock(inode).lock(
        t,
        vmf.pgoff * ps,
        (vmf.pgoff + 1) * ps,
        'add',
        'pagelab_page_mkwrite:pagecache_add',
      );
      if (typeof h === 'number') return VM_FAULT_SIGBUS;
      try {
        return await iomapPageMkwrite(t, inode, vmf);
      } finally {
        pagecacheLock(inode).unlock(t, h);
      }
    },
    // Stable pages for DMA-pinned folios: write a bounce copy (seed 002).
    writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc, { pinned: async () => 'bounce' }),
    fsyncRecorded: true, // genericFsync over iomapWritepages
  };
}

/** The per-inode page-cache range lock; `chainWalk` false is the scheme before issue 14. */
function makeSetupInode(chainWalk: boolean): (inode: Inode) => void {
  return (inode) => {
    // The chain walk: a fault under our O_DIRECT write whose wait would close a cycle through
    // other tasks (crossed buffers) is refused like a fault on our own range.
    const lock = new RangeLock(`pagecache_lock(${inode.name})`, 'pagecache_lock', { chainWalk });
    inode.fsPrivate.set('pagecache_lock', lock);
    const ps = inode.fs.pageSize;
    inode.mapping.addLock = {
      async lockAdd(t, index, site) {
        const h = await lock.lock(t, index * ps, (index + 1) * ps, 'add', site);
        if (typeof h === 'number') return h;
        return () => lock.unlock(t, h);
      },
    };
  };
}

/**
 * A pagelab variant. `chainWalk: false` is pagelab as it was before issue 14 (the lock context
 * refuses only a wait for itself), `breakLayouts: false` pagelab before it waited for pins in
 * truncate and fallocate: neither is registered; tests keep them to show the crossed-buffer
 * deadlock and the pinned-folio loss they had.
 */
export function makePagelab(
  name: string,
  summary: string,
  onSelf: OnSelfConflict,
  chainWalk = true,
  breakLayouts = true,
): Scheme {
  return {
    name,
    summary,
    invalidateLock: false,
    setupInode: makeSetupInode(chainWalk),
    ops: makeOps(onSelf, breakLayouts),
  };
}

export const pagelab: Scheme = makePagelab(
  'pagelab',
  'ours: range add/block page-cache lock (FIFO), lock context with chain walk → buffered fallback, parallel DIO, stable pages',
  'buffered',
);

export const pagelabEdeadlk: Scheme = makePagelab(
  'pagelab-edeadlk',
  'pagelab, but an O_DIRECT refused by the lock context returns EDEADLK (Chinner) instead of falling back',
  'edeadlk',
);
