/**
 * The per-inode lock state of the schemes, reached through checked accessors, and the lock
 * wrappers several schemes share.
 *
 * A scheme keeps its per-inode objects in inode.fsPrivate (the model's `inode->i_private` and
 * fs-specific inode fields) and may rely on mapping->invalidate_lock. Reaching them through an
 * unchecked cast turns a missing setupInode, a key typo or a scheme whose `invalidateLock` flag is
 * false into a TypeError deep inside a run; these accessors assert instead, so the run ends with an
 * `invariant` finding that names the inode and what it lacks.
 *
 * Every wrapper takes the site labels of its acquisitions from the caller: a label names the
 * function that takes the lock in the kernel the scheme models (`xfs_file_fallocate:...`,
 * `ext4_setattr:...`), so one wrapper never makes two filesystems' traces read alike.
 */
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import type { FallocMode, FileOperations, Inode } from '../fs/fs.js';
import { iomapFileBufferedWrite, iomapPageMkwrite, iomapWritepages } from '../fs/iomap/buffered-io.js';
import { type DioFlags, iomapDioRw } from '../fs/iomap/direct-io.js';
import { directWriteFallback, writeChecksZeroEof } from '../fs/read_write.js';
import { genericFsync } from '../fs/sync.js';
import { filemapFault } from '../mm/filemap.js';
import { assert } from '../sim/assert.js';
import { ENOTBLK } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import { RangeLock } from '../sync/rangelock.js';
import type { RwSemaphore } from '../sync/rwsem.js';

/** mapping->invalidate_lock; asserts the scheme has one (Scheme.invalidateLock). */
export function invalidateLockOf(inode: Inode): RwSemaphore {
  const il = inode.mapping.invalidateLock;
  assert(il !== null, () => `${inode.name} has no invalidate_lock: the scheme says invalidateLock: false`);
  return il;
}

/** inode.fsPrivate[key], asserted to be a `cls` (what the scheme's setupInode put there). */
export function fsPrivateOf<T>(inode: Inode, key: string, cls: abstract new (...args: never[]) => T): T {
  const v = inode.fsPrivate.get(key);
  assert(
    v instanceof cls,
    () => `${inode.name} has no ${key} (${cls.name}): its scheme's setupInode did not create it`,
  );
  return v;
}

/** A range lock the scheme keeps in inode.fsPrivate[key]. */
export function rangeLockOf(inode: Inode, key: string): RangeLock {
  return fsPrivateOf(inode, key, RangeLock);
}

/** i_rwsem shared around `body`; `site` names the taker (`xfs_file_dio_read:xfs_ilock(IOLOCK_SHARED)`). */
export async function withIRwsemShared(
  t: Task,
  inode: Inode,
  site: string,
  body: () => Promise<number>,
): Promise<number> {
  await inode.iRwsem.downRead(t, site);
  try {
    return await body();
  } finally {
    inode.iRwsem.upRead(t);
  }
}

/** i_rwsem exclusive around `body`. */
export async function withIRwsemExcl(
  t: Task,
  inode: Inode,
  site: string,
  body: () => Promise<number>,
): Promise<number> {
  await inode.iRwsem.downWrite(t, site);
  try {
    return await body();
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

/** invalidate_lock shared around `body` (->page_mkwrite of ext4, xfs, btrfs). */
export async function withInvalidateLockShared(
  t: Task,
  inode: Inode,
  site: string,
  body: () => Promise<number>,
): Promise<number> {
  const il = invalidateLockOf(inode);
  await il.downRead(t, site);
  try {
    return await body();
  } finally {
    il.upRead(t);
  }
}

/** Where each lock of a block-map change is taken: i_rwsem first, then invalidate_lock. */
export interface BlockMapSites {
  readonly iRwsem: string;
  readonly invalidateLock: string;
}

/**
 * i_rwsem, then invalidate_lock, both exclusive, around a block-map change (truncate, fallocate):
 * "i_rwsem → invalidate_lock" in ext4, xfs (IOLOCK_EXCL | MMAPLOCK_EXCL) and btrfs.
 */
export async function withInodeAndInvalidateLock(
  t: Task,
  inode: Inode,
  sites: BlockMapSites,
  body: () => Promise<number>,
): Promise<number> {
  const il = invalidateLockOf(inode);
  await inode.iRwsem.downWrite(t, sites.iRwsem);
  await il.downWrite(t, sites.invalidateLock);
  try {
    return await body();
  } finally {
    il.upWrite(t);
    inode.iRwsem.upWrite(t);
  }
}

/** truncate(2): do_truncate takes i_rwsem; ->setattr (`setattrFn`) takes invalidate_lock. */
export function truncateSites(setattrFn: string, invalidateLockSite: string): BlockMapSites {
  return { iRwsem: 'do_truncate:inode_lock', invalidateLock: `${setattrFn}:${invalidateLockSite}` };
}

/**
 * The entry points that invalidate_lock filesystems over iomap share but for their site labels
 * (xfs 5.15+, ext4 6.x, the invalidate_lock scheme): truncate under i_rwsem then invalidate_lock
 * exclusive, page_mkwrite under invalidate_lock shared, filemap_fault (which takes invalidate_lock
 * itself where it must read), generic fsync over iomap writeback.
 */
export function invalidateLockIomapOps(
  setattr: BlockMapSites,
  mkwriteSite: string,
): Pick<FileOperations, 'setattrSize' | 'fsync' | 'fault' | 'pageMkwrite' | 'writepages' | 'fsyncRecorded'> {
  return {
    setattrSize: (t, inode, size) =>
      withInodeAndInvalidateLock(t, inode, setattr, () => truncateLocked(t, inode, size)),
    fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
    fault: (t, _inode, vmf) => filemapFault(t, vmf),
    pageMkwrite: (t, inode, vmf) =>
      withInvalidateLockShared(t, inode, mkwriteSite, () => iomapPageMkwrite(t, inode, vmf)),
    writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc),
    fsyncRecorded: true, // genericFsync over iomapWritepages
  };
}

/**
 * The ext4 function that takes inode_lock for a fallocate mode before 6.15: ext4_fallocate for a
 * plain allocation, each other mode's own function (ext4_punch_hole, ext4_zero_range,
 * ext4_collapse_range, ext4_insert_range: `inode_lock(inode)` then i_mmap_sem /
 * invalidate_lock). 6.15 (2890e5e0f49e) moved inode_lock, and invalidate_lock for the modes that
 * drop page cache, into ext4_fallocate.
 */
export function ext4FallocateFn(mode: FallocMode): string {
  switch (mode) {
    case 'alloc':
      return 'ext4_fallocate';
    case 'punch':
      return 'ext4_punch_hole';
    case 'zero':
      return 'ext4_zero_range';
    case 'collapse':
      return 'ext4_collapse_range';
    case 'insert':
      return 'ext4_insert_range';
  }
}

/** fallocate under i_rwsem + invalidate_lock, both taken by `fn` (see ext4FallocateFn). */
export function fallocateUnderInvalidateLock(
  t: Task,
  inode: Inode,
  fn: string,
  ilSite: string,
  args: { mode: FallocMode; off: number; len: number; keepSize: boolean },
): Promise<number> {
  return withInodeAndInvalidateLock(
    t,
    inode,
    { iRwsem: `${fn}:inode_lock`, invalidateLock: `${fn}:${ilSite}` },
    () => fallocateLocked(t, inode, args.mode, args.off, args.len, args.keepSize),
  );
}

/**
 * A write under i_rwsem exclusive (`site`): the write checks (EOF zeroing), then buffered, or
 * O_DIRECT falling back to buffered I/O for the rest on -ENOTBLK (Linux ≥ 5.9).
 */
export function exclusiveWrite(
  t: Task,
  inode: Inode,
  site: string,
  io: { pos: number; len: number; ubuf: number; direct: boolean; dio?: DioFlags },
): Promise<number> {
  const { pos, len, ubuf, direct } = io;
  return withIRwsemExcl(t, inode, site, async () => {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    // After it: the inode_unlock (and bkl's unlock_kernel around xfs), locks that record
    // themselves; every caller of exclusiveWrite returns what it returns.
    if (!direct) return iomapFileBufferedWrite(t, inode, pos, len, ubuf, 'recorded');
    const ret = await iomapDioRw(t, inode, pos, len, ubuf, true, io.dio);
    if (ret === -ENOTBLK) return directWriteFallback(t, inode, pos, len, ubuf, 0);
    return ret;
  });
}
