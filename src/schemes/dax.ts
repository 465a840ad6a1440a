/**
 * dax2017, dax: XFS on persistent memory (-o dax), before and after Jan Kara's 2017 fix of seed
 * 003 ("dax: Fix data corruption when fault races with write", [PATCH 4/4] of "mm,dax: Fix data
 * corruption due to mmap inconsistency", Fixes: 9f141d6ef625). No page cache: read(2), write(2)
 * and O_DIRECT copy between the user buffer and the media (dax_iomap_rw), faults map the device's
 * pages or the zero page, and the DAX entry lock of src/fs/dax.ts does what the folio lock does
 * for the page cache.
 *
 * Lock ordering (xfs_inode.c, fs/dax.c):
 *   i_rwsem (IOLOCK) → invalidate_lock (MMAPLOCK) → DAX entry lock → ILOCK (->iomap_begin)
 *   mmap_lock → MMAPLOCK shared → DAX entry lock → ILOCK          dax: the fault since the fix
 *   mmap_lock → MMAPLOCK shared → ILOCK; then DAX entry lock      dax2017 (9f141d6ef625):
 *                                     ->iomap_begin "without entry lock during dax fault"
 *   i_rwsem (IOLOCK excl) → ILOCK (->iomap_begin allocates) → DAX entry lock (invalidation)
 *
 * Who takes what:
 *   read(2), O_DIRECT or not      IOLOCK_SHARED (xfs_file_dax_read; O_DIRECT is ignored, so no
 *                                 alignment rule: xfs_file_read_iter takes IS_DAX before IOCB_DIRECT)
 *   write(2), O_DIRECT or not     IOLOCK_EXCL, always (xfs_file_dax_write); no MMAPLOCK, so a
 *                                 write runs concurrently with faults: only the entry lock
 *                                 orders a fault's hole lookup against the write's allocation
 *   fault, page_mkwrite,          MMAPLOCK_SHARED (__xfs_filemap_fault → dax_iomap_fault)
 *   pfn_mkwrite
 *   truncate, fallocate           IOLOCK_EXCL + MMAPLOCK_EXCL, then the generic paths, whose
 *                                 page cache steps act on DAX entries (truncate_inode_pages_range
 *                                 → dax_delete_mapping_entry) and on the media (dax_zero_range)
 *   fsync                         dax_writeback_mapping_range (write-protect, flush, clean the
 *                                 dirty entries), log force, device flush
 *
 * Kernel functions mirrored: xfs_file_dax_read, xfs_file_dax_write (xfs_file_write_checks,
 * dax_iomap_rw, i_size update), __xfs_filemap_fault, xfs_file_fallocate, xfs_vn_setattr_size,
 * xfs_file_fsync, xfs_dax_writepages; the DAX core is src/fs/dax.ts.
 *
 * Departures from Linux and why:
 * - dax2017 is 9f141d6ef625 *with* patches 1-3/4 of Kara's series (invalidate_inode_pages2_range
 *   handles DAX entries and unmaps them; the write invalidates every IOMAP_F_NEW range): the state
 *   Kara analyses in seed 003 ("invalidate_inode_pages2_range() - there's nothing to invalidate"),
 *   so the only bug left is the order of 4/4. Without 2/4 even a sequential fault-then-write
 *   leaves the zero page mapped (generic/428).
 * - xfs_break_dax_layouts (waiting for GUP pins of DAX pages before truncate/fallocate) is not
 *   modelled: no scenario pins a DAX page (O_DIRECT on a DAX file is a CPU copy).
 * - Scenarios the model cannot express for DAX are declared n/a (notApplicable): a block size
 *   smaller than the page (-o dax needs bs == PAGE_SIZE) and files that start `cached` or `dirty`
 *   (there is no page cache to start in).
 */
import { type DaxFaultOrder, daxInode, daxSetupInode } from '../fs/dax.js';
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import type { FileOperations, Inode } from '../fs/fs.js';
import { writeChecksZeroEof } from '../fs/read_write.js';
import { genericFsync } from '../fs/sync.js';
import type { Scenario } from '../litmus/ast.js';
import type { VmFault } from '../mm/filemap.js';
import type { Task } from '../sim/task.js';
import {
  truncateSites,
  withInodeAndInvalidateLock,
  withInvalidateLockShared,
  withIRwsemExcl,
  withIRwsemShared,
} from './locks.js';
import type { Scheme } from './scheme.js';

/** xfs_file_dax_read: IOLOCK_SHARED around dax_iomap_rw. */
function daxRead(t: Task, inode: Inode, pos: number, len: number, ubuf: number): Promise<number> {
  return withIRwsemShared(t, inode, 'xfs_file_dax_read:xfs_ilock(IOLOCK_SHARED)', () =>
    daxInode(inode).iomapRw(t, pos, len, ubuf, false),
  );
}

/** xfs_file_dax_write: IOLOCK_EXCL, write checks, dax_iomap_rw, then i_size. */
function daxWrite(t: Task, inode: Inode, pos: number, len: number, ubuf: number): Promise<number> {
  return withIRwsemExcl(t, inode, 'xfs_file_dax_write:xfs_ilock(IOLOCK_EXCL)', async () => {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    const ret = await daxInode(inode).iomapRw(t, pos, len, ubuf, true);
    if (ret > 0 && pos + ret > inode.size) {
      inode.size = pos + ret;
      if (t.tracing) t.event('i_size_write', `${inode.name} size ${inode.size}`);
    }
    return ret;
  });
}

/** __xfs_filemap_fault for a DAX file: MMAPLOCK_SHARED around dax_iomap_fault. */
function daxFault(t: Task, inode: Inode, vmf: VmFault, order: DaxFaultOrder): Promise<number> {
  return withInvalidateLockShared(t, inode, '__xfs_filemap_fault:xfs_ilock(MMAPLOCK_SHARED)', () =>
    daxInode(inode).pteFault(t, vmf, order),
  );
}

function makeOps(order: DaxFaultOrder): FileOperations {
  return {
    readIter: (t, inode, pos, len, ubuf) => daxRead(t, inode, pos, len, ubuf),
    writeIter: (t, inode, pos, len, ubuf) => daxWrite(t, inode, pos, len, ubuf),
    fallocate: (t, inode, mode, off, len, keepSize) =>
      withInodeAndInvalidateLock(
        t,
        inode,
        {
          iRwsem: 'xfs_file_fallocate:xfs_ilock(IOLOCK_EXCL)',
          invalidateLock: 'xfs_file_fallocate:xfs_ilock(MMAPLOCK_EXCL)',
        },
        () => fallocateLocked(t, inode, mode, off, len, keepSize),
      ),
    // IOLOCK is do_truncate's inode_lock; xfs_vn_setattr takes MMAPLOCK_EXCL.
    setattrSize: (t, inode, size) =>
      withInodeAndInvalidateLock(t, inode, truncateSites('xfs_vn_setattr', 'xfs_ilock(MMAPLOCK_EXCL)'), () =>
        truncateLocked(t, inode, size),
      ),
    fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
    fault: (t, inode, vmf) => daxFault(t, inode, vmf, order),
    // ->page_mkwrite and ->pfn_mkwrite of a DAX file are the write fault (dax_iomap_fault).
    pageMkwrite: (t, inode, vmf) => daxFault(t, inode, vmf, order),
    writepages: (t, inode, wbc) => daxInode(inode).writebackMappingRange(t, wbc.start, wbc.end, wbc.syncAll),
  };
}

/** Why a scenario cannot be run on a DAX filesystem, or null. */
export function daxNotApplicable(s: Scenario): string | null {
  if (s.blockSize !== s.pageSize)
    return `DAX needs the block size to equal the page size (block ${s.blockSize}, page ${s.pageSize}): ext4 and XFS refuse -o dax otherwise`;
  const f = s.files.find((x) => x.init === 'cached' || x.init === 'dirty');
  if (f) return `DAX has no page cache: file ${f.name} cannot start '${f.init}'`;
  return null;
}

function daxScheme(name: string, order: DaxFaultOrder, summary: string): Scheme {
  return {
    name,
    summary,
    invalidateLock: true,
    setupInode: (inode) => {
      daxSetupInode(inode);
    },
    ops: makeOps(order),
    notApplicable: daxNotApplicable,
  };
}

export const dax2017 = daxScheme(
  'dax2017',
  'iomap-first',
  'XFS DAX after 9f141d6ef625 (2017): a fault looks up the block without the DAX entry lock',
);

export const dax = daxScheme(
  'dax',
  'entry-first',
  "XFS DAX with Kara's 2017 fix: ->iomap_begin of a fault runs under the DAX entry lock",
);
