/**
 * bcachefs's per-inode pagecache lock and the task's faults-disabled mapping (fs/bcachefs/fs.h,
 * include/linux/sched.h of 6.7-6.17):
 *
 *   bch2_pagecache_add_{get,tryget,put}(inode)  → bch2_two_state_*(&inode->ei_pagecache_lock, 0)
 *   bch2_pagecache_block_{get,put}(inode)       → bch2_two_state_*(&inode->ei_pagecache_lock, 1)
 *   faults_disabled_mapping()                   → current->faults_disabled_mapping & ~1
 *   set_fdm_dropped_locks() / fdm_dropped_locks() → bit 0 of it
 *
 * "add" (0) may add pages to the page cache (buffered I/O, faults); "block" (1) keeps them from
 * being added (O_DIRECT writes, fallocate, truncate). The lock itself is src/sync/twostate.ts.
 *
 * The lock ordering between two inodes is the kernel's `fdm > mapping` pointer comparison in
 * bch2_page_fault: i_data is embedded in the inode, which comes from the bch2_inode_cache slab, so
 * the order differs from boot to boot. The model compares Inode.addr, which the scenario sets
 * (`option inode-addr=ascending|descending`); tests run the two-file scenarios both ways.
 */
import type { AddressSpace } from '../../mm/filemap.js';
import { assert } from '../../sim/assert.js';
import type { Task } from '../../sim/task.js';
import { type TwoStateFairness, TwoStateLock } from '../../sync/twostate.js';
import type { Inode } from '../fs.js';

const ADD = 0;
const BLOCK = 1;
const KEY = 'ei_pagecache_lock';

/** Creates inode->ei_pagecache_lock (bch2_inode_init / two_state_lock_init). */
export function bch2InodeInitPagecacheLock(inode: Inode, fairness: TwoStateFairness): void {
  inode.fsPrivate.set(KEY, new TwoStateLock(`ei_pagecache_lock(${inode.name})`, fairness, KEY));
}

export function eiPagecacheLock(inode: Inode): TwoStateLock {
  const l = inode.fsPrivate.get(KEY);
  assert(l instanceof TwoStateLock, () => `bcachefs: ${inode.name} has no ei_pagecache_lock`);
  return l;
}

export function bch2PagecacheAddGet(t: Task, inode: Inode, caller: string): Promise<void> {
  return eiPagecacheLock(inode).lock(t, ADD, `${caller}:bch2_pagecache_add_get`);
}

export function bch2PagecacheAddTryget(t: Task, inode: Inode, caller: string): boolean {
  return eiPagecacheLock(inode).trylock(t, ADD, `${caller}:bch2_pagecache_add_tryget`);
}

export function bch2PagecacheAddPut(t: Task, inode: Inode): void {
  eiPagecacheLock(inode).unlock(t, ADD);
}

export function bch2PagecacheBlockGet(t: Task, inode: Inode, caller: string): Promise<void> {
  return eiPagecacheLock(inode).lock(t, BLOCK, `${caller}:bch2_pagecache_block_get`);
}

export function bch2PagecacheBlockPut(t: Task, inode: Inode): void {
  eiPagecacheLock(inode).unlock(t, BLOCK);
}

/** faults_disabled_mapping(): the mapping the task's O_DIRECT write is blocking, or null. */
export function faultsDisabledMapping(t: Task): AddressSpace | null {
  return t.faultsDisabledMapping as AddressSpace | null;
}

/** The inode of a mapping (mapping->host); every mapping of the model belongs to an Inode. */
export function mappingHost(mapping: AddressSpace): Inode {
  return mapping.host as Inode;
}

/** The kernel's `a > b` on address_space pointers: the lock order between two inodes. */
export function mappingAbove(a: AddressSpace, b: AddressSpace): boolean {
  return mappingHost(a).addr > mappingHost(b).addr;
}

/** set_fdm_dropped_locks(): the fault handler dropped and retook the O_DIRECT's "block". */
export function setFdmDroppedLocks(t: Task): void {
  t.faultsDisabledDroppedLocks = true;
}

/** current->faults_disabled_mapping = mapping, around bio_iov_iter_get_pages(). */
export function setFaultsDisabledMapping(t: Task, mapping: AddressSpace | null): void {
  // EBUG_ON(current->faults_disabled_mapping) on the way in.
  assert(
    mapping === null || t.faultsDisabledMapping === null,
    () => `${t}: faults_disabled_mapping already set`,
  );
  t.faultsDisabledMapping = mapping;
  t.faultsDisabledDroppedLocks = false;
}
