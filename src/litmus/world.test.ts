/** The litmus world's limits (issue 14): a file grows no further than the model holds. */
import { describe, expect, it } from 'vitest';
import { fallocateCheck } from '../fs/fallocate.js';
import type { Inode } from '../fs/fs.js';
import { findScheme } from '../schemes/index.js';
import { EFBIG } from '../sim/errno.js';
import { FILE_BYTES_MAX } from './ast.js';
import { parseLitmus } from './parse.js';
import { buildWorld } from './world.js';

describe('s_maxbytes of the litmus world', () => {
  it('is FILE_BYTES_MAX: an insert or an allocation past it is EFBIG (vfs_fallocate, xfs, ext4)', () => {
    const sc = parseLitmus('litmus grow\npage 65536\nfile f 1p written\nP0: fsync f\n');
    const xfs = findScheme('xfs');
    if (!xfs) throw new Error('xfs');
    const world = buildWorld(sc, xfs);
    expect(world.fs.maxBytes).toBe(FILE_BYTES_MAX);
    expect(FILE_BYTES_MAX).toBe(2 * 16777216);
    const f = world.inodes.get('f') as Inode;
    f.size = FILE_BYTES_MAX - 65536;
    expect(fallocateCheck(f, 'insert', 0, 65536, false)).toBe(0);
    expect(fallocateCheck(f, 'insert', 0, 131072, false)).toBe(-EFBIG);
    expect(fallocateCheck(f, 'alloc', FILE_BYTES_MAX - 65536, 65536, false)).toBe(0);
    expect(fallocateCheck(f, 'alloc', FILE_BYTES_MAX, 65536, false)).toBe(-EFBIG);
  });
});
