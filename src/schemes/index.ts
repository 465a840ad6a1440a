/** The scheme registry: names are a stable contract (`--scheme NAME`, matrix columns). */
import { bcachefs, bcachefsFair } from './bcachefs.js';
import { bklScheme } from './bkl.js';
import { btrfs } from './btrfs.js';
import { dax, dax2017 } from './dax.js';
import { ext4PinBlock, ext4PinBounce, ext4PinFail, ext4PinSkip } from './ext4.js';
import { ext4 } from './ext4-iomap.js';
import { gfs2, gfs2In2021, gfs2NoDfRead } from './gfs2.js';
import { invalidateLock } from './invalidate_lock.js';
import { pagelab, pagelabEdeadlk } from './pagelab.js';
import { rangelock } from './rangelock.js';
import type { Scheme } from './scheme.js';
import { vfs2019 } from './vfs2019.js';
import { xfs } from './xfs.js';

export const SCHEMES: readonly Scheme[] = [
  vfs2019,
  invalidateLock,
  xfs,
  rangelock,
  pagelab,
  pagelabEdeadlk,
  ext4PinBlock,
  ext4PinSkip,
  ext4PinFail,
  ext4PinBounce,
  dax2017,
  dax,
  gfs2,
  gfs2In2021,
  gfs2NoDfRead,
  btrfs,
  bcachefs,
  bcachefsFair,
  ext4,
  bklScheme,
];

export function findScheme(name: string): Scheme | undefined {
  return SCHEMES.find((s) => s.name === name);
}

export type { Scheme };
