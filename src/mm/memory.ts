/**
 * User memory (mm/memory.c, mm/mmap.c, arch fault handling, lib/iov_iter.c): one address space
 * (all tasks of a scenario are threads of one process), VMAs (anonymous and file mappings, shared
 * or private), page tables, handle_mm_fault with its read, COW, shared and write-protect paths,
 * copy_to_user/copy_from_user that fault or (under pagefault_disable()) return short, the
 * fault_in_iov_iter_* helpers, and user loads and stores.
 *
 * Lock ordering (mm/rmap.c):
 *   mmap_lock (read, for every fault)
 *     ->fs fault locks (invalidate_lock shared, glock, two-state "add", ...)
 *       folio_lock
 *         page table lock (one step here)
 *
 * Departures: no TLB, no pte_same() race (a PTE is installed in the same step the folio lock is
 * held, which is what the real pte lock + folio lock guarantee); no VMA splitting or mremap.
 */

import { allocCells, type Cells, TAG_ZERO } from '../block/data.js';
import { assert } from '../sim/assert.js';
import { EFAULT } from '../sim/errno.js';
import { ANYTHING, indexedObjectIds, objectId, RecordingMap, record } from '../sim/footprint.js';
import type { Task } from '../sim/task.js';
import { RwSemaphore } from '../sync/rwsem.js';
import {
  type AddressSpace,
  folioMarkDirty,
  type MappedRange,
  VM_FAULT_LOCKED,
  VM_FAULT_NOPAGE,
  VM_FAULT_SIGBUS,
  type VmFault,
} from './filemap.js';
import { Folio, FolioIds } from './folio.js';

/** vm_operations_struct: the filesystem's (scheme's) fault handlers for a file mapping. */
export interface VmOperations {
  /** ->fault: returns VM_FAULT_LOCKED with vmf.folio locked, or an error code. */
  fault(t: Task, vmf: VmFault): Promise<number>;
  /** ->page_mkwrite: makes vmf.folio writable; returns VM_FAULT_LOCKED with it locked, or an error. */
  pageMkwrite(t: Task, vmf: VmFault): Promise<number>;
}

export interface Pte {
  folio: Folio;
  writable: boolean;
}

export class Vma implements MappedRange {
  /**
   * The VMA's page table: each PTE a footprint object of its own, read by a walk and written by a
   * change; a zap or any walk over all of them writes the table as a whole (src/sim/footprint.ts).
   * A PTE changed in place (made writable or read-only) is `ptes.touch`ed.
   */
  readonly ptes = new RecordingMap<number, Pte>(
    (i) => this.pteObj(i),
    () => this.ptesObj(),
  );
  private ptesId = -1;
  private readonly pteObj = indexedObjectIds((i) => `pte(${this.name})+${i}`);

  private ptesObj(): number {
    if (this.ptesId < 0) this.ptesId = objectId(`ptes(${this.name})`);
    return this.ptesId;
  }

  constructor(
    readonly mm: Mm,
    readonly name: string,
    /** First user address; page aligned. */
    readonly start: number,
    readonly length: number,
    readonly shared: boolean,
    /** The file's page cache, or null for anonymous memory. */
    readonly mapping: AddressSpace | null,
    /** File page index of `start`. */
    readonly pgoff: number,
    readonly vmOps: VmOperations | null,
  ) {}

  get end(): number {
    return this.start + this.length;
  }

  /** Zaps the PTEs of file pages [first, last] (unmap_mapping_range on this VMA). */
  unmapPages(t: Task, first: number, last: number, evenCows: boolean): void {
    for (const [i, pte] of this.ptes) {
      const filePage = this.pgoff + i;
      if (filePage < first || filePage > last) continue;
      if (pte.folio.anon && !evenCows) continue;
      this.ptes.delete(i);
      pte.folio.mapcount--;
      if (t.tracing)
        t.event('zap_pte', `${this.name}+${i * this.mm.pageSize} (${pte.folio.name})`, pte.folio.id);
    }
  }
}

/** The address space's VMA list, as a footprint object: lookups read it, mmap and munmap write it. */
const VMAS = objectId('vmas');

export class Mm {
  readonly vmas: Vma[] = [];
  readonly mmapLock = new RwSemaphore('mmap_lock', 'mmap_lock');
  readonly folioIds = new FolioIds();
  private nextAddr: number;

  constructor(readonly pageSize: number) {
    this.nextAddr = pageSize * 16;
  }

  /** mmap(): a new VMA at the next free address (a guard page between VMAs). */
  mmap(
    name: string,
    length: number,
    shared: boolean,
    mapping: AddressSpace | null,
    pgoff: number,
    vmOps: VmOperations | null,
  ): Vma {
    const len = Math.ceil(length / this.pageSize) * this.pageSize;
    const vma = new Vma(this, name, this.nextAddr, len, shared, mapping, pgoff, vmOps);
    this.nextAddr += len + this.pageSize;
    this.vmas.push(vma);
    record(VMAS, true);
    if (mapping) {
      mapping.iMmap.add(vma);
      record(mapping.host.ino, true); // i_mmap: mapping-wide state
    }
    return vma;
  }

  /**
   * munmap() of a whole VMA: zaps its PTEs and removes it from the address space and from its
   * file's i_mmap (mmap_lock for write is one step here: nothing else runs meanwhile).
   */
  munmap(vma: Vma): void {
    for (const pte of vma.ptes.values()) pte.folio.mapcount--;
    vma.ptes.clear();
    const i = this.vmas.indexOf(vma);
    if (i >= 0) this.vmas.splice(i, 1);
    record(VMAS, true);
    if (vma.mapping) {
      vma.mapping.iMmap.delete(vma);
      record(vma.mapping.host.ino, true);
    }
  }

  findVma(addr: number): Vma | null {
    record(VMAS, false);
    // Binary search: mmap() places each VMA above every earlier one (nextAddr only grows) and
    // munmap() removes from the middle, so `vmas` stays sorted by start. A linear walk made every
    // user access cost O(VMAs), and a litmus op without buf= has a VMA of its own (issue 17).
    const vmas = this.vmas;
    let lo = 0;
    let hi = vmas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = vmas[mid];
      if (addr < v.start) hi = mid - 1;
      else if (addr >= v.end) lo = mid + 1;
      else return v;
    }
    return null;
  }

  /** Populates an anonymous VMA up front (MAP_POPULATE): user buffers that never fault. */
  populateAnon(vma: Vma): void {
    for (let i = 0; i < vma.length / this.pageSize; i++) {
      const folio = new Folio(this.folioIds, null, i, this.pageSize, true, `${vma.name}:${i}`);
      folio.uptodate = true;
      folio.mapcount = 1;
      vma.ptes.set(i, { folio, writable: true });
    }
  }
}

function vmaPage(vma: Vma, addr: number): number {
  return Math.floor((addr - vma.start) / vma.mm.pageSize);
}

/**
 * handle_mm_fault(): resolves one fault. Context: mmap_lock held for read by the caller (the
 * arch fault handler or GUP). Returns 0 when a PTE now allows the access, or VM_FAULT_SIGBUS /
 * VM_FAULT_NOPAGE-style codes (the caller re-walks and may fault again). `via` names the caller
 * (VmFault.via).
 */
export async function handleMmFault(
  t: Task,
  vma: Vma,
  addr: number,
  write: boolean,
  via = 'do_user_addr_fault',
): Promise<number> {
  const i = vmaPage(vma, addr);
  // The page table records itself; a file fault touches its page of the file (the fault handler,
  // page_mkwrite and the page cache lookup), an anonymous one only its own new folio.
  if (vma.mapping) {
    const page = vma.pgoff + i;
    await t.pointPages('handle_mm_fault', vma.mapping.host.ino, page, page + 1, true);
  } else {
    await t.pointRecorded('handle_mm_fault');
  }
  const pte = vma.ptes.get(i);
  if (!vma.mapping) return doAnonymousPage(t, vma, i);
  if (pte && write && !pte.writable)
    return vma.shared ? doSharedWpPage(t, vma, i, pte, via) : doCowPage(t, vma, i, pte.folio, pte);
  if (pte) return 0;
  const vmf: VmFault = { mapping: vma.mapping, pgoff: vma.pgoff + i, write, vma, folio: null, via };
  const ret = await (vma.vmOps as VmOperations).fault(t, vmf);
  // VM_FAULT_NOPAGE: the handler installed the PTE itself (DAX: vmf_insert_mixed) or wants a retry.
  if (ret === VM_FAULT_NOPAGE) return 0;
  if (ret !== VM_FAULT_LOCKED) return ret || VM_FAULT_SIGBUS;
  const folio = vmf.folio as Folio;
  if (!write) return finishFault(t, vma, i, folio, false);
  if (!vma.shared) {
    const r = await doCowPage(t, vma, i, folio, undefined);
    folio.lock.unlock(t);
    folioPut(folio);
    return r;
  }
  return doSharedFault(t, vma, i, vmf);
}

function doAnonymousPage(t: Task, vma: Vma, i: number): number {
  if (vma.ptes.has(i)) return 0;
  const folio = new Folio(vma.mm.folioIds, null, i, vma.mm.pageSize, true, `${vma.name}:${i}`);
  folio.uptodate = true;
  folio.mapcount = 1;
  vma.ptes.set(i, { folio, writable: true });
  t.event('do_anonymous_page', folio.name, folio.id);
  return 0;
}

/** finish_fault(): installs the PTE. Context: folio locked (so it cannot be truncated meanwhile). */
function finishFault(t: Task, vma: Vma, i: number, folio: Folio, writable: boolean): number {
  assert(folio.lock.owner === t, () => `finish_fault: ${folio.name} not locked by ${t}`);
  if (!vma.ptes.has(i)) {
    vma.ptes.set(i, { folio, writable });
    folio.mapcount++;
    if (t.tracing)
      t.event(
        'set_pte',
        `${vma.name}+${i * vma.mm.pageSize} → ${folio.name}${writable ? ' rw' : ' ro'}`,
        folio.id,
      );
  }
  folio.lock.unlock(t);
  folioPut(folio);
  return 0;
}

/** do_shared_fault(): ->fault, then ->page_mkwrite, then a writable PTE and a dirty folio. */
async function doSharedFault(t: Task, vma: Vma, i: number, vmf: VmFault): Promise<number> {
  const folio = vmf.folio as Folio;
  folio.lock.unlock(t);
  const ret = await (vma.vmOps as VmOperations).pageMkwrite(t, vmf);
  if (ret !== VM_FAULT_LOCKED) {
    folioPut(folio);
    return ret === VM_FAULT_NOPAGE ? 0 : ret || VM_FAULT_SIGBUS;
  }
  folioMarkDirty(t, folio); // fault_dirty_shared_page()
  return finishFault(t, vma, i, folio, true);
}

/** wp_page_shared(): a store to a read-only shared PTE: ->page_mkwrite, then make it writable. */
async function doSharedWpPage(t: Task, vma: Vma, i: number, pte: Pte, via: string): Promise<number> {
  const folio = pte.folio;
  folio.refcount++;
  const vmf: VmFault = {
    mapping: vma.mapping as AddressSpace,
    pgoff: vma.pgoff + i,
    write: true,
    vma,
    folio,
    via,
  };
  const ret = await (vma.vmOps as VmOperations).pageMkwrite(t, vmf);
  if (ret !== VM_FAULT_LOCKED) {
    folioPut(folio);
    return ret === VM_FAULT_NOPAGE ? 0 : ret || VM_FAULT_SIGBUS;
  }
  // finish_mkwrite_fault(): the PTE may have been zapped while we slept (pte_same fails): retry.
  if (vma.ptes.get(i) === pte) {
    pte.writable = true;
    vma.ptes.touch(i);
    folioMarkDirty(t, folio);
    if (t.tracing)
      t.event('wp_page_shared', `${vma.name}+${i * vma.mm.pageSize} → ${folio.name} rw`, folio.id);
  }
  folio.lock.unlock(t);
  folioPut(folio);
  return 0;
}

/**
 * do_cow_fault()/wp_page_copy(): a private copy of the file page, installed only if the PTE is
 * still the one the fault saw (`orig`; undefined: none). do_cow_fault sleeps in ->fault, and
 * another task's fault may install its own copy meanwhile: finish_fault re-checks under the PTE
 * lock ("if (likely(!vmf_pte_changed(vmf)))", which for a fault on a none PTE is
 * "!pte_none(ptep_get(vmf->pte))") and otherwise returns VM_FAULT_NOPAGE, dropping this copy;
 * wp_page_copy likewise installs only "if (likely(vmf->pte && pte_same(ptep_get(vmf->pte),
 * vmf->orig_pte)))" (mm/memory.c). Replacing the other task's copy would orphan a page it may
 * have pinned for an O_DIRECT read (issue 14, random-7-24).
 */
async function doCowPage(t: Task, vma: Vma, i: number, src: Folio, orig: Pte | undefined): Promise<number> {
  if (vma.ptes.get(i) !== orig) return 0;
  const copy = new Folio(vma.mm.folioIds, null, i, vma.mm.pageSize, true, `${vma.name}:${i}(cow)`);
  copy.data.set(src.data);
  copy.uptodate = true;
  const old = vma.ptes.get(i);
  if (old) old.folio.mapcount--;
  copy.mapcount = 1;
  vma.ptes.set(i, { folio: copy, writable: true });
  if (t.tracing) t.event('wp_page_copy', `${vma.name}+${i * vma.mm.pageSize} ← copy of ${src.name}`, copy.id);
  return 0;
}

/**
 * vmf_insert_mixed() / vmf_insert_page_mkwrite(): a fault handler that has no page cache folio
 * (DAX) maps `folio` at the faulting address itself: installs the PTE, or replaces the one there
 * (the zero page by a device page), or makes it writable. Context: the caller holds what keeps the
 * page valid (the DAX entry lock). Returns VM_FAULT_NOPAGE, as the kernel's handlers do.
 */
export function vmfInsertPage(t: Task, vmf: VmFault, folio: Folio, writable: boolean): number {
  const vma = vmf.vma as Vma;
  const i = vmf.pgoff - vma.pgoff;
  const old = vma.ptes.get(i);
  if (old?.folio === folio) {
    if (writable) old.writable = true;
    vma.ptes.touch(i);
  } else {
    if (old) old.folio.mapcount--;
    vma.ptes.set(i, { folio, writable });
    folio.mapcount++;
  }
  if (t.tracing)
    t.event(
      'set_pte',
      `${vma.name}+${i * vma.mm.pageSize} → ${folio.name}${writable ? ' rw' : ' ro'}`,
      folio.id,
    );
  return VM_FAULT_NOPAGE;
}

export function folioPut(folio: Folio): void {
  folio.refcount--;
}

/** Looks up the PTE for an access; returns it if it allows the access without a fault. */
function followPte(vma: Vma, addr: number, write: boolean): Pte | null {
  const pte = vma.ptes.get(vmaPage(vma, addr));
  if (!pte || (write && !pte.writable)) return null;
  return pte;
}

/**
 * The arch page fault handler (do_user_addr_fault): takes mmap_lock for read, finds the VMA,
 * handle_mm_fault. Returns 0 on success or -EFAULT (SIGSEGV/SIGBUS for a user access).
 */
export async function doUserAddrFault(t: Task, addr: number, write: boolean): Promise<number> {
  const mm = t.mm as Mm;
  await mm.mmapLock.downRead(t, 'do_user_addr_fault:mmap_lock');
  try {
    const vma = mm.findVma(addr);
    if (!vma) return -EFAULT;
    const ret = await handleMmFault(t, vma, addr, write);
    return ret === 0 ? 0 : -EFAULT;
  } finally {
    mm.mmapLock.upRead(t);
  }
}

/**
 * Copies between kernel cells and user memory, a page at a time. Faults on a missing or read-only
 * PTE unless page faults are disabled, in which case it stops short (the *_atomic / nofault
 * copies). Returns the number of bytes copied.
 */
async function copyUser(
  t: Task,
  uaddr: number,
  kbuf: Cells,
  koff: number,
  len: number,
  toUser: boolean,
  site: string,
  then: AfterCopy = 'anything',
  kobj = -1,
): Promise<number> {
  const mm = t.mm as Mm;
  const ps = mm.pageSize;
  let done = 0;
  let faults = 0;
  // A copy cut short returns into the caller in a step that began at a point of its own.
  const short = (): number => {
    if (then === 'anything') record(ANYTHING, true);
    return done;
  };
  while (done < len) {
    const addr = uaddr + done;
    const vma = mm.findVma(addr);
    if (!vma) return short();
    const pte = followPte(vma, addr, toUser);
    if (!pte) {
      if (t.pagefaultDisabled > 0) return short();
      if (++faults > 64) return short(); // a fault that keeps being undone: give up like a signal would
      if ((await doUserAddrFault(t, addr, toUser)) !== 0) return short();
      continue;
    }
    const n = Math.min(len - done, ps - (addr % ps), vma.end - addr);
    const off = (addr - vma.start) % ps;
    if (toUser) {
      // page_mkclean() write-protects every PTE of a folio it cleans, so a writable shared PTE
      // always maps a dirty folio: a store can never land in a page writeback thinks is clean.
      assert(
        !vma.shared || !vma.mapping || pte.folio.dirty,
        () => `store through a writable shared PTE to clean ${pte.folio.name}`,
      );
      pte.folio.data.set(kbuf.subarray(koff + done, koff + done + n), off);
    } else {
      kbuf.set(pte.folio.data.subarray(off, off + n), koff + done);
    }
    record(pte.folio.fpObj, toUser);
    // The kernel side: a page cache folio (filemap_read's source, the buffered write's
    // destination) is read or written in this step too, which may have begun at a point that did
    // not declare it (a fault's, or the previous user page's).
    if (kobj >= 0) record(kobj, !toUser);
    done += n;
    // The step after this point looks up the next page's VMA and PTE (and may take mmap_lock to
    // fault it in): all of which record themselves. After the last page it returns into the
    // caller, which may do anything before its own next point unless the caller says otherwise.
    if (done < len || then === 'recorded') await t.pointRecorded(site);
    else await t.point(site);
  }
  return done;
}

/**
 * What the step after a user copy's last page does, for its footprint: `anything` (the default:
 * the caller goes on with unrecorded work), or `recorded` (the caller does nothing before its next
 * scheduling point that does not record itself: src/sim/footprint.ts).
 */
export type AfterCopy = 'anything' | 'recorded';

/** copy_to_user(): returns bytes copied (Linux returns bytes not copied; the model inverts it). */
export function copyToUser(
  t: Task,
  uaddr: number,
  src: Cells,
  srcOff: number,
  len: number,
  /** What the caller does after the copy, up to its next point (AfterCopy). */
  then: AfterCopy = 'anything',
  /** The footprint object of `src` (a folio's fpObj), or -1 for memory of the task's own. */
  srcObj = -1,
): Promise<number> {
  return copyUser(t, uaddr, src, srcOff, len, true, 'copy_to_user', then, srcObj);
}

/** copy_from_user(): returns bytes copied. */
export function copyFromUser(
  t: Task,
  dst: Cells,
  dstOff: number,
  uaddr: number,
  len: number,
  /** What the caller does after the copy, up to its next point (AfterCopy). */
  then: AfterCopy = 'anything',
  /** The footprint object of `dst` (a folio's fpObj), or -1 for memory of the task's own. */
  dstObj = -1,
): Promise<number> {
  return copyUser(t, uaddr, dst, dstOff, len, false, 'copy_from_user', then, dstObj);
}

/** fault_in_iov_iter_readable(): faults the range in for reading; returns bytes NOT faulted in. */
export async function faultInIovIterReadable(t: Task, uaddr: number, len: number): Promise<number> {
  return faultIn(t, uaddr, len, false);
}

/** fault_in_iov_iter_writeable(): the same for writing; returns bytes NOT faulted in. */
export async function faultInIovIterWriteable(t: Task, uaddr: number, len: number): Promise<number> {
  return faultIn(t, uaddr, len, true);
}

/**
 * fault_in_readable()/fault_in_writeable() touch each page with a user access; under
 * pagefault_disable() that access cannot fault (the fault handler sees faulthandler_disabled() and
 * takes the exception fixup), so only pages already mapped suitably count as faulted in.
 */
async function faultIn(t: Task, uaddr: number, len: number, write: boolean): Promise<number> {
  const mm = t.mm as Mm;
  const ps = mm.pageSize;
  let addr = uaddr;
  const end = uaddr + len;
  while (addr < end) {
    const vma = mm.findVma(addr);
    if (!vma) break;
    if (!followPte(vma, addr, write)) {
      if (t.pagefaultDisabled > 0 || (await doUserAddrFault(t, addr, write)) !== 0) break;
    }
    addr = Math.min(end, (Math.floor(addr / ps) + 1) * ps);
  }
  return end - addr;
}

/**
 * A user load instruction: returns the bytes, or -EFAULT (the process would get SIGBUS/SIGSEGV).
 * `then` says what the caller does after it (AfterCopy).
 */
export async function userLoad(
  t: Task,
  uaddr: number,
  len: number,
  then: AfterCopy = 'anything',
): Promise<Cells | number> {
  const buf = allocCells(len);
  const n = await copyUser(t, uaddr, buf, 0, len, false, 'copy_from_user', then);
  return n === len ? buf : -EFAULT;
}

/** A user store instruction: returns 0 or -EFAULT. */
export async function userStore(
  t: Task,
  uaddr: number,
  data: Cells,
  then: AfterCopy = 'anything',
): Promise<number> {
  const n = await copyUser(t, uaddr, data, 0, data.length, true, 'copy_to_user', then);
  return n === data.length ? 0 : -EFAULT;
}

/**
 * Reads what an access would see right now without faulting (for oracles): null if unmapped. In a
 * step (the litmus world observing what a read left in its buffer) it records what it reads: the
 * VMA list and the PTE record themselves, and the folio is read here.
 */
export function peekUser(mm: Mm, uaddr: number): number | null {
  const vma = mm.findVma(uaddr);
  if (!vma) return null;
  const pte = vma.ptes.get(vmaPage(vma, uaddr));
  if (!pte) return null;
  record(pte.folio.fpObj, false);
  return pte.folio.data[(uaddr - vma.start) % mm.pageSize];
}

export { TAG_ZERO };
