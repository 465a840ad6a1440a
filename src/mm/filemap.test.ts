/**
 * The page cache's generic paths against the kernel code they mirror (issue 13, items 6, 7, 8, 13):
 * each test builds a world, runs a few tasks under the non-preemptive schedule (a task runs until
 * it blocks), and asserts the exact state Linux leaves.
 */
import { describe, expect, it } from 'vitest';
import { directWriteFallback } from '../fs/read_write.js';
import { genericFsync } from '../fs/sync.js';
import type { UserRegion, World } from '../litmus/world.js';
import { EIO } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import type { RwSemaphore } from '../sync/rwsem.js';
import { cached, mappingOf, steeredSim, world } from '../test-support/world-sim.js';
import {
  type AddressSpace,
  filemapFault,
  filemapWriteAndWaitRange,
  invalidateInodePages2Range,
  VM_FAULT_LOCKED,
  type VmFault,
} from './filemap.js';
import type { Folio } from './folio.js';
import { doUserAddrFault } from './memory.js';

function vmf(mapping: AddressSpace, pgoff: number): VmFault {
  return { mapping, pgoff, write: false, folio: null };
}

describe('invalidate_inode_pages2_range walks in batches until find_get_entries finds nothing', () => {
  it('drops a folio added behind the walk at a higher index, keeps one added below it', async () => {
    const w = world('xfs', 'file f 4p written');
    const mapping = mappingOf(w);
    const f1 = cached(mapping, 1);
    const { sim: s, prefer } = steeredSim(w);
    let ret = 1;
    s.spawn('holder', async (t) => {
      expect(f1.lock.trylock(t, 'test:folio_lock')).toBe(true);
      prefer('invalidator');
      await t.point('test:yield');
      // The invalidator's first batch was [1], and it now sleeps on folio 1's lock.
      for (const i of [0, 3]) {
        const f = mapping.addFolio(t, i);
        f.uptodate = true;
        f.lock.unlock(t);
      }
      f1.lock.unlock(t);
    });
    s.spawn('invalidator', async (t) => {
      ret = await invalidateInodePages2Range(t, mapping, 0, 3);
    });
    const r = await s.run();
    expect(r.outcome.kind).toBe('done');
    expect(ret).toBe(0);
    // Folio 3 was found by the second find_get_entries (from index 2); folio 0 lies below the walk.
    expect([...mapping.pages.keys()].sort()).toEqual([0]);
  });
});

describe('filemap_write_and_wait_range and fsync do not wait after -EIO from writepages', () => {
  const cases = {
    filemap_write_and_wait_range: (t: Task, w: World) => filemapWriteAndWaitRange(t, mappingOf(w), 0, 128),
    'fsync (file_write_and_wait_range)': (t: Task, w: World) => genericFsync(t, w.fs.inodes[0], 0, 128),
  };
  for (const [name, call] of Object.entries(cases)) {
    it(`${name} returns -EIO without waiting for the writeback of another folio of the range`, async () => {
      // ext4-pin-fail: writeback of a DMA-pinned folio fails with -EIO under WB_SYNC_ALL.
      const w = world('ext4-pin-fail', 'file f 2p written');
      const mapping = mappingOf(w);
      const f0 = cached(mapping, 0);
      const f1 = cached(mapping, 1);
      const { sim: s } = steeredSim(w);
      let ret = 0;
      let f1WritebackAtReturn = false;
      s.spawn('P', async (t) => {
        // Folio 1 goes under writeback (clean, not waited for yet); folio 0 is dirty and pinned.
        f1.dirty = true;
        mapping.dirtyTag.set(1, true);
        expect(await mapping.aops?.writepages(t, mapping, { start: 64, end: 128, syncAll: true })).toBe(0);
        expect(f1.writeback).toBe(true);
        f0.dirty = true;
        mapping.dirtyTag.set(0, true);
        f0.pincount = 1;
        ret = await call(t, w);
        f1WritebackAtReturn = f1.writeback;
        f0.pincount = 0;
      });
      const r = await s.run();
      expect(r.outcome.kind).toBe('done');
      expect(ret).toBe(-EIO);
      // "the -EIO is special case ... so we avoid waiting for it": folio 1's bio had not completed
      // (fsync's cache flush that follows outlasts it).
      expect(f1WritebackAtReturn).toBe(name === 'filemap_write_and_wait_range');
      expect(r.trace?.events().map((e) => e.site)).not.toContain(
        'filemap_fdatawait_range:folio_wait_writeback',
      );
    });
  }
});

describe('direct_write_fallback drops the range with invalidate_mapping_pages', () => {
  it('keeps a mapped folio cached and mapped, drops a clean unmapped one', async () => {
    const w = world('invalidate_lock', 'file f 2p written\nmap m f 0 2p shared\nbuf b 128');
    const mapping = mappingOf(w);
    const inode = w.fs.inodes[0];
    const m = (w.regions.get('m') as UserRegion).vma.start;
    const b = (w.regions.get('b') as UserRegion).vma.start;
    const { sim: s } = steeredSim(w);
    let ret = 0;
    s.spawn('P', async (t) => {
      // A load through the mapping maps page 0; page 1 is only cached.
      expect(await doUserAddrFault(t, m, false)).toBe(0);
      cached(mapping, 1);
      ret = await directWriteFallback(t, inode, 0, 128, b, 0);
    });
    const r = await s.run();
    expect(r.outcome.kind).toBe('done');
    expect(ret).toBe(128);
    const f0 = mapping.get(0) as Folio;
    expect(f0).toBeDefined();
    expect(f0.mapcount).toBe(1);
    expect(f0.dirty).toBe(false);
    expect(mapping.get(1)).toBeUndefined();
  });
});

describe('filemap_fault keeps invalidate_lock across retry_find', () => {
  it('a truncate waiting for invalidate_lock exclusive gets it only after the fault has its folio', async () => {
    const w = world('xfs', 'file f 1p written');
    const mapping = mappingOf(w);
    const il = mapping.invalidateLock as RwSemaphore;
    const { sim: s, prefer } = steeredSim(w);
    const aops = mapping.aops as NonNullable<AddressSpace['aops']>;
    mapping.aops = {
      writepages: aops.writepages,
      readFolio: (t, folio) => {
        // From here on the truncate runs whenever it can: it queues for invalidate_lock now, and
        // takes it at the first point where the fault does not hold it.
        prefer('truncate');
        return aops.readFolio(t, folio);
      },
    };
    const fault = vmf(mapping, 0);
    let faultRet = 0;
    let folioWhenTruncateRan: Folio | null | undefined;
    s.spawn('fault', async (t) => {
      faultRet = await filemapFault(t, fault);
      fault.folio?.lock.unlock(t);
    });
    s.spawn('truncate', async (t) => {
      await il.downWrite(t, 'test:invalidate_lock');
      folioWhenTruncateRan = fault.folio;
      il.upWrite(t);
    });
    const r = await s.run();
    expect(r.outcome.kind).toBe('done');
    expect(faultRet).toBe(VM_FAULT_LOCKED);
    // The fault read the folio under invalidate_lock and locked it at retry_find still holding it.
    expect(folioWhenTruncateRan).toBe(mapping.get(0));
    expect(folioWhenTruncateRan).toBeDefined();
  });

  it('a folio found uptodate and then not uptodate is read only after invalidate_lock is taken', async () => {
    const w = world('xfs', 'file f 1p written');
    const mapping = mappingOf(w);
    const il = mapping.invalidateLock as RwSemaphore;
    const f0 = cached(mapping, 0);
    const aops = mapping.aops as NonNullable<AddressSpace['aops']>;
    const readersAtRead: number[] = [];
    mapping.aops = {
      writepages: aops.writepages,
      readFolio: (t, folio) => {
        readersAtRead.push(il.readers);
        return aops.readFolio(t, folio);
      },
    };
    const { sim: s, prefer } = steeredSim(w);
    const fault = vmf(mapping, 0);
    let faultRet = 0;
    s.spawn('holder', async (t) => {
      expect(f0.lock.trylock(t, 'test:folio_lock')).toBe(true);
      prefer('fault');
      await t.point('test:yield');
      // The fault found it uptodate (no invalidate_lock) and sleeps on its lock; a failed read
      // leaves it not uptodate.
      f0.uptodate = false;
      f0.lock.unlock(t);
    });
    s.spawn('fault', async (t) => {
      faultRet = await filemapFault(t, fault);
      fault.folio?.lock.unlock(t);
    });
    const r = await s.run();
    expect(r.outcome.kind).toBe('done');
    expect(faultRet).toBe(VM_FAULT_LOCKED);
    expect(readersAtRead).toEqual([1]);
    expect(il.readers).toBe(0);
  });
});
