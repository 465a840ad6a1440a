/**
 * iomap O_DIRECT against fs/iomap/direct-io.c (issue 13, items 3 and 9): each test drives
 * iomapDioRw in a world of its own and asserts the exact result Linux gives.
 */
import { describe, expect, it } from 'vitest';
import type { UserRegion, World } from '../../litmus/world.js';
import { mappingOf, steeredSim, world } from '../../mm/world.test-support.js';
import { ENOSPC, ENOTBLK } from '../../sim/errno.js';
import { BlockState } from '../extent.js';
import type { Inode } from '../fs.js';
import { type DioFlags, iomapDioRw } from './direct-io.js';

function inodeOf(w: World, name = 'f'): Inode {
  return w.fs.inodes.find((i) => i.name === name) as Inode;
}

function bufOf(w: World, name = 'b'): number {
  return (w.regions.get(name) as UserRegion).vma.start;
}

/**
 * A dirty page 0 whose second block is a hole on a full disk: its writeback fails with -ENOSPC
 * (iomap_writepage_map's allocation), the error kiocb_write_and_wait and kiocb_invalidate_pages see.
 */
function enospcWorld(): World {
  const w = world('xfs', 'block 32\ndisk 2\nfile f 1p dirty\nbuf b 64');
  inodeOf(w).extents.set(1, BlockState.Hole, -1);
  return w;
}

async function dio(
  w: World,
  pos: number,
  len: number,
  write: boolean,
  flags: DioFlags = {},
): Promise<number> {
  const { sim } = steeredSim(w);
  let ret = 0;
  sim.spawn('P', async (t) => {
    ret = await iomapDioRw(t, inodeOf(w), pos, len, bufOf(w), write, flags);
  });
  const r = await sim.run();
  expect(r.outcome.kind).toBe('done');
  return ret;
}

describe('a writeback error before O_DIRECT (kiocb_write_and_wait, kiocb_invalidate_pages)', () => {
  it('fails an O_DIRECT read with the error', async () => {
    const w = enospcWorld();
    expect(await dio(w, 0, 32, false)).toBe(-ENOSPC);
  });

  it('makes an O_DIRECT write -ENOTBLK (buffered fallback) before invalidating anything (5.9+)', async () => {
    const w = enospcWorld();
    expect(await dio(w, 0, 32, true)).toBe(-ENOTBLK);
    // kiocb_invalidate_pages returned before invalidate_inode_pages2_range: the folio is cached.
    expect(mappingOf(w).get(0)).toBeDefined();
  });

  it('fails the write with the error before 5.9 and in fs/direct-io.c', async () => {
    expect(await dio(enospcWorld(), 0, 32, true, { ignorePreInvalidateFailure: true })).toBe(-ENOSPC);
    expect(await dio(enospcWorld(), 0, 32, true, { pinBeforeMap: true, alignUpFront: true })).toBe(-ENOSPC);
  });
});

describe('iomap_dio_complete clamps a read with dio->i_size', () => {
  it('does not report bytes past the EOF the DIO started with, though i_size grew meanwhile', async () => {
    const w = world('xfs', 'block 32\nfile f 40 written\nbuf b 64');
    const inode = inodeOf(w);
    const { sim } = steeredSim(w);
    let ret = 0;
    let sizeWhenGrown = 0;
    sim.spawn('dio', async (t) => {
      ret = await iomapDioRw(t, inode, 0, 64, bufOf(w), false);
    });
    // Runs while the DIO waits for its bio: an extension to 64 bytes (i_size_write).
    sim.spawn('grow', async () => {
      sizeWhenGrown = inode.size;
      inode.size = 64;
    });
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    expect(sizeWhenGrown).toBe(40);
    expect(inode.size).toBe(64);
    // Both blocks were transferred; dio->i_size is 40.
    expect(ret).toBe(40);
  });
});
