/** The scheme registry: names are a stable contract (`--scheme NAME`, matrix columns). */
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
];

export function findScheme(name: string): Scheme | undefined {
  return SCHEMES.find((s) => s.name === name);
}

export type { Scheme };
