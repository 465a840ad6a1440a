/**
 * The oracles' specification where a run was a false alarm (issue 14): each test replays the exact
 * schedule a campaign found and asserts the outcome, so it fails if the excuse goes.
 */
import { describe, expect, it } from 'vitest';
import { initCell } from '../block/data.js';
import { runOnce } from '../explore/run.js';
import { parseLitmus } from '../litmus/parse.js';
import { decodeSchedule } from '../sim/schedule.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { scheme } from '../test-support/named.js';

describe("a read's buffer rewritten after the copy", () => {
  // random-7-2 minimised (campaign --random 500 --tasks 3 --ops 2 --seed 7, under pagelab): P0 reads
  // f's EOF page into g's page 1 through sg1; P1's O_DIRECT write of g[56,72) from sg1 falls back
  // to a buffered write (pagelab's EDEADLK on its own buffer), which rewrites g[64,72) with g's
  // bytes 72..79 after P0's copy and before P0 returns.
  const sc = parseLitmus(
    [
      'litmus buf-rewritten',
      'file f 2p written',
      'file g 2p written',
      'map sg1 g 1p 1p shared',
      'P0: pread f 120 16 buf=sg1',
      'P1: pwrite g 56 16 direct buf=sg1',
    ].join('\n'),
    'x',
  );
  const schedule = decodeSchedule('0*4.1*12.2.0*3.1*4.4.1*8.0.5.1');

  it('is no stale read: the buffer as the read returned may hold what an overlapping write put there', async () => {
    const run = await runOnce(sc, scheme('pagelab'), new ReplayStrategy(schedule));
    const read = run.world.history.ops[0];
    // The run is the one the campaign found: the read returned 8 bytes, and its buffer then held
    // g's initial bytes 72..79 (P1's), not f's 120..127 (what the read copied).
    expect(read.ret).toBe(8);
    expect([...(read.observed?.cells ?? [])]).toEqual(Array.from({ length: 8 }, (_, i) => initCell(72 + i)));
    expect(run.findings).toEqual([]);
  });
});
