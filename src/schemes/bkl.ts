/**
 * bkl: a TEST ORACLE, not a Linux scheme. xfs (src/schemes/xfs.ts) with one global, task-recursive
 * lock taken around every file operation and every fault: ->read_iter, ->write_iter, ->fallocate,
 * ->setattr, ->fsync, ->writepages (the `writeback` op, and every writeback a syscall starts),
 * ->fault and ->page_mkwrite.
 *
 * Lock ordering:
 *   bkl                 (outermost: every entry point; recursive for the task that holds it, so a
 *                        fault in copy_{to,from}_user or GUP under a syscall takes it again)
 *     xfs's locks       (i_rwsem, invalidate_lock, folio lock: as in xfs.ts, never contended
 *                        across tasks, since only the bkl holder reaches them)
 *
 * What it is for: with every syscall and fault serialised, each op is atomic except what Linux
 * itself leaves unsynchronised:
 * - loads and stores through present PTEs (no fault: no lock), which may run at any point of
 *   another task's op;
 * - the DMA's read of an O_DIRECT write's user buffer, and its writes into an O_DIRECT read's:
 *   bios complete in interrupt context, which takes no lock, while a store through a present PTE
 *   may hit the buffer at any time.
 * So an oracle finding under `bkl` that does not involve one of those is a false alarm of the
 * oracle (issue 14: over the campaign's default space there must be none).
 *
 * Departures from Linux: Linux had a big kernel lock (lock_kernel(), removed in 2.6.39), and it was
 * task-recursive like this one (current->lock_depth, lib/kernel_lock.c), but schedule() released it
 * while its holder slept (release_kernel_lock) and took it back on wake-up. This one is held across
 * sleeps — bio waits included —, which is what makes each op atomic. Background reclaim (kswapd)
 * and bio completion take no bkl, as they took no BKL.
 */
import type { FileOperations, FileSystem, Inode } from '../fs/fs.js';
import { attachState } from '../sim/statehash.js';
import type { Task } from '../sim/task.js';
import { Mutex } from '../sync/mutex.js';
import type { Scheme } from './scheme.js';
import { ops as xfsOps } from './xfs.js';

/** lock_kernel()/unlock_kernel(): a mutex and the holder's depth (current->lock_depth). */
class BigLock {
  private readonly mutex = new Mutex('bkl', 'bkl');
  private depth = 0;

  async lock(t: Task, site: string): Promise<void> {
    if (this.mutex.owner === t) {
      this.depth++;
      return;
    }
    await this.mutex.lock(t, site);
    this.depth = 1;
  }

  unlock(t: Task): void {
    if (--this.depth === 0) this.mutex.unlock(t);
  }
}

/** One bkl per filesystem instance, so per run: the scheme object is shared by every run. */
const locks = new WeakMap<FileSystem, BigLock>();

function bkl(inode: Inode): BigLock {
  let l = locks.get(inode.fs);
  if (!l) {
    l = new BigLock();
    locks.set(inode.fs, l);
    attachState(inode.fs, l); // the state hash sees it (src/sim/statehash.ts)
  }
  return l;
}

async function underBkl<R>(t: Task, inode: Inode, site: string, body: () => Promise<R>): Promise<R> {
  const l = bkl(inode);
  await l.lock(t, `${site}:lock_kernel`);
  try {
    return await body();
  } finally {
    l.unlock(t);
  }
}

const ops: FileOperations = {
  readIter: (t, inode, pos, len, ubuf, direct) =>
    underBkl(t, inode, 'bkl_read_iter', () => xfsOps.readIter(t, inode, pos, len, ubuf, direct)),
  writeIter: (t, inode, pos, len, ubuf, direct) =>
    underBkl(t, inode, 'bkl_write_iter', () => xfsOps.writeIter(t, inode, pos, len, ubuf, direct)),
  fallocate: (t, inode, mode, off, len, keepSize) =>
    underBkl(t, inode, 'bkl_fallocate', () => xfsOps.fallocate(t, inode, mode, off, len, keepSize)),
  setattrSize: (t, inode, size) =>
    underBkl(t, inode, 'bkl_setattr', () => xfsOps.setattrSize(t, inode, size)),
  fsync: (t, inode, start, end, datasync) =>
    underBkl(t, inode, 'bkl_fsync', () => xfsOps.fsync(t, inode, start, end, datasync)),
  fault: (t, inode, vmf) => underBkl(t, inode, 'bkl_fault', () => xfsOps.fault(t, inode, vmf)),
  pageMkwrite: (t, inode, vmf) =>
    underBkl(t, inode, 'bkl_page_mkwrite', () => xfsOps.pageMkwrite(t, inode, vmf)),
  writepages: (t, inode, wbc) => underBkl(t, inode, 'bkl_writepages', () => xfsOps.writepages(t, inode, wbc)),
  // The bkl's acquisition records the lock: fsync's first step still records all it touches.
  fsyncRecorded: xfsOps.fsyncRecorded,
};

export const bklScheme: Scheme = {
  name: 'bkl',
  summary:
    'TEST ORACLE, not Linux: xfs with one task-recursive global lock around every syscall and fault (only PTE loads/stores and DMA stay concurrent)',
  invalidateLock: true,
  setupInode() {},
  ops,
};
