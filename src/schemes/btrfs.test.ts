/**
 * btrfs's ordered extents against seed 004's refault race: a page read that overlaps an O_DIRECT
 * write's ordered extent waits for it (btrfs_lock_and_flush_ordered_range), and a page cached when
 * the write maps its range sends it to buffered I/O (lock_extent_direct: -ENOTBLK).
 */
import { describe, expect, it } from 'vitest';
import { checkScenario } from '../explore/check.js';
import { runOnce } from '../explore/run.js';
import { RandomStrategy } from '../sim/strategy.js';
import { builtin, scheme } from '../test-support/named.js';

/** The first random schedule (seeds 1..200) whose trace has `site`, with its findings. */
async function firstRunWith(site: string, detail?: string) {
  const sc = builtin('dio-write-vs-mmap-store');
  for (let seed = 1; seed <= 200; seed++) {
    const run = await runOnce(sc, scheme('btrfs'), new RandomStrategy(seed), { trace: true });
    const events = run.result.trace?.events() ?? [];
    if (events.some((e) => e.site === site && (!detail || (e.detail ?? '').includes(detail)))) return run;
  }
  return null;
}

describe('btrfs closes the refault window of seed 004 with ordered extents', () => {
  it('dio-write-vs-mmap-store is ok under btrfs with the budget that finds the lost write under xfs', async () => {
    const r = await checkScenario(builtin('dio-write-vs-mmap-store'), scheme('btrfs'), {
      schedules: 600,
      seed: 11,
      scenarioRef: 'dio-write-vs-mmap-store',
    });
    expect(r.verdict).toBe('ok');
  });

  it("a refault over the write's ordered extent waits for it and reads the new data", async () => {
    const run = await firstRunWith('btrfs_lock_and_flush_ordered_range:btrfs_start_ordered_extent');
    expect(run).not.toBeNull();
    expect(run?.result.outcome.kind).toBe('done');
    expect(run?.findings).toEqual([]);
  });

  it('a page cached before the write maps its range sends it to buffered I/O (-ENOTBLK)', async () => {
    const run = await firstRunWith('lock_extent_direct', '-ENOTBLK');
    expect(run).not.toBeNull();
    expect(run?.findings).toEqual([]);
    const sites = run?.result.trace?.events().map((e) => e.site) ?? [];
    expect(sites).toContain('direct_write_fallback');
  });
});
