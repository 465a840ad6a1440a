/**
 * Reclaim (mm/vmscan.c shrink_folio_list, reduced): kswapd takes one folio it can free — clean,
 * not under writeback, not locked, not pinned (folio_maybe_dma_pinned), no transient references —
 * unmaps it from every page table (try_to_unmap) and removes it from the page cache
 * (__remove_mapping). It can run at any scheduling point, which is what makes "fault the buffer
 * in, then disable page faults and rely on it staying" unsafe: the faulted-in page can be gone
 * again before it is used.
 */
import type { Task } from '../sim/task.js';
import { type AddressSpace, unmapMappingPages } from './filemap.js';
import type { Folio } from './folio.js';

function reclaimable(folio: Folio): boolean {
  return (
    folio.uptodate &&
    !folio.dirty &&
    !folio.writeback &&
    !folio.lock.locked &&
    folio.pincount === 0 &&
    folio.refcount <= 1
  );
}

/**
 * Frees one reclaimable folio among the mappings, the lowest (mapping, index) first among those
 * not reclaimed before by this call site's cursor. Returns the folio freed or null.
 */
export function shrinkOneFolio(
  t: Task,
  mappings: readonly AddressSpace[],
  cursor: { next: number },
): Folio | null {
  const candidates: Folio[] = [];
  for (const m of mappings)
    for (const i of m.indicesIn(0, Number.MAX_SAFE_INTEGER)) candidates.push(m.get(i) as Folio);
  const ok = candidates.filter(reclaimable);
  if (ok.length === 0) return null;
  const folio = ok[cursor.next++ % ok.length];
  const mapping = folio.mapping as AddressSpace;
  if (!folio.lock.trylock(t, 'shrink_folio_list:folio_trylock')) return null;
  if (folio.mapcount > 0) unmapMappingPages(t, mapping, folio.index, folio.index, false);
  mapping.removeFolio(t, folio, 'reclaim');
  folio.lock.unlock(t);
  return folio;
}
