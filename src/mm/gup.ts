/**
 * get_user_pages / pin_user_pages (mm/gup.c). The point of seed 001: GUP resolves a missing or
 * read-only PTE by calling handle_mm_fault() itself (faultin_page), with no CPU exception, so
 * pagefault_disable() has no effect on it. Only FOLL_NOFAULT (Linux 5.16, for gfs2) makes it stop.
 *
 * Model: GUP-fast first pins what is already mapped without any lock; at the first page it cannot
 * take it falls back to the slow walk, which holds mmap_lock for read and faults pages in.
 * FOLL_PIN adds an exact pin count (Linux: GUP_PIN_COUNTING_BIAS on the refcount, fuzzy).
 */

import { EFAULT } from '../sim/errno.js';
import { record } from '../sim/footprint.js';
import type { Task } from '../sim/task.js';
import type { Folio } from './folio.js';
import { handleMmFault, type Mm, type Vma } from './memory.js';

export interface GupFlags {
  /** FOLL_WRITE: the caller will write to the pages (a DIO read into the buffer). */
  write: boolean;
  /** FOLL_NOFAULT: never fault; stop at the first page that is not already mapped suitably. */
  nofault: boolean;
  /** FOLL_PIN (pin_user_pages) rather than a plain reference (get_user_pages). */
  pin: boolean;
}

export interface PinnedPage {
  folio: Folio;
  /** Offset of the user address inside the page. */
  off: number;
  len: number;
}

function takePage(t: Task, vma: Vma, addr: number, write: boolean, pin: boolean): Folio | null {
  const ps = vma.mm.pageSize;
  const pte = vma.ptes.get(Math.floor((addr - vma.start) / ps));
  if (!pte || (write && !pte.writable)) return null;
  const folio = pte.folio;
  record(folio.fpObj, true);
  folio.refcount++;
  if (pin) {
    folio.pincount++;
    folio.pinners.push(t);
    if (t.tracing) t.event('pin_user_page', `${folio.name} pin=${folio.pincount}`, folio.id);
  }
  return folio;
}

/**
 * pin_user_pages_fast() / get_user_pages_fast() over [uaddr, uaddr+len). Returns the pages taken
 * (possibly fewer than asked: a short pin, as bio_iov_iter_get_pages sees it), or -EFAULT if not
 * even the first page could be taken.
 */
export async function getUserPagesFast(
  t: Task,
  uaddr: number,
  len: number,
  flags: GupFlags,
): Promise<PinnedPage[] | number> {
  const mm = t.mm as Mm;
  const ps = mm.pageSize;
  const out: PinnedPage[] = [];
  let addr = uaddr;
  const end = uaddr + len;
  // gup_fast: lockless, only what is mapped.
  while (addr < end) {
    const vma = mm.findVma(addr);
    if (!vma) break;
    const folio = takePage(t, vma, addr, flags.write, flags.pin);
    if (!folio) break;
    const n = Math.min(end - addr, ps - (addr % ps));
    out.push({ folio, off: addr % ps, len: n });
    addr += n;
  }
  if (addr < end) {
    // mmap_lock, the VMA walk and pins record themselves; the fault has its own points.
    await t.pointRecorded('get_user_pages_fast:slow');
    addr = await getUserPagesSlow(t, mm, addr, end, flags, out);
  }
  return out.length === 0 && len > 0 ? -EFAULT : out;
}

/** __get_user_pages() under mmap_lock: follow_page, else faultin_page → handle_mm_fault. */
async function getUserPagesSlow(
  t: Task,
  mm: Mm,
  start: number,
  end: number,
  flags: GupFlags,
  out: PinnedPage[],
): Promise<number> {
  const ps = mm.pageSize;
  let addr = start;
  await mm.mmapLock.downRead(t, '__get_user_pages:mmap_lock');
  try {
    let faults = 0;
    while (addr < end) {
      const vma = mm.findVma(addr);
      if (!vma) break;
      const folio = takePage(t, vma, addr, flags.write, flags.pin);
      if (folio) {
        const n = Math.min(end - addr, ps - (addr % ps));
        out.push({ folio, off: addr % ps, len: n });
        addr += n;
        continue;
      }
      if (flags.nofault) break;
      if (++faults > 64) break;
      // faultin_page(): note that t.pagefaultDisabled is NOT consulted (seed 001).
      if (t.tracing)
        t.event(
          'faultin_page',
          `${vma.name}+${addr - vma.start}${t.pagefaultDisabled ? ' (page faults disabled: no effect on GUP)' : ''}`,
        );
      const ret = await handleMmFault(t, vma, addr, flags.write, 'faultin_page');
      if (ret !== 0) break;
    }
  } finally {
    mm.mmapLock.upRead(t);
  }
  return addr;
}

/**
 * unpin_user_pages_dirty_lock() / put_page(): drops what GUP took; `dirty` marks the pages dirty.
 * `pinner` is the task that took the pins, when another context drops them (a bio's completion).
 */
export function unpinUserPages(
  t: Task,
  pages: PinnedPage[],
  pin: boolean,
  dirty: boolean,
  pinner: Task = t,
): void {
  for (const p of pages) {
    const folio = p.folio;
    record(folio.fpObj, true);
    if (dirty && !folio.anon && folio.mapping) {
      // set_page_dirty_lock(): the pinner dirties a page the filesystem may have cleaned meanwhile.
      folio.dirty = true;
      t.event('set_page_dirty_lock', folio.name, folio.id);
    }
    folio.refcount--;
    if (pin) {
      folio.pincount--;
      const i = folio.pinners.indexOf(pinner);
      if (i >= 0) folio.pinners.splice(i, 1);
      if (t.tracing) t.event('unpin_user_page', `${folio.name} pin=${folio.pincount}`, folio.id);
      if (folio.pincount === 0) folio.unpinWait.wakeAll();
    }
  }
}
