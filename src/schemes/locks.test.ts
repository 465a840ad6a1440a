/**
 * The checked accessors of src/schemes/locks.ts: per-inode lock state that is missing or of the
 * wrong kind is a broken invariant naming the inode, never a TypeError inside a run.
 */
import { describe, expect, it } from 'vitest';
import { runOnce } from '../explore/run.js';
import { parseLitmus } from '../litmus/parse.js';
import { buildWorld } from '../litmus/world.js';
import { InvariantError } from '../sim/assert.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { RangeLock } from '../sync/rangelock.js';
import { findScheme } from './index.js';
import { fsPrivateOf, invalidateLockOf, rangeLockOf } from './locks.js';
import type { Scheme } from './scheme.js';

const SC = parseLitmus(
  ['litmus one-file', 'page 64', 'file f 1p written', 'P0: fallocate f punch 0 1p'].join('\n'),
  'x',
);

function inodeUnder(name: string) {
  const world = buildWorld(SC, findScheme(name) as Scheme);
  const inode = world.inodes.get('f');
  if (!inode) throw new Error('no f');
  return inode;
}

describe('checked accessors of per-inode lock state', () => {
  it('invalidateLockOf returns the mapping’s invalidate_lock where the scheme has one', () => {
    const inode = inodeUnder('xfs');
    expect(invalidateLockOf(inode)).toBe(inode.mapping.invalidateLock);
  });

  it('invalidateLockOf on a scheme without invalidate_lock (vfs2019, before 5.15) is an invariant', () => {
    expect(() => invalidateLockOf(inodeUnder('vfs2019'))).toThrow(
      new InvariantError('f has no invalidate_lock: the scheme says invalidateLock: false'),
    );
  });

  it('fsPrivateOf / rangeLockOf return what setupInode created, and assert on a missing key or a wrong kind', () => {
    const inode = inodeUnder('rangelock');
    expect(rangeLockOf(inode, 'iolock')).toBeInstanceOf(RangeLock);
    expect(() => rangeLockOf(inode, 'pagecache_lock')).toThrow(
      new InvariantError("f has no pagecache_lock (RangeLock): its scheme's setupInode did not create it"),
    );
    inode.fsPrivate.set('glock', 42);
    expect(() => fsPrivateOf(inode, 'glock', RangeLock)).toThrow(InvariantError);
  });

  it('a scheme whose setupInode forgot its lock ends the run with an invariant finding, not a crash', async () => {
    const base = findScheme('rangelock') as Scheme;
    const broken: Scheme = { ...base, name: 'rangelock-no-setup', setupInode() {} };
    const run = await runOnce(SC, broken, new ReplayStrategy([]));
    expect(run.findings.map((f) => [f.kind, f.summary])).toEqual([
      [
        'invariant',
        "broken invariant in P0[0]: f has no iolock (RangeLock): its scheme's setupInode did not create it",
      ],
    ]);
  });
});
