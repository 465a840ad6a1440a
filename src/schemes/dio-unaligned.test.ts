/**
 * Two O_DIRECT writes smaller than a block into one new block. Each allocates (or finds) the block
 * unwritten and zeroes the rest of it on disk (iomap_dio_zero) before converting it at completion:
 * run together, the second's zeroing lands on the first's data. XFS serialises them
 * (xfs_file_dio_write_unaligned: IOLOCK_EXCL and inode_dio_wait, or IOMAP_DIO_OVERWRITE_ONLY
 * under IOLOCK_SHARED); the range-lock schemes must lock whole blocks for it, not bytes. Found by
 * `pagelab fsx --tasks 2 -N 12 -S 1 -Z -r 8 -w 8` under xfs, rangelock and pagelab.
 */
import { describe, expect, it } from 'vitest';
import { checkScenario } from '../explore/check.js';
import { parseLitmus } from '../litmus/parse.js';
import { findScheme } from './index.js';
import type { Scheme } from './scheme.js';

const SUBBLOCK = `
litmus dio-subblock-writers
page 64
block 64
file f 2p hole

P0: pwrite f 8 8 direct
P1: pwrite f 32 8 direct
`;

/** The same writes into a block that is already written: XFS lets them share IOLOCK_SHARED. */
const OVERWRITE = SUBBLOCK.replace('file f 2p hole', 'file f 2p written');

describe('sub-block O_DIRECT writers into one block', () => {
  for (const name of ['xfs', 'rangelock', 'pagelab', 'pagelab-edeadlk', 'vfs2019']) {
    it(`${name}: no lost write in any schedule with ≤ 2 preemptions`, async () => {
      for (const text of [SUBBLOCK, OVERWRITE]) {
        const sc = parseLitmus(text, 'dio-subblock-writers.litmus');
        const r = await checkScenario(sc, findScheme(name) as Scheme, {
          schedules: 100_000,
          seed: 1,
          scenarioRef: sc.name,
          strategy: 'dfs',
          preemptions: 2,
          jobs: 1,
        });
        expect(r.verdict).toBe('ok');
        expect(r.coverage.complete).toBe(true);
      }
    });
  }
});
