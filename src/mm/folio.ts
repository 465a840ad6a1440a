/**
 * struct folio, reduced to what coherence depends on: one page per folio (large folios are not
 * modelled: scenarios use small pages instead), its data as provenance-tagged cells, the flags
 * (uptodate, dirty, writeback), the lock bit with waiters, and the three counts that decide who may
 * drop it: mapcount (PTEs), pincount (FOLL_PIN: exact here, Linux's small-folio refcount bias of
 * 1024 is fuzzy), and refcount (transient references taken by lookups).
 */

import { allocCells, type Cells } from '../block/data.js';
import { granule, objectId } from '../sim/footprint.js';
import type { Task, Waitable } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';
import { PageLock } from '../sync/bitlock.js';
import type { AddressSpace } from './filemap.js';

/** Hands out folio ids (trace object ids). One per world, so every run numbers folios alike. */
export class FolioIds {
  private next = 0;
  take(): number {
    return ++this.next;
  }
}

/** Waiting for a folio state to change (writeback end, unpin): holders are who will change it. */
export class FolioWait implements Waitable {
  readonly lockClass: string;
  readonly q = new WaitQueue();
  by: Task[] = [];
  constructor(
    readonly name: string,
    lockClass: string,
  ) {
    this.lockClass = lockClass;
  }
  holders(): readonly Task[] {
    return this.by;
  }
  wakeAll(): void {
    this.q.wakeAll();
  }
}

export class Folio {
  readonly id: number;
  /** The page cache it belongs to; null once removed (truncated, invalidated) or for anon memory. */
  mapping: AddressSpace | null;
  index: number;
  readonly data: Cells;
  uptodate = false;
  private dirtyBit = false;
  private writebackBit = false;
  mapcount = 0;
  pincount = 0;
  refcount = 1;
  readonly anon: boolean;
  readonly lock: PageLock;
  readonly writebackWait: FolioWait;
  readonly unpinWait: FolioWait;
  /**
   * Its footprint object (src/sim/footprint.ts): the page granule of the file it was created for,
   * which it stays after removal from the cache (a pin or a PTE can outlive that); an anonymous
   * folio is an object of its own.
   */
  get fpObj(): number {
    if (this.fpObjCache < 0) {
      this.fpObjCache = this.fpGranule >= 0 ? this.fpGranule : objectId(`folio ${this.lock.name}`);
    }
    return this.fpObjCache;
  }
  private fpObjCache = -1;
  /** The page granule it was created for, or -1 for anonymous memory (computed lazily: a name). */
  private readonly fpGranule: number;
  /** Tasks holding FOLL_PIN pins (for wait-for reports); the count is pincount. */
  readonly pinners: Task[] = [];

  constructor(
    ids: FolioIds,
    mapping: AddressSpace | null,
    index: number,
    pageSize: number,
    anon: boolean,
    label: string,
    /**
     * The memory the page is (default: fresh zeroed cells). A DAX "pmem page" passes a view of the
     * device's media (BlockDevice.mediaView): a store through its mapping lands on the media.
     */
    data?: Cells,
  ) {
    this.id = ids.take();
    this.fpGranule = mapping ? granule(mapping.host.ino, index) : -1;
    this.mapping = mapping;
    this.index = index;
    this.anon = anon;
    this.data = data ?? allocCells(pageSize);
    this.lock = new PageLock(`folio ${label}`, 'folio_lock');
    this.writebackWait = new FolioWait(`writeback of folio ${label}`, 'folio_writeback');
    this.unpinWait = new FolioWait(`pins of folio ${label}`, 'folio_pin');
    this.unpinWait.by = this.pinners;
  }

  get name(): string {
    return this.lock.name;
  }

  /** PG_dirty; setting or clearing it marks the page cache slot (PageTag) while cached. */
  get dirty(): boolean {
    return this.dirtyBit;
  }
  set dirty(on: boolean) {
    if (on === this.dirtyBit) return;
    this.dirtyBit = on;
    this.mapping?.dirtyTag.set(this.index, on);
  }

  /** PG_writeback, likewise marked in the page cache. */
  get writeback(): boolean {
    return this.writebackBit;
  }
  set writeback(on: boolean) {
    if (on === this.writebackBit) return;
    this.writebackBit = on;
    this.mapping?.writebackTag.set(this.index, on);
  }

  /** folio_maybe_dma_pinned(): exact in the model. */
  get maybeDmaPinned(): boolean {
    return this.pincount > 0;
  }

  /** folio_wait_writeback(). */
  async waitWriteback(t: Task, site: string): Promise<void> {
    while (this.writeback) await this.writebackWait.q.wait(t, this.writebackWait, site);
  }

  /**
   * Sleeps until the last FOLL_PIN pin drops (unpin_user_pages wakes). Linux has no such wait for
   * the page cache; the seed-002 policy of ext4-pin-block and pagelab's layout break (after DAX's
   * dax_layout_busy_page, which waits for the page's refcount) use it.
   */
  async waitUnpinned(t: Task, site: string): Promise<void> {
    while (this.maybeDmaPinned) await this.unpinWait.q.wait(t, this.unpinWait, site);
  }

  /** folio_end_writeback(): clears the bit and wakes waiters. */
  endWriteback(): void {
    this.writeback = false;
    this.writebackWait.by = [];
    this.writebackWait.wakeAll();
  }

  describe(): string {
    const f = [
      this.uptodate ? 'U' : '-',
      this.dirty ? 'D' : '-',
      this.writeback ? 'W' : '-',
      this.lock.locked ? 'L' : '-',
    ].join('');
    return `${this.name} [${f}] map=${this.mapcount} pin=${this.pincount}`;
  }
}
