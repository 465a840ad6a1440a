/**
 * iomap O_DIRECT against fs/iomap/direct-io.c (issue 13, items 3, 9 and 12): each test drives
 * iomapDioRw in a world of its own and asserts the exact result Linux gives.
 */
import { describe, expect, it } from 'vitest';
import { allocCells, cell, TAG_FIRST_OP } from '../../block/data.js';
import type { UserRegion, World } from '../../litmus/world.js';
import { EFAULT, ENOSPC, ENOTBLK } from '../../sim/errno.js';
import { mappingOf, steeredSim, world } from '../../test-support/world-sim.js';
import { BlockState } from '../extent.js';
import type { Inode } from '../fs.js';
import { allocateUnwritten } from './buffered-io.js';
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

describe('iomap_dio_bio_iter after a short pin, and its tail zeroing', () => {
  /**
   * f: two blocks of holes; the buffer is a shared mapping of g whose second page lies past g's
   * EOF, so pinning it fails (SIGBUS in the fault): the first page pins, the second does not.
   */
  const decls = 'file f 2p hole\nfile g 128 written\nmap m g 0 2p shared';

  async function shortPin(flags: DioFlags): Promise<{ ret: number; begins: [number, number][] }> {
    const w = world('xfs', decls);
    const inode = inodeOf(w);
    inodeOf(w, 'g').size = 64;
    const begins: [number, number][] = [];
    const { sim } = steeredSim(w);
    let ret = 0;
    sim.spawn('P', async (t) => {
      ret = await iomapDioRw(t, inode, 0, 128, bufOf(w, 'm'), true, {
        ...flags,
        iomapBegin: async (it, ino, lblk, n) => {
          begins.push([lblk, n]);
          return allocateUnwritten(it, ino, lblk, n);
        },
      });
    });
    const r = await sim.run();
    expect(r.outcome.kind).toBe('done');
    return { ret, begins };
  }

  it('calls ->iomap_begin again for the rest before failing with -EFAULT', async () => {
    const { ret, begins } = await shortPin({});
    expect(begins).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(ret).toBe(-EFAULT);
  });

  it('returns the bytes submitted with IOMAP_DIO_PARTIAL', async () => {
    const { ret, begins } = await shortPin({ partial: true });
    expect(begins).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(ret).toBe(64);
  });

  it('zeroes the rest of a written block when the write ends at or past EOF', async () => {
    // Block 1 holds stale bytes past EOF (40) on disk; a DIO write of [40, 44) extends the file.
    const w = world('xfs', 'block 32\nfile f 40 written\nbuf b 64');
    const inode = inodeOf(w);
    const pblk = inode.extents.pblk(1);
    const stale = allocCells(24);
    stale.fill(cell(TAG_FIRST_OP, 0x5a));
    w.bdev.setupWrite(pblk * 32 + 8, stale);
    expect(await dio(w, 40, 4, true)).toBe(4);
    expect(inode.size).toBe(44);
    for (let b = 12; b < 32; b++) expect(w.bdev.readByte(pblk * 32 + b)).toBe(0);
  });
});

describe('an O_DIRECT read across EOF (iomap_dio_hole_iter)', () => {
  it('zero-fills the buffer over the hole past the EOF block and returns only up to EOF', async () => {
    // EOF at 40 in block 2 ([32,48)); [48,64) is a hole. A read of [32,64) transfers the EOF block
    // and zero-fills the rest of the request (iov_iter_zero); iomap_dio_complete clamps the return.
    const w = world('xfs', 'block 16\nfile f 40 written\nbuf b 64');
    const buf = (w.regions.get('b') as UserRegion).vma.ptes.get(0)?.folio.data as Uint32Array;
    buf.fill(cell(TAG_FIRST_OP, 0x5a));
    expect(await dio(w, 32, 32, false)).toBe(8);
    expect([...buf.subarray(16, 32)]).toEqual(new Array(16).fill(0));
    // Past the request the buffer is untouched.
    expect(buf[32]).toBe(cell(TAG_FIRST_OP, 0x5a));
  });
});
