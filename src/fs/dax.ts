/**
 * DAX (fs/dax.c): files on byte-addressable persistent memory, with no page cache. A mapping of a
 * DAX file maps the device's pages themselves; read(2) and write(2) copy straight between the user
 * buffer and the media. What the page cache's folios did for coherence is done by *value entries*
 * in i_pages, one per page index, each naming what the page tables may map there:
 *
 *   empty   a locked placeholder (DAX_EMPTY) while a fault works out what to map
 *   zero    the shared zero page, mapped read-only over a hole (DAX_ZERO_PAGE, dax_load_hole)
 *   pfn     a device page (the block's "pmem page"), dirty after a write fault until fsync
 *
 * and a lock bit in the entry (DAX_LOCKED) that serialises faults, writeback and invalidation of
 * one index; waiters sleep exclusively and are woken one at a time (WAKE_NEXT), all at deletion
 * (WAKE_ALL). Kernel functions mirrored: grab_mapping_entry, get_next_unlocked_entry,
 * dax_lock_entry/dax_unlock_entry, dax_insert_entry, dax_load_hole, dax_iomap_pte_fault,
 * dax_fault_iter, dax_iomap_rw/dax_iomap_iter (dax_iomap_actor in 2017), the DAX cases of
 * invalidate_inode_pages2_range and truncate_inode_pages_range (__dax_invalidate_entry,
 * dax_delete_mapping_entry), dax_writeback_mapping_range/dax_writeback_one, dax_zero_range.
 *
 * Lock ordering (fs/dax.c, xfs_inode.c):
 *   i_rwsem (IOLOCK)                        write(2) excl, read(2) shared; never taken by faults
 *   mmap_lock → invalidate_lock (MMAPLOCK) shared → DAX entry lock → ->iomap_begin (ILOCK)
 *                                           the fault, since Kara's 2017 fix ("dax: Fix data
 *                                           corruption when fault races with write")
 *   i_rwsem → invalidate_lock excl → DAX entry lock   truncate, fallocate
 *   i_rwsem → ->iomap_begin (allocate) → DAX entry lock (invalidation)   write(2)
 *
 * Seed 003 (Jan Kara, 2017) is the fault order before that fix (9f141d6ef625 "dax: Call
 * ->iomap_begin without entry lock during dax fault"):
 *   CPU1 - write(2)                        CPU2 - read fault
 *                                          dax_iomap_pte_fault()
 *                                            ->iomap_begin() - sees hole
 *   dax_iomap_rw()
 *     iomap_apply()
 *       ->iomap_begin - allocates blocks
 *       dax_iomap_actor()
 *         invalidate_inode_pages2_range()
 *         - there's nothing to invalidate
 *                                            grab_mapping_entry()
 *                                            - we add zero page in the radix
 *                                              tree & map it to page tables
 * so DaxFaultOrder 'iomap-first' reproduces it and 'entry-first' is the fix ("move ->iomap_begin
 * call in the fault paths under entry lock").
 *
 * Departures from Linux and why:
 * - PTE entries only (no PMD faults, no huge zero page): scenarios use one block per page.
 * - A pmem page is a Folio whose data is a view of the device media (BlockDevice.mediaView), one per
 *   device block; CPU caches are not modelled, so stores and copies are durable at once (fsync's
 *   dax_flush has nothing to flush; it still write-protects and cleans dirty entries).
 * - Allocation for a DAX write or write fault returns zeroed, written blocks in one step (xfs:
 *   XFS_BMAPI_ZERO | XFS_BMAPI_CONVERT; ext4: EXT4_GET_BLOCKS_ZERO) with IOMAP_F_NEW.
 * - A private write fault copies the source page into an anonymous page and maps it
 *   (dax_fault_cow_page + finish_fault) inside the handler.
 * - No GUP on DAX pages: every scenario's O_DIRECT on a DAX file is a CPU copy (dax_iomap_rw), so
 *   dax_layout_busy_page has nothing to wait for and is not modelled.
 */
import { allocCells, TAG_ZERO } from '../block/data.js';
import {
  type AddressSpace,
  type DaxMapping,
  unmapMappingPages,
  VM_FAULT_NOPAGE,
  VM_FAULT_SIGBUS,
  type VmFault,
} from '../mm/filemap.js';
import { Folio } from '../mm/folio.js';
import { copyFromUser, copyToUser, type Vma, vmfInsertPage } from '../mm/memory.js';
import { EBUSY, EFAULT, ENOSPC } from '../sim/errno.js';
import { granule, RecordingMap } from '../sim/footprint.js';
import { attachState } from '../sim/statehash.js';
import type { Task, Waitable } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';
import { noteAcquired, noteReleased } from '../sync/held.js';
import { BlockState } from './extent.js';
import type { FileSystem, Inode } from './fs.js';

export type DaxEntryKind = 'empty' | 'zero' | 'pfn';

/** A value entry of i_pages. `locked` is the DAX_LOCKED bit (with its holder, for reports). */
export interface DaxEntry {
  kind: DaxEntryKind;
  /** The device block of a pfn entry; -1 otherwise. */
  pblk: number;
  /** PAGECACHE_TAG_DIRTY: a write fault mapped it writable; fsync must flush and clean it. */
  dirty: boolean;
  locked: Task | null;
}

/** The hashed wait queue of one index (dax_entry_waitqueue), as a Waitable for reports. */
class DaxEntryWait implements Waitable {
  readonly lockClass = 'dax_entry';
  readonly q = new WaitQueue();
  constructor(
    readonly name: string,
    private readonly entry: () => DaxEntry | undefined,
  ) {}
  holders(): readonly Task[] {
    const e = this.entry();
    return e?.locked ? [e.locked] : [];
  }
}

/** The device side: one "struct page" per device block, and the zero page. */
export class DaxDevice {
  private readonly pages = new Map<number, Folio>();
  readonly zeroPage: Folio;

  constructor(readonly fs: FileSystem) {
    this.zeroPage = new Folio(fs.mm.folioIds, null, 0, fs.pageSize, false, 'ZERO_PAGE');
    this.zeroPage.uptodate = true;
  }

  /** pfn_to_page(): the page that aliases block `pblk` of the media. */
  page(pblk: number): Folio {
    let f = this.pages.get(pblk);
    if (!f) {
      const bs = this.fs.blockSize;
      const media = this.fs.bdev.mediaView(pblk * bs, bs);
      f = new Folio(this.fs.mm.folioIds, null, pblk, this.fs.pageSize, false, `pmem:${pblk}`, media);
      f.uptodate = true;
      this.pages.set(pblk, f);
    }
    return f;
  }
}

const devices = new WeakMap<FileSystem, DaxDevice>();

export function daxDeviceOf(fs: FileSystem): DaxDevice {
  let d = devices.get(fs);
  if (!d) {
    d = new DaxDevice(fs);
    devices.set(fs, d);
    attachState(fs, d); // the state hash sees it (src/sim/statehash.ts)
  }
  return d;
}

/** What ->iomap_begin told a DAX path about one run of blocks. */
export interface DaxIomap {
  state: BlockState;
  /** Device block of the run's first block (-1 for a hole). */
  pblk: number;
  lblk: number;
  len: number;
  /** IOMAP_F_NEW: blocks allocated (or converted) by this call. */
  isNew: boolean;
}

/**
 * ->iomap_begin for DAX: a lookup, or for a write an allocation of zeroed written blocks over holes
 * and unwritten extents (IOMAP_F_NEW). Context: one step (the ILOCK critical section).
 */
export function daxIomapBegin(
  t: Task,
  inode: Inode,
  lblk: number,
  n: number,
  write: boolean,
): DaxIomap | number {
  const fresh = new Set<number>();
  if (write) {
    for (let b = lblk; b < lblk + n; b++) {
      const err = allocateZeroed(t, inode, b);
      if (err < 0) return err;
      if (err > 0) fresh.add(b);
    }
  }
  const m = inode.extents.lookup(lblk, n);
  let isNew = false;
  for (let b = m.lblk; b < m.lblk + m.len; b++) if (fresh.has(b)) isNew = true;
  return { state: m.state, pblk: m.pblk, lblk: m.lblk, len: m.len, isNew };
}

/** Makes block `lblk` written and zeroed if it is not; returns 1 if it did, 0, or -ENOSPC. */
function allocateZeroed(t: Task, inode: Inode, lblk: number): number {
  const state = inode.extents.state(lblk);
  if (state === BlockState.Written) return 0;
  const bs = inode.blockSize;
  let pblk = inode.extents.pblk(lblk);
  if (state === BlockState.Hole) {
    pblk = inode.fs.alloc.alloc();
    if (pblk < 0) return -ENOSPC;
  }
  inode.fs.bdev.mediaView(pblk * bs, bs).fill(TAG_ZERO);
  inode.extents.set(lblk, BlockState.Written, pblk);
  if (t.tracing)
    t.event('iomap_begin:allocate', `${inode.name} lblk ${lblk} → pblk ${pblk} (zeroed, IOMAP_F_NEW)`);
  return 1;
}

/** Which comes first in a DAX fault: the entry lock (Kara's 2017 fix) or ->iomap_begin (9f141d6ef625). */
export type DaxFaultOrder = 'entry-first' | 'iomap-first';

/** The DAX value entries of one inode's i_pages, and the paths that use them. */
export class DaxInode implements DaxMapping {
  /**
   * i_pages' value entries: each slot is the page granule of its index (src/sim/footprint.ts), as a
   * page cache slot is, and a lookup writes it (whoever finds an entry may lock or change it in
   * the same step); walks write the whole inode. In-place changes record the slot (lock, unlock).
   */
  readonly entries: RecordingMap<number, DaxEntry>;
  private readonly waits = new Map<number, DaxEntryWait>();

  constructor(
    readonly inode: Inode,
    readonly dev: DaxDevice,
  ) {
    this.entries = new RecordingMap<number, DaxEntry>(
      (i) => granule(inode.ino, i),
      () => inode.ino,
      true,
    );
  }

  get mapping(): AddressSpace {
    return this.inode.mapping;
  }

  private wait(index: number): DaxEntryWait {
    let w = this.waits.get(index);
    if (!w) {
      w = new DaxEntryWait(`dax entry ${this.inode.name}:${index}`, () => this.entries.get(index));
      this.waits.set(index, w);
    }
    return w;
  }

  /** get_next_unlocked_entry(): the entry at `index` once it is unlocked, or undefined. */
  async getUnlockedEntry(t: Task, index: number, site: string): Promise<DaxEntry | undefined> {
    for (;;) {
      const e = this.entries.get(index);
      if (!e?.locked) return e;
      const w = this.wait(index);
      await w.q.wait(t, w, site);
    }
  }

  /** dax_lock_entry(). */
  lockEntry(t: Task, index: number, e: DaxEntry, site: string): void {
    this.entries.touch(index);
    e.locked = t;
    noteAcquired(t, this.wait(index), 'DAX_LOCKED', site);
  }

  /** dax_unlock_entry(): clears DAX_LOCKED and wakes the next waiter (WAKE_NEXT). */
  unlockEntry(t: Task, index: number, e: DaxEntry): void {
    this.entries.touch(index);
    e.locked = null;
    noteReleased(t, this.wait(index), 'dax_unlock_entry');
    this.wait(index).q.wakeOne();
  }

  /** put_unlocked_entry(): passes on the wake-up a waiter that did not lock the entry consumed. */
  putUnlockedEntry(index: number, all: boolean): void {
    const w = this.waits.get(index);
    if (!w) return;
    if (all) w.q.wakeAll();
    else w.q.wakeOne();
  }

  /** grab_mapping_entry(): the entry at `index`, locked; a locked empty entry if there was none. */
  async grabMappingEntry(t: Task, index: number): Promise<DaxEntry> {
    let e = await this.getUnlockedEntry(t, index, 'grab_mapping_entry:get_next_unlocked_entry');
    if (!e) {
      e = { kind: 'empty', pblk: -1, dirty: false, locked: null };
      this.entries.set(index, e);
    }
    this.lockEntry(t, index, e, 'grab_mapping_entry');
    return e;
  }

  /**
   * dax_insert_entry(): a zero or empty entry becomes `kind`; replacing the zero page by a block
   * first zaps the PTEs that map the zero page ("we are replacing a zero page with block mapping").
   * A pfn entry already there is left alone. Context: entry locked by the caller.
   */
  insertEntry(t: Task, index: number, e: DaxEntry, kind: 'zero' | 'pfn', pblk: number, dirty: boolean): void {
    if (e.kind === 'zero' && kind === 'pfn') unmapMappingPages(t, this.mapping, index, index, false);
    if (e.kind !== 'pfn') {
      e.kind = kind;
      e.pblk = kind === 'pfn' ? pblk : -1;
      if (t.tracing)
        t.event(
          'dax_insert_entry',
          `${this.inode.name}:${index} ${kind}${kind === 'pfn' ? ` pblk ${pblk}` : ''}`,
        );
    }
    if (dirty) e.dirty = true;
  }

  /** Removes the entry at `index` (the caller waited for it to be unlocked) and wakes all waiters. */
  private deleteEntry(t: Task, index: number, e: DaxEntry, why: string): void {
    this.entries.delete(index);
    if (e.kind === 'pfn') this.dev.page(e.pblk).dirty = false;
    if (t.tracing) t.event('dax_delete_entry', `${this.inode.name}:${index} ${e.kind} (${why})`);
    this.putUnlockedEntry(index, true);
  }

  private indicesIn(first: number, last: number): number[] {
    const out: number[] = [];
    for (const i of this.entries.keys()) if (i >= first && i <= last) out.push(i);
    return out.sort((a, b) => a - b);
  }

  /**
   * invalidate_inode_pages2_range() on a DAX mapping: each entry, once unlocked, is deleted if
   * clean (__dax_invalidate_entry, trunc = false; a dirty one stays: -EBUSY); then the page tables
   * of the range are zapped ("For DAX we invalidate page tables after invalidating page cache").
   * An index whose fault has not inserted its entry yet has nothing to invalidate.
   */
  async invalidateEntries(t: Task, first: number, last: number): Promise<number> {
    let ret = 0;
    for (const index of this.indicesIn(first, last)) {
      await t.point('invalidate_inode_pages2_range:dax', this.inode.ino, true);
      const e = await this.getUnlockedEntry(
        t,
        index,
        'invalidate_inode_pages2_range:get_next_unlocked_entry',
      );
      if (!e) continue;
      if (e.dirty) {
        ret = -EBUSY;
        this.putUnlockedEntry(index, false);
        continue;
      }
      this.deleteEntry(t, index, e, 'invalidate_inode_pages2_range');
    }
    unmapMappingPages(t, this.mapping, first, last, false);
    return ret;
  }

  /** truncate_inode_pages_range() on a DAX mapping: dax_delete_mapping_entry for each entry. */
  async truncateEntries(t: Task, first: number, last: number): Promise<void> {
    for (const index of this.indicesIn(first, last)) {
      await t.point('truncate_inode_pages_range:dax', this.inode.ino, true);
      const e = await this.getUnlockedEntry(t, index, 'dax_delete_mapping_entry:get_next_unlocked_entry');
      if (e) this.deleteEntry(t, index, e, 'truncate');
    }
  }

  /** dax_zero_range(): zeroes [pos, pos+len) of written blocks on the media; holes read as zero. */
  async zeroRange(t: Task, pos: number, len: number): Promise<number> {
    const bs = this.inode.blockSize;
    let off = pos;
    while (off < pos + len) {
      const lblk = Math.floor(off / bs);
      const n = Math.min(pos + len, (lblk + 1) * bs) - off;
      await t.point('dax_zero_range', this.inode.ino, true);
      if (this.inode.extents.state(lblk) === BlockState.Written) {
        const base = this.inode.extents.pblk(lblk) * bs;
        this.inode.fs.bdev.mediaView(base + (off % bs), n).fill(TAG_ZERO);
        if (t.tracing) t.event('dax_zero_range', `${this.inode.name} [${off},${off + n})`);
      }
      off += n;
    }
    return 0;
  }

  /**
   * dax_writeback_mapping_range() (WB_SYNC_ALL only): for each dirty pfn entry of the range, lock
   * it, write-protect every PTE that maps its page (pfn_mkclean_range), flush, clean it. A later
   * store faults (->pfn_mkwrite) and dirties it again.
   */
  async writebackMappingRange(t: Task, start: number, end: number, syncAll: boolean): Promise<number> {
    if (!syncAll) return 0;
    const ps = this.inode.fs.pageSize;
    const last = Math.ceil(Math.min(end, Number.MAX_SAFE_INTEGER) / ps) - 1;
    for (const index of this.indicesIn(Math.floor(start / ps), last)) {
      if (!this.entries.get(index)?.dirty) continue;
      await t.point('dax_writeback_one', this.inode.ino, true);
      const e = await this.getUnlockedEntry(t, index, 'dax_writeback_one:get_next_unlocked_entry');
      if (!e?.dirty || e.kind !== 'pfn') {
        this.putUnlockedEntry(index, false);
        continue;
      }
      this.lockEntry(t, index, e, 'dax_writeback_one');
      const page = this.dev.page(e.pblk);
      for (const v of this.mapping.iMmap) {
        for (const pte of (v as Vma).ptes.values()) if (pte.folio === page) pte.writable = false;
      }
      page.dirty = false;
      e.dirty = false;
      if (t.tracing)
        t.event('dax_writeback_one', `${this.inode.name}:${index} pmem:${e.pblk} write-protected, flushed`);
      this.unlockEntry(t, index, e);
    }
    return 0;
  }

  /**
   * dax_iomap_pte_fault(): resolves a fault on a DAX mapping and installs the PTE itself
   * (VM_FAULT_NOPAGE). `order` says whether ->iomap_begin runs under the entry lock (the fix) or
   * before it is taken (9f141d6ef625, the race of seed 003). Context: the filesystem holds its
   * fault lock (MMAPLOCK / invalidate_lock shared).
   */
  async pteFault(t: Task, vmf: VmFault, order: DaxFaultOrder): Promise<number> {
    const inode = this.inode;
    const index = vmf.pgoff;
    const shared = (vmf.vma as Vma).shared;
    // A write fault on a private mapping is a COW (vmf->cow_page): no IOMAP_WRITE, no allocation.
    const write = vmf.write && shared;
    // Each step of the fault changes the entry of its index (declared: it locks it, inserts into it
    // in place), and otherwise touches what records itself: i_size, the entry lock, the extent map
    // and allocator, the PTE, the locks the caller drops on the way out.
    await t.pointPages('dax_iomap_pte_fault', inode.ino, index, index + 1, true);
    if (index * inode.fs.pageSize >= inode.size) return VM_FAULT_SIGBUS;
    let map: DaxIomap | number;
    let e: DaxEntry;
    if (order === 'iomap-first') {
      map = daxIomapBegin(t, inode, index, 1, write);
      if (typeof map !== 'number' && t.tracing)
        t.event('dax_iomap_pte_fault', `->iomap_begin: ${describeMap(map)} (no entry lock)`);
      await t.pointPages('dax_iomap_pte_fault:grab_mapping_entry', inode.ino, index, index + 1, true);
      e = await this.grabMappingEntry(t, index);
    } else {
      e = await this.grabMappingEntry(t, index);
      await t.pointPages('dax_iomap_pte_fault:iomap_begin', inode.ino, index, index + 1, true);
      map = daxIomapBegin(t, inode, index, 1, write);
      if (typeof map !== 'number' && t.tracing)
        t.event('dax_iomap_pte_fault', `->iomap_begin: ${describeMap(map)} (entry locked)`);
    }
    try {
      if (typeof map === 'number') return VM_FAULT_SIGBUS;
      return this.faultIter(t, vmf, index, e, map, write);
    } finally {
      this.unlockEntry(t, index, e);
    }
  }

  /** dax_fault_iter(): COW, hole (zero page), or the device page. Context: entry locked. */
  private faultIter(
    t: Task,
    vmf: VmFault,
    index: number,
    e: DaxEntry,
    map: DaxIomap,
    write: boolean,
  ): number {
    const mapped = map.state === BlockState.Written;
    if (vmf.write && !write)
      return this.faultCowPage(t, vmf, mapped ? this.dev.page(map.pblk) : this.dev.zeroPage);
    if (!write && !mapped) return this.loadHole(t, vmf, index, e);
    const page = this.dev.page(map.pblk);
    this.insertEntry(t, index, e, 'pfn', map.pblk, write);
    if (write) page.dirty = true;
    return vmfInsertPage(t, vmf, page, write);
  }

  /**
   * dax_load_hole(): the zero page, read-only. vm_insert_mixed() leaves a PTE that is already
   * there (-EBUSY), so only an empty slot gets the zero page.
   */
  private loadHole(t: Task, vmf: VmFault, index: number, e: DaxEntry): number {
    this.insertEntry(t, index, e, 'zero', -1, false);
    const vma = vmf.vma as Vma;
    if (vma.ptes.has(vmf.pgoff - vma.pgoff)) return VM_FAULT_NOPAGE;
    if (t.tracing) t.event('dax_load_hole', `${this.inode.name}:${index} → zero page`);
    return vmfInsertPage(t, vmf, this.dev.zeroPage, false);
  }

  /** dax_fault_cow_page() + finish_fault(): a private copy of the page (or of zeroes). */
  private faultCowPage(t: Task, vmf: VmFault, src: Folio): number {
    const vma = vmf.vma as Vma;
    const i = vmf.pgoff - vma.pgoff;
    const copy = new Folio(vma.mm.folioIds, null, i, vma.mm.pageSize, true, `${vma.name}:${i}(cow)`);
    copy.data.set(src.data);
    copy.uptodate = true;
    return vmfInsertPage(t, vmf, copy, true);
  }

  /**
   * dax_iomap_rw(): read(2)/write(2) (O_DIRECT or not) straight between the user buffer and the
   * media, one ->iomap_begin run at a time. A write over newly allocated blocks first invalidates
   * the entries (and zero-page PTEs) of the range (dax_iomap_actor: "Write can allocate block for
   * an area which has a hole page mapped into page tables"). The copies may fault on the user
   * buffer. Returns bytes, or -errno if nothing was transferred. Context: i_rwsem held (shared for
   * a read, exclusive for a write); the caller moves i_size after a write.
   */
  async iomapRw(t: Task, pos: number, len: number, ubuf: number, write: boolean): Promise<number> {
    const inode = this.inode;
    const bs = inode.blockSize;
    const count = write ? len : Math.max(0, Math.min(len, inode.size - pos));
    let done = 0;
    while (done < count) {
      await t.point('dax_iomap_rw:iomap_begin', inode.ino, write);
      const p = pos + done;
      const lblk = Math.floor(p / bs);
      const map = daxIomapBegin(t, inode, lblk, Math.ceil((pos + count) / bs) - lblk, write);
      if (typeof map === 'number') return done || map;
      const bytes = Math.min(pos + count, (map.lblk + map.len) * bs) - p;
      if (map.isNew) await this.invalidateNew(t, p, bytes);
      const n = await this.copyRun(t, map, p, ubuf + done, bytes, write);
      done += n;
      if (n < bytes) return done || -EFAULT;
    }
    return done;
  }

  private async invalidateNew(t: Task, p: number, bytes: number): Promise<void> {
    const ps = this.inode.fs.pageSize;
    await t.point('dax_iomap_actor:invalidate_inode_pages2_range', this.inode.ino, true);
    const first = Math.floor(p / ps);
    const last = Math.ceil((p + bytes) / ps) - 1;
    if (this.indicesIn(first, last).length === 0 && t.tracing)
      t.event(
        'invalidate_inode_pages2_range',
        `${this.inode.name} [${first},${last}]: nothing to invalidate`,
      );
    await this.invalidateEntries(t, first, last);
  }

  /** dax_copy_from_iter / dax_copy_to_iter (iov_iter_zero for holes) over one run. */
  private async copyRun(
    t: Task,
    map: DaxIomap,
    p: number,
    uaddr: number,
    bytes: number,
    write: boolean,
  ): Promise<number> {
    if (!write && map.state !== BlockState.Written) return copyToUser(t, uaddr, allocCells(bytes), 0, bytes);
    const bs = this.inode.blockSize;
    const addr = map.pblk * bs + (p - map.lblk * bs);
    const media = this.inode.fs.bdev.mediaView(addr, bytes);
    return write ? copyFromUser(t, media, 0, uaddr, bytes) : copyToUser(t, uaddr, media, 0, bytes);
  }
}

function describeMap(m: DaxIomap): string {
  if (m.state === BlockState.Hole) return 'HOLE';
  if (m.state === BlockState.Unwritten) return 'UNWRITTEN';
  return `MAPPED pblk ${m.pblk}${m.isNew ? ' (NEW)' : ''}`;
}

/** The inode's DAX state (set up by a DAX scheme's setupInode). */
export function daxInode(inode: Inode): DaxInode {
  return inode.mapping.dax as DaxInode;
}

/** Makes `inode` a DAX file: its mapping gets value entries instead of folios. */
export function daxSetupInode(inode: Inode): DaxInode {
  const d = new DaxInode(inode, daxDeviceOf(inode.fs));
  inode.mapping.dax = d;
  return d;
}
