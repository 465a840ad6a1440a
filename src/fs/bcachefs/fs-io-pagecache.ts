/**
 * bcachefs's page cache entry points (fs/bcachefs/fs-io-pagecache.c, 6.7-6.17): the fault
 * handlers, which take "add" of ei_pagecache_lock, and the O_DIRECT write's shoot-down, which runs
 * under "block".
 *
 * bch2_page_fault is where the recursion guard lives (eb8e6e9ccbb4 "bcachefs: Deadlock prevention
 * for ei_pagecache_lock"; Kent Overstreet, seed 004: "The recursiveness is needed because
 * otherwise, if you mmap a file, then do a dio write where you pass the address you mmapped to
 * pwrite(), gup() from the dio write path will be trying to fault in the exact pages it's
 * blocking from being added"). Mainline does not recurse any more; it refuses:
 *
 *   fdm == mapping  → VM_FAULT_SIGBUS (the O_DIRECT write fails with -EFAULT)
 *   fdm >  mapping  → lock-order violation: trylock "add"; failing that, drop our "block" on fdm,
 *                     wait for "add" here, retake "block", set_fdm_dropped_locks(), SIGBUS: the
 *                     O_DIRECT loop re-shoots its range down and retries
 *   otherwise       → bch2_pagecache_add_get() (blocks behind any "block" holder of this inode)
 */
import {
  type AddressSpace,
  filemapFault,
  filemapWriteAndWaitRange,
  invalidateInodePages2Range,
  VM_FAULT_SIGBUS,
  type VmFault,
} from '../../mm/filemap.js';
import { EBUSY } from '../../sim/errno.js';
import type { Task } from '../../sim/task.js';
import type { Inode } from '../fs.js';
import { iomapPageMkwrite } from '../iomap/buffered-io.js';
import {
  bch2PagecacheAddGet,
  bch2PagecacheAddPut,
  bch2PagecacheAddTryget,
  bch2PagecacheBlockGet,
  bch2PagecacheBlockPut,
  faultsDisabledMapping,
  mappingAbove,
  mappingHost,
  setFdmDroppedLocks,
} from './fs.js';

/**
 * bch2_write_invalidate_inode_pages_range(): write back and invalidate [start, end] (end
 * inclusive), again while invalidation fails on a page redirtied meanwhile ("XXX: the way this is
 * currently implemented, we can spin if a process is continually redirtying a specific page").
 * Context: "pagecache_block must be held" — so no fault can bring a page back in between, and
 * page_mkwrite cannot redirty one (it takes "add"). Returns 0 or -errno.
 */
export async function bch2WriteInvalidateInodePagesRange(
  t: Task,
  mapping: AddressSpace,
  start: number,
  end: number,
): Promise<number> {
  const ps = mapping.pageSize;
  let ret: number;
  do {
    if (mapping.pages.size === 0) return 0;
    ret = await filemapWriteAndWaitRange(t, mapping, start, end + 1);
    if (ret) break;
    if (mapping.pages.size === 0) return 0;
    ret = await invalidateInodePages2Range(t, mapping, Math.floor(start / ps), Math.floor(end / ps));
  } while (ret === -EBUSY);
  return ret;
}

/** The lock-order-violation branch of bch2_page_fault: trylock, or drop "block", wait, retake. */
async function pageFaultOutOfOrder(t: Task, inode: Inode, fdm: AddressSpace): Promise<boolean> {
  if (bch2PagecacheAddTryget(t, inode, 'bch2_page_fault')) return true;
  const fdmHost = mappingHost(fdm);
  if (t.tracing)
    t.event('bch2_page_fault', `${inode.name} after ${fdmHost.name} in lock order: drop block, wait, retake`);
  bch2PagecacheBlockPut(t, fdmHost);
  await bch2PagecacheAddGet(t, inode, 'bch2_page_fault');
  bch2PagecacheAddPut(t, inode);
  await bch2PagecacheBlockGet(t, fdmHost, 'bch2_page_fault');
  // Signal that lock has been dropped:
  setFdmDroppedLocks(t);
  return false;
}

/** bch2_page_fault(): ->fault. */
export async function bch2PageFault(t: Task, inode: Inode, vmf: VmFault): Promise<number> {
  const mapping = vmf.mapping;
  const fdm = faultsDisabledMapping(t);
  if (fdm === mapping) {
    if (t.tracing)
      t.event('bch2_page_fault', `${inode.name}: fault on the mapping our O_DIRECT write blocks: SIGBUS`);
    return VM_FAULT_SIGBUS;
  }
  // What follows up to filemap_fault's lookup takes the pagecache lock and nothing else: recorded.
  await t.pointRecorded('bch2_page_fault');
  // Lock ordering:
  if (fdm && mappingAbove(fdm, mapping)) {
    if (!(await pageFaultOutOfOrder(t, inode, fdm))) return VM_FAULT_SIGBUS;
  } else {
    await bch2PagecacheAddGet(t, inode, `bch2_page_fault via ${vmf.via ?? 'do_user_addr_fault'}`);
  }
  try {
    return await filemapFault(t, vmf);
  } finally {
    bch2PagecacheAddPut(t, inode);
  }
}

/**
 * bch2_page_mkwrite(): "add" around locking the folio, the i_size/mapping check and dirtying it —
 * "Not strictly necessary, but helps avoid dio writes livelocking in
 * bch2_write_invalidate_inode_pages_range()". No faults_disabled_mapping check: only a FOLL_WRITE
 * GUP reaches it, and the O_DIRECT write's GUP reads its buffer. The model's iomapPageMkwrite does
 * what bch2_folio_set + bch2_folio_reservation_get + bch2_set_folio_dirty do (allocation stands
 * for the disk reservation; ENOSPC → SIGBUS).
 */
export async function bch2PageMkwrite(t: Task, inode: Inode, vmf: VmFault): Promise<number> {
  await bch2PagecacheAddGet(t, inode, `bch2_page_mkwrite via ${vmf.via ?? 'do_user_addr_fault'}`);
  try {
    return await iomapPageMkwrite(t, inode, vmf);
  } finally {
    bch2PagecacheAddPut(t, inode);
  }
}
