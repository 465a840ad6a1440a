/**
 * The page cache (mm/filemap.c, mm/truncate.c): struct address_space, folio lookup and insertion,
 * the generic buffered read (filemap_read), the generic fault (filemap_fault), flushing
 * (filemap_write_and_wait_range) and the two ways pages leave the cache: invalidation, which may
 * fail on a dirty page, and truncation, which may not.
 *
 * Lock ordering (mm/filemap.c):
 *   ->i_rwsem                       (write, truncate; never taken here)
 *     ->mmap_lock                   (copy_to_user faults while reading)
 *       ->invalidate_lock (shared)  (filemap_fault, filemap_create_folio: adding folios)
 *         ->folio_lock
 *           ->i_mmap_rwsem          (unmap_mapping_range: not modelled as a lock, one step)
 *   ->invalidate_lock (exclusive)   (truncate, punch: taken by the filesystem)
 *
 * Readahead is not modelled: a miss creates and reads exactly the folio it needs. Readahead would
 * only widen the windows the explorer already searches (it adds folios under invalidate_lock
 * shared, the same rule as filemap_create_folio).
 */

import { TAG_ZERO } from '../block/data.js';
import { EBUSY, EFAULT, EIO } from '../sim/errno.js';
import {
  granule,
  indexedObjectIds,
  isRecording,
  MAX_GRANULES,
  objectId,
  RecordingMap,
  record,
} from '../sim/footprint.js';
import type { Task } from '../sim/task.js';
import type { RwSemaphore } from '../sync/rwsem.js';
import { Folio, type FolioIds } from './folio.js';
import type { Vma } from './memory.js';

/** The inode as the page cache sees it. */
export interface MappingHost {
  readonly ino: number;
  readonly name: string;
  /** i_size */
  size: number;
}

export interface WritebackControl {
  /** Byte range, end exclusive. */
  start: number;
  end: number;
  /** WB_SYNC_ALL waits for folios under writeback and writes everything dirty in the range. */
  syncAll: boolean;
  /**
   * The caller's code after ->writepages returns, up to its next scheduling point, records all it
   * touches (src/sim/footprint.ts): the walk's last step need not cover it (genericFsync).
   */
  tailRecorded?: boolean;
}

/** struct address_space_operations, as far as the model needs them. */
export interface AddressSpaceOps {
  /** ->read_folio: folio locked on entry; unlocks it when the read completes; 0 or -errno. */
  readFolio(t: Task, folio: Folio): Promise<number>;
  /** ->writepages: writes dirty folios of the range; 0 or -errno. */
  writepages(t: Task, mapping: AddressSpace, wbc: WritebackControl): Promise<number>;
}

/**
 * A filesystem lock taken around adding a folio to the page cache, finer than invalidate_lock:
 * pagelab's range-granular "add" state. Returns the unlock, or -errno (EDEADLK from a lock
 * context: the caller fails the read or the fault instead of waiting for itself).
 */
export interface FolioAddLock {
  lockAdd(t: Task, index: number, site: string): Promise<(() => void) | number>;
}

/** An errseq_t (lib/errseq.c): the latest error, whether someone saw it, and a change counter. */
export class ErrSeq {
  err = 0;
  seen = false;
  counter = 0;

  /** `owner`: the footprint object its accesses belong to (the inode, for mapping->wb_err). */
  constructor(private readonly owner: () => number = () => -1) {}

  /** errseq_set(): the counter moves only if the previous error was seen. */
  set(err: number): void {
    if (isRecording()) record(this.owner(), true);
    if (this.seen || this.err === 0) this.counter++;
    this.err = err;
    this.seen = false;
  }

  /** errseq_sample(): an unseen error is reported to new openers too (b4678df184b3). */
  sample(): number {
    if (isRecording()) record(this.owner(), false);
    return this.seen || this.err === 0 ? this.counter : this.counter - 1;
  }

  /** errseq_check_and_advance(): returns the error once per cursor. */
  checkAndAdvance(cursor: { wbErr: number }): number {
    if (isRecording()) record(this.owner(), true);
    if (cursor.wbErr === this.counter) return 0;
    this.seen = true;
    cursor.wbErr = this.counter;
    return this.err;
  }
}

/**
 * What the generic paths ask of a DAX mapping (fs/dax.c). A DAX file has no folios in i_pages,
 * only value entries naming device pages; truncation and invalidation must drop those too
 * (truncate_inode_pages_range → dax_delete_mapping_entry, invalidate_inode_pages2_range →
 * dax_invalidate_mapping_entry_sync), and zeroing goes to the media instead of the page cache
 * (xfs_zero_range / ext4_zero_partial_blocks: IS_DAX → dax_zero_range).
 */
export interface DaxMapping {
  /** Truncation of whole pages [first, last]: deletes every entry, waiting for locked ones. */
  truncateEntries(t: Task, first: number, last: number): Promise<void>;
  /** Invalidation of [first, last]: unmaps and deletes clean entries, waiting for locked ones. */
  invalidateEntries(t: Task, first: number, last: number): Promise<number>;
  /** dax_zero_range(): zeroes the written blocks of [pos, pos+len) on the media; 0 or -errno. */
  zeroRange(t: Task, pos: number, len: number): Promise<number>;
}

/**
 * An xarray mark of the page cache (PAGECACHE_TAG_DIRTY, PAGECACHE_TAG_WRITEBACK): the indices whose
 * folio has the flag, kept by the flag's setter (Folio.dirty, Folio.writeback) and cleared when the
 * folio leaves the cache, as __filemap_remove_folio's xas_store does. Writeback finds its folios
 * by the mark (filemap_get_folios_tag), so a walk for dirty folios commutes with a fault adding a
 * clean one: each index a footprint object of its own, the walk a write of the whole mark.
 */
export class PageTag {
  private readonly marked: RecordingMap<number, true>;
  private allId = -1;
  private readonly keyObj = indexedObjectIds((i) => `${this.tag} mark(${this.mapping.name})+${i}`);

  constructor(
    private readonly mapping: { readonly name: string },
    private readonly tag: 'dirty' | 'writeback',
  ) {
    this.marked = new RecordingMap<number, true>(
      (i) => this.keyObj(i),
      () => this.allObj(),
    );
  }

  private allObj(): number {
    if (this.allId < 0) this.allId = objectId(`${this.tag} mark(${this.mapping.name})`);
    return this.allId;
  }

  set(index: number, on: boolean): void {
    if (on) this.marked.set(index, true);
    else this.marked.delete(index);
  }

  /** mapping_tagged(): is any index marked? (Reads every index: the whole mark, as size does.) */
  any(): boolean {
    return this.marked.size > 0;
  }

  /** The marked indices in [first, last], ascending (tag_pages_for_writeback, then the walk). */
  in(first: number, last: number): number[] {
    const out: number[] = [];
    for (const i of this.marked.keys()) if (i >= first && i <= last) out.push(i);
    return out.sort((a, b) => a - b);
  }
}

export class AddressSpace {
  /**
   * i_pages: index → folio. Each slot is a page granule of the file (src/sim/footprint.ts), and a
   * lookup counts as a write of it: whoever finds a folio may change it in the same step.
   */
  readonly pages: Map<number, Folio> = new RecordingMap<number, Folio>(
    (i) => granule(this.host.ino, i),
    () => this.host.ino,
    true,
  );
  /**
   * A lookup by a step that only reads what it finds (the folio's flags): the slot and the folio
   * read, not written as pages.get records them. __filemap_fdatawait_range: filemap_get_folios_tag
   * (PAGECACHE_TAG_WRITEBACK), then folio_wait_writeback on each (its reference, taken and
   * dropped, is not modelled).
   */
  peek(index: number): Folio | undefined {
    if (isRecording()) {
      record(granule(this.host.ino, index), false);
      record(this.host.ino, false);
    }
    return Map.prototype.get.call(this.pages, index) as Folio | undefined;
  }
  /** i_mmap: the VMAs mapping this file (their owner unmaps through this list). */
  readonly iMmap = new Set<MappedRange>();
  /** PAGECACHE_TAG_DIRTY and PAGECACHE_TAG_WRITEBACK. */
  readonly dirtyTag = new PageTag(this, 'dirty');
  readonly writebackTag = new PageTag(this, 'writeback');
  /** mapping->wb_err: an object of its own for footprints (only ErrSeq's methods touch it). */
  readonly wbErr = new ErrSeq(() => this.wbErrObj());
  private wbErrId = -1;
  aops: AddressSpaceOps | null = null;
  /** Taken (after invalidate_lock) wherever a folio is added: see FolioAddLock. */
  addLock: FolioAddLock | null = null;
  /** Set for a DAX file (dax_mapping()): its value entries, see DaxMapping. */
  dax: DaxMapping | null = null;

  constructor(
    readonly host: MappingHost,
    readonly pageSize: number,
    /** mapping->invalidate_lock, or null for kernels before 5.15 (the vfs2019 scheme). */
    readonly invalidateLock: RwSemaphore | null,
    readonly folioIds: FolioIds,
  ) {}

  get name(): string {
    return this.host.name;
  }

  private wbErrObj(): number {
    if (this.wbErrId < 0) this.wbErrId = objectId(`wb_err(${this.host.name})`);
    return this.wbErrId;
  }

  /** filemap_get_folio(): lookup without locking. */
  get(index: number): Folio | undefined {
    return this.pages.get(index);
  }

  /** Indices of cached folios in [first, last], ascending, at most `max` (find_get_entries). */
  indicesIn(first: number, last: number, max = Number.POSITIVE_INFINITY): number[] {
    const out: number[] = [];
    if (last - first < MAX_GRANULES) {
      // A short range looks at its own slots only (so it commutes with changes elsewhere).
      for (let i = first; i <= last && out.length < max; i++) if (this.pages.has(i)) out.push(i);
      return out;
    }
    for (const i of this.pages.keys()) if (i >= first && i <= last) out.push(i);
    out.sort((a, b) => a - b);
    if (out.length > max) out.length = max;
    return out;
  }

  /**
   * filemap_add_folio(): a new locked, !uptodate folio at `index`. Context: the caller checked the
   * index is free in the same step (the xarray insertion is atomic under xa_lock).
   */
  addFolio(t: Task, index: number): Folio {
    if (this.pages.has(index)) throw new Error(`${this.name}: index ${index} already cached`);
    const folio = new Folio(this.folioIds, this, index, this.pageSize, false, `${this.name}:${index}`);
    if (!folio.lock.trylock(t, 'filemap_add_folio')) throw new Error('new folio already locked');
    this.pages.set(index, folio);
    t.event('filemap_add_folio', folio.name, folio.id);
    return folio;
  }

  /** A folio the scenario's initial state puts in the cache before any task runs (unlocked). */
  setupFolio(index: number): Folio {
    const folio = new Folio(this.folioIds, this, index, this.pageSize, false, `${this.name}:${index}`);
    this.pages.set(index, folio);
    return folio;
  }

  /** __filemap_remove_folio(): drops the folio from the cache. Context: folio locked, unmapped. */
  removeFolio(t: Task, folio: Folio, why: string): void {
    if (folio.mapping !== this) throw new Error(`${folio.name} is not in ${this.name}`);
    if (folio.mapcount !== 0) throw new Error(`${folio.name} removed while still mapped`);
    this.pages.delete(folio.index);
    this.dirtyTag.set(folio.index, false);
    this.writebackTag.set(folio.index, false);
    folio.mapping = null;
    if (t.tracing)
      t.event('filemap_remove_folio', `${folio.name} (${why})${folio.dirty ? ' DIRTY' : ''}`, folio.id);
  }
}

/** A VMA's view of the file, as the page cache needs it to unmap (vma_interval_tree). */
export interface MappedRange {
  readonly shared: boolean;
  /** Unmaps the file pages [first, last] from this VMA's page table; with evenCows, COW copies too. */
  unmapPages(t: Task, first: number, last: number, evenCows: boolean): void;
}

/**
 * unmap_mapping_pages(): zaps every PTE that maps file pages [first, last] (i_mmap_rwsem is one
 * step here). Private COW copies are zapped only with evenCows, as in truncate.
 */
export function unmapMappingPages(
  t: Task,
  mapping: AddressSpace,
  first: number,
  last: number,
  evenCows: boolean,
): void {
  for (const vma of mapping.iMmap) vma.unmapPages(t, first, last, evenCows);
}

/** Reads a folio through ->read_folio and waits for the read (filemap_read_folio). */
export async function filemapReadFolio(t: Task, folio: Folio): Promise<number> {
  const mapping = folio.mapping as AddressSpace;
  const aops = mapping.aops as AddressSpaceOps;
  folio.uptodate = false;
  const err = await aops.readFolio(t, folio);
  if (err) return err;
  await folio.lock.waitUnlocked(t, 'filemap_read_folio:folio_wait_locked');
  return folio.uptodate ? 0 : -EIO;
}

/**
 * filemap_get_pages() for one index: finds the folio or creates and reads it. Returns it with a
 * reference and unlocked, uptodate; or a negative errno. Creation takes invalidate_lock shared
 * (filemap_create_folio), so it cannot race with a truncate or punch holding it exclusive.
 */
export async function filemapGetPage(t: Task, mapping: AddressSpace, index: number): Promise<Folio | number> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    // The step touches page `index` alone: its slot (recorded by the lookup), the folio there (its
    // flags, and the reference and data filemap_read takes and copies from), and i_size, the locks
    // of filemap_create_folio and filemap_update_page, and ->read_folio, all of which record
    // themselves. ->read_folio declares its own page before anything else (iomap_read_folio) or
    // records what it waits on first (btrfs's ordered extents).
    await t.pointPages('filemap_get_pages:lookup', mapping.host.ino, index, index + 1, true);
    const folio = mapping.get(index);
    if (!folio) {
      const created = await filemapCreateFolio(t, mapping, index);
      if (created === null) continue; // lost the race to another inserter: look again
      if (typeof created === 'number') return created;
      return created;
    }
    if (folio.uptodate) return folio;
    // filemap_update_page(): lock it, recheck, read it.
    await folio.lock.lock(t, 'filemap_update_page:folio_lock');
    if (folio.mapping !== mapping) {
      folio.lock.unlock(t);
      continue; // truncated or invalidated meanwhile
    }
    if (folio.uptodate) {
      folio.lock.unlock(t);
      return folio;
    }
    const err = await filemapReadFolio(t, folio);
    if (err) return err;
    return folio;
  }
  throw new Error('filemap_get_pages: no progress after 1000 attempts');
}

async function filemapCreateFolio(
  t: Task,
  mapping: AddressSpace,
  index: number,
): Promise<Folio | number | null> {
  const il = mapping.invalidateLock;
  if (il) await il.downRead(t, 'filemap_create_folio:invalidate_lock');
  const unlockAdd = mapping.addLock
    ? await mapping.addLock.lockAdd(t, index, 'filemap_create_folio:add_lock')
    : null;
  if (typeof unlockAdd === 'number') {
    if (il) il.upRead(t);
    return unlockAdd;
  }
  try {
    // The new folio's slot and the folio (recorded by the lookup and filemap_add_folio; the folio
    // lock records itself), then ->read_folio as in filemapGetPage: page `index` alone.
    await t.pointPages('filemap_create_folio:add', mapping.host.ino, index, index + 1, true);
    if (mapping.get(index)) return null;
    const folio = mapping.addFolio(t, index);
    const err = await filemapReadFolio(t, folio);
    return err ? err : folio;
  } finally {
    unlockAdd?.();
    if (il) il.upRead(t);
  }
}

/**
 * Result of a fault handler, as vm_fault_t. VM_FAULT_RETRY is not modelled: filemap_fault never
 * drops mmap_lock (lock_folio_maybe_drop_mmap, maybe_unlock_mmap_for_io) to wait for a folio lock or
 * a read. Linux drops it so that an mmap_lock writer (mmap, munmap, mprotect) is not stuck behind
 * a fault sleeping on I/O; the fault then returns VM_FAULT_RETRY and do_user_addr_fault or GUP
 * redoes it from the VMA lookup. In the model nothing takes mmap_lock for write inside a run
 * (mappings are made before the tasks start; fsx's mmap/munmap are one step that never waits), so
 * a reader of mmap_lock never waits and never makes a writer wait: holding it across the sleep adds
 * no wait-for edge, and no deadlock or no-progress verdict depends on it. The redone fault finds the
 * folio cached, or SIGBUS past i_size, or a truncated folio: states the model's in-place
 * continuation reaches too (it rechecks folio->mapping and i_size under the folio lock). Revisit
 * when an op takes mmap_lock for write across a scheduling point.
 */
export const VM_FAULT_SIGBUS = 2;
export const VM_FAULT_NOPAGE = 0x100;
export const VM_FAULT_LOCKED = 0x200;

/** struct vm_fault: what a fault handler is told and returns. */
export interface VmFault {
  readonly mapping: AddressSpace;
  readonly pgoff: number;
  readonly write: boolean;
  /** vmf->vma: where a handler that maps the page itself (DAX: vmf_insert_mixed) installs it. */
  readonly vma?: Vma;
  /** Set by ->fault: the folio, locked, with a reference (VM_FAULT_LOCKED). */
  folio: Folio | null;
  /**
   * Not a kernel field: the path that raised the fault, `faultin_page` (GUP resolving a missing
   * PTE itself, seed 001) or `do_user_addr_fault` (a CPU exception), so that a handler's lock
   * waits can name it in a deadlock report.
   */
  readonly via?: string;
}

/**
 * filemap_fault(): finds or reads the folio for a read fault and returns it locked. Takes
 * invalidate_lock shared only when it must create or read the folio (as Linux does since 5.15;
 * a kernel without invalidate_lock takes nothing), and, once taken, keeps it (`mapping_locked`)
 * across every `goto retry_find` — after reading a folio and after finding one truncated — until
 * the folio is locked and uptodate: a truncate or punch holding it exclusive cannot run between
 * the read and the lock. A folio found uptodate, then not uptodate under its lock, is dropped and
 * looked up again with invalidate_lock taken first (never read without it). Checks i_size under
 * the folio lock: a fault at or beyond EOF is SIGBUS, the only thing that keeps faults out of a
 * truncated range.
 */
export async function filemapFault(t: Task, vmf: VmFault): Promise<number> {
  const mapping = vmf.mapping;
  const ps = mapping.pageSize;
  const il = mapping.invalidateLock;
  let mappingLocked = false;
  const lockShared = async (): Promise<void> => {
    if (mappingLocked) return;
    if (il) await il.downRead(t, 'filemap_fault:invalidate_lock');
    mappingLocked = true;
  };
  const unlockShared = (): void => {
    if (mappingLocked && il) il.upRead(t);
    mappingLocked = false;
  };
  const lookup = () => t.pointPages('filemap_fault:lookup', mapping.host.ino, vmf.pgoff, vmf.pgoff + 1, true);
  await lookup();
  if (vmf.pgoff >= Math.ceil(mapping.host.size / ps)) return VM_FAULT_SIGBUS;
  let folio = mapping.get(vmf.pgoff);
  if (folio && !folio.uptodate) await lockShared();
  let retryFind = false;
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (retryFind) {
      // retry_find: invalidate_lock shared, taken if not held yet (`if (!mapping_locked)`), then
      // __filemap_get_folio looks the index up again (on a miss it allocates, which may sleep,
      // and adds).
      retryFind = false;
      await lockShared();
      await lookup();
      folio = mapping.get(vmf.pgoff);
    }
    if (!folio) {
      // Under invalidate_lock shared (filemap_create_folio's rule for adding folios).
      await lockShared();
      await t.pointPages('filemap_fault:create', mapping.host.ino, vmf.pgoff, vmf.pgoff + 1, true);
      folio = mapping.get(vmf.pgoff);
      if (!folio) {
        const err = await faultCreateFolio(t, mapping, vmf.pgoff);
        if (err) {
          unlockShared();
          return VM_FAULT_SIGBUS;
        }
        retryFind = true; // look it up again and lock it, invalidate_lock still held
        continue;
      }
    }
    await folio.lock.lock(t, 'filemap_fault:folio_lock');
    if (folio.mapping !== mapping) {
      // Did it get truncated? (or invalidated by a DIO meanwhile): retry_find, keeping the lock.
      folio.lock.unlock(t);
      retryFind = true;
      continue;
    }
    if (!folio.uptodate) {
      // "If the invalidate lock is not held, the folio was in cache and uptodate and now it is
      // not ... Let's drop everything, get the invalidate lock and try again."
      if (!mappingLocked) {
        folio.lock.unlock(t);
        retryFind = true;
        continue;
      }
      // page_not_uptodate: read it once, then retry_find with invalidate_lock still held.
      const err = await filemapReadFolio(t, folio);
      if (err) {
        unlockShared();
        return VM_FAULT_SIGBUS;
      }
      retryFind = true;
      continue;
    }
    unlockShared();
    if (vmf.pgoff >= Math.ceil(mapping.host.size / ps)) {
      folio.lock.unlock(t);
      return VM_FAULT_SIGBUS;
    }
    folio.refcount++;
    vmf.folio = folio;
    if (t.tracing) t.event('filemap_fault', `${folio.name}${vmf.write ? ' (write)' : ''}`, folio.id);
    return VM_FAULT_LOCKED;
  }
  throw new Error('filemap_fault: no progress after 1000 attempts');
}

/**
 * The miss of filemap_fault (__filemap_get_folio(FGP_CREAT) and the read that readahead would do):
 * adds the folio and reads it. Context: invalidate_lock shared held by the caller. Returns 0 or
 * -errno (a read error, or EDEADLK from the scheme's add lock).
 */
async function faultCreateFolio(t: Task, mapping: AddressSpace, index: number): Promise<number> {
  const unlockAdd = mapping.addLock
    ? await mapping.addLock.lockAdd(t, index, 'filemap_fault:add_lock')
    : null;
  if (typeof unlockAdd === 'number') return unlockAdd;
  let err = 0;
  if (!mapping.get(index)) err = await filemapReadFolio(t, mapping.addFolio(t, index));
  unlockAdd?.();
  return err;
}

export function folioMarkDirty(t: Task, folio: Folio): void {
  if (!folio.dirty) t.event('folio_mark_dirty', folio.name, folio.id);
  folio.dirty = true;
}

/**
 * filemap_write_and_wait_range(): __filemap_fdatawrite_range() + __filemap_fdatawait_range():
 * writes the dirty folios of the range and waits for their writeback — except after -EIO from
 * writepages: "Even if the above returned error, the pages may be written partially (e.g.
 * -ENOSPC), so we wait for it. But the -EIO is special case, it may indicate the worst thing (e.g.
 * bug) happened, so we avoid waiting for it." (`if (err != -EIO) __filemap_fdatawait_range(...)`).
 * Returns 0 or -errno (legacy AS_EIO flags are not modelled; errors travel through the mapping's
 * errseq).
 */
export async function filemapWriteAndWaitRange(
  t: Task,
  mapping: AddressSpace,
  start: number,
  end: number,
): Promise<number> {
  if (end <= start) return 0;
  const err = await filemapFdatawriteRange(t, mapping, start, end);
  if (err === -EIO) return err;
  const err2 = await filemapFdatawaitRange(t, mapping, start, end);
  return err || err2;
}

export async function filemapFdatawriteRange(
  t: Task,
  mapping: AddressSpace,
  start: number,
  end: number,
  tailRecorded = false,
): Promise<number> {
  const aops = mapping.aops as AddressSpaceOps;
  return aops.writepages(t, mapping, { start, end, syncAll: true, tailRecorded });
}

export async function filemapFdatawaitRange(
  t: Task,
  mapping: AddressSpace,
  start: number,
  end: number,
): Promise<number> {
  const ps = mapping.pageSize;
  const last = Math.ceil(Math.min(end, Number.MAX_SAFE_INTEGER) / ps) - 1;
  // __filemap_fdatawait_range: filemap_get_folios_tag(PAGECACHE_TAG_WRITEBACK).
  for (const i of mapping.writebackTag.in(Math.floor(start / ps), last)) {
    const folio = mapping.peek(i);
    if (folio?.writeback) await folio.waitWriteback(t, 'filemap_fdatawait_range:folio_wait_writeback');
  }
  return 0;
}

/** FOLIO_BATCH_SIZE (include/linux/pagevec.h): how many entries one find_get_entries() returns. */
export const FOLIO_BATCH_SIZE = 31;

/**
 * invalidate_inode_pages2_range(): unmaps and removes the folios of [first, last]. A folio that is
 * dirty after being locked and unmapped cannot be removed (invalidate_complete_folio2 fails): the
 * function returns -EBUSY and the folio stays, possibly holding data older than the disk.
 * Filesystems with ->launder_folio (NFS, FUSE) would write it out first; the modelled ones have none.
 * Like Linux, it walks in batches: `while (find_get_entries(mapping, &index, end, &fbatch, indices))`
 * takes up to FOLIO_BATCH_SIZE entries from `index`, handles them, and looks again from the last
 * one + 1 until none is left, so a folio added behind the walk (at a higher index than the batch
 * reached) is invalidated too; one added below it is not.
 */
export async function invalidateInodePages2Range(
  t: Task,
  mapping: AddressSpace,
  first: number,
  last: number,
  /**
   * Not Linux (pagelab): a folio pinned for DMA (FOLL_PIN) is busy like a dirty one. Linux removes
   * it (invalidate_complete_folio2 looks at neither the refcount nor the pins), and the DMA of an
   * O_DIRECT read into it then lands in a folio no one will read or write back.
   */
  opts: { pinnedBusy?: boolean } = {},
): Promise<number> {
  if (mapping.dax) return mapping.dax.invalidateEntries(t, first, last);
  let ret = 0;
  let didRangeUnmap = false;
  let index = first;
  for (;;) {
    const batch = mapping.indicesIn(index, last, FOLIO_BATCH_SIZE);
    if (batch.length === 0) break;
    for (const i of batch) {
      await t.point('invalidate_inode_pages2_range:lookup', mapping.host.ino, true);
      const folio = mapping.get(i);
      if (!folio) continue;
      if (!didRangeUnmap && folio.mapcount > 0) {
        unmapMappingPages(t, mapping, i, last, false);
        didRangeUnmap = true;
      }
      if (await invalidateFolio2(t, mapping, folio, opts.pinnedBusy ?? false)) ret = -EBUSY;
    }
    index = batch[batch.length - 1] + 1;
  }
  return ret;
}

/** One folio of invalidate_inode_pages2_range: lock, wait, unmap, remove. True when it stays (busy). */
async function invalidateFolio2(
  t: Task,
  mapping: AddressSpace,
  folio: Folio,
  pinnedBusy: boolean,
): Promise<boolean> {
  await folio.lock.lock(t, 'invalidate_inode_pages2_range:folio_lock');
  if (folio.mapping !== mapping) {
    folio.lock.unlock(t);
    return false;
  }
  await folio.waitWriteback(t, 'invalidate_inode_pages2_range:folio_wait_writeback');
  if (folio.mapcount > 0) unmapMappingPages(t, mapping, folio.index, folio.index, false);
  const pinned = pinnedBusy && folio.pincount > 0;
  const busy = folio.dirty || pinned;
  if (!busy) mapping.removeFolio(t, folio, 'invalidate_inode_pages2_range');
  else if (t.tracing)
    t.event(
      'invalidate_complete_folio2',
      `${folio.name} is ${pinned ? 'pinned' : 'dirty'}: -EBUSY`,
      folio.id,
    );
  folio.lock.unlock(t);
  return busy;
}

/**
 * invalidate_mapping_pages() for one index (mapping_evict_folio): drops the folio only if it is
 * clean, not under writeback, not mapped, not pinned and nobody else holds it. Returns whether it
 * was dropped. This is the "evict" op of scenarios (what POSIX_FADV_DONTNEED does).
 */
export function invalidateMappingPage(t: Task, mapping: AddressSpace, index: number): boolean {
  const folio = mapping.get(index);
  if (
    !folio ||
    folio.dirty ||
    folio.writeback ||
    folio.mapcount > 0 ||
    folio.pincount > 0 ||
    folio.refcount > 1
  )
    return false;
  if (!folio.lock.trylock(t, 'mapping_evict_folio:folio_trylock')) return false;
  mapping.removeFolio(t, folio, 'invalidate_mapping_pages');
  folio.lock.unlock(t);
  return true;
}

/**
 * invalidate_mapping_pages() over [first, last] (mapping_try_invalidate): drops each folio that
 * invalidateMappingPage may drop and skips the others — mapped, dirty, under writeback, locked or
 * held — without waiting and without unmapping anything. Returns how many it dropped. One step:
 * it never sleeps (folio_trylock), and what it looks at records itself.
 */
export function invalidateMappingPages(t: Task, mapping: AddressSpace, first: number, last: number): number {
  let n = 0;
  for (const i of mapping.indicesIn(first, last)) if (invalidateMappingPage(t, mapping, i)) n++;
  return n;
}

/**
 * truncate_inode_pages_range(): removes every folio of [start, end) whatever its state (dirty data
 * is discarded), zeroing the part of a partial folio that lies inside the range
 * (truncate_inode_partial_folio). Context: the caller holds the locks that stop new folios from
 * being added (i_rwsem and, where the kernel has it, invalidate_lock exclusive).
 */
export async function truncateInodePagesRange(
  t: Task,
  mapping: AddressSpace,
  start: number,
  end: number,
): Promise<void> {
  const ps = mapping.pageSize;
  if (end <= start) return;
  const first = Math.floor(start / ps);
  const last = Math.ceil(end / ps) - 1;
  // Value entries go for whole pages only (truncate_exceptional_pvec_entries); a partial page of
  // a DAX file was zeroed on the media by the filesystem (dax_truncate_page / dax_zero_range).
  if (mapping.dax) await mapping.dax.truncateEntries(t, Math.ceil(start / ps), Math.floor(end / ps) - 1);
  for (const index of mapping.indicesIn(first, last)) {
    await t.point('truncate_inode_pages_range:lookup', mapping.host.ino, true);
    const folio = mapping.get(index);
    if (!folio) continue;
    await folio.lock.lock(t, 'truncate_inode_pages_range:folio_lock');
    if (folio.mapping !== mapping) {
      folio.lock.unlock(t);
      continue;
    }
    await folio.waitWriteback(t, 'truncate_inode_pages_range:folio_wait_writeback');
    const fStart = index * ps;
    const zs = Math.max(start, fStart) - fStart;
    const ze = Math.min(end, fStart + ps) - fStart;
    if (zs === 0 && ze === ps) {
      if (folio.mapcount > 0) unmapMappingPages(t, mapping, index, index, false);
      mapping.removeFolio(t, folio, 'truncate');
    } else {
      folio.data.fill(TAG_ZERO, zs, ze);
      if (t.tracing) t.event('truncate_inode_partial_folio', `${folio.name} zero [${zs},${ze})`, folio.id);
    }
    folio.lock.unlock(t);
  }
}

/**
 * truncate_pagecache(): unmap beyond the new EOF, drop the page cache there, unmap again (to catch
 * private COW copies made in between). Context: "must be called with a lock serializing truncates
 * and writes (generally i_rwsem)".
 */
export async function truncatePagecache(t: Task, mapping: AddressSpace, newSize: number): Promise<void> {
  const ps = mapping.pageSize;
  const holeBegin = Math.ceil(newSize / ps);
  unmapMappingPages(t, mapping, holeBegin, Number.MAX_SAFE_INTEGER, true);
  await truncateInodePagesRange(t, mapping, newSize, Number.MAX_SAFE_INTEGER);
  unmapMappingPages(t, mapping, holeBegin, Number.MAX_SAFE_INTEGER, true);
}

/**
 * truncate_pagecache_range(): the same for a hole inside the file (punch, zero, collapse, insert),
 * but private COW copies stay: "without \"even_cows\" flag: hole-punching should not remove private
 * COWed pages from the hole" (mm/truncate.c).
 */
export async function truncatePagecacheRange(
  t: Task,
  mapping: AddressSpace,
  start: number,
  end: number,
): Promise<void> {
  const ps = mapping.pageSize;
  const first = Math.ceil(start / ps);
  const last = Math.floor(end / ps) - 1;
  if (last >= first) unmapMappingPages(t, mapping, first, last, false);
  await truncateInodePagesRange(t, mapping, start, end);
}

export { EFAULT };
