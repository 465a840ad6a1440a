/**
 * bkl, the test oracle of issue 14: every syscall and fault under one task-recursive lock, so only
 * loads and stores through present PTEs (and the DMA) run concurrently with an op.
 */
import { describe, expect, it } from 'vitest';
import { checkScenario } from '../explore/check.js';
import { replaySchedule, runOnce } from '../explore/run.js';
import { parseLitmus } from '../litmus/parse.js';
import { fileViews } from '../litmus/world.js';
import { RandomStrategy } from '../sim/strategy.js';
import { builtin } from '../test-support/named.js';
import { bklScheme } from './bkl.js';
import { findScheme } from './index.js';
import type { Scheme } from './scheme.js';

const DFS = { schedules: 100_000, seed: 1, strategy: 'dfs' as const, preemptions: 2 };

describe('bkl: one task-recursive lock around every syscall and fault', () => {
  it('is listed under its name', () => {
    expect(findScheme('bkl')).toBe(bklScheme);
  });

  it('makes the O_DIRECT write atomic against a faulting store: ok where xfs loses the write', async () => {
    const sc = builtin('dio-write-vs-mmap-store');
    const ours = await checkScenario(sc, bklScheme, { ...DFS, scenarioRef: sc.name });
    expect(ours.verdict).toBe('ok');
    expect(ours.coverage.complete).toBe(true);
    const xfs = findScheme('xfs');
    if (!xfs) throw new Error('xfs');
    const control = await checkScenario(sc, xfs, { ...DFS, scenarioRef: sc.name });
    expect(control.verdict).toBe('lost-write');
  });

  it('is recursive: GUP faulting on the range the O_DIRECT write blocks takes it again', async () => {
    const sc = builtin('mmap-buffer-dio-overlap');
    const run = await replaySchedule(sc, bklScheme, []);
    expect(run.result.outcome.kind).toBe('done');
    expect(run.findings).toEqual([]);
    expect(run.world.history.ops.map((o) => o.ret)).toEqual([64]);
  });

  it('runs each syscall whole: crossed O_DIRECT writes copy one page twice, never swap them', async () => {
    const sc = builtin('dio-buffers-crossed-pages');
    const endings = async (s: Scheme) => {
      const seen = new Set<string>();
      for (let seed = 1; seed <= 40; seed++) {
        const run = await runOnce(sc, s, new RandomStrategy(seed));
        const page = (c: Iterable<number>, i: number) => [...c].slice(i * 64, (i + 1) * 64).join();
        const now = fileViews(run.world, 'f').direct.cells;
        const orig = run.world.initial.get('f')?.cells ?? [];
        const swapped = page(now, 0) === page(orig, 1) && page(now, 1) === page(orig, 0);
        const copied = page(now, 0) === page(now, 1);
        seen.add(copied ? 'copied' : swapped ? 'swapped' : 'other');
      }
      return [...seen].sort();
    };
    expect(await endings(bklScheme)).toEqual(['copied']);
    // xfs lets both DMAs read their buffer before either write lands (Linux allows it).
    const xfs = findScheme('xfs');
    if (!xfs) throw new Error('xfs');
    expect(await endings(xfs)).toContain('swapped');
  });

  it('leaves a load through a present PTE concurrent with an O_DIRECT write', async () => {
    const sc = parseLitmus(`
litmus pte-load
page 64
file f 2p written
map m f 0 2p shared
P0: pwrite f 0 1p direct
P1: load m+1p 8; load m+1p 8
`);
    let inside = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const run = await runOnce(sc, bklScheme, new RandomStrategy(seed));
      expect(run.findings).toEqual([]);
      const [w, , second] = [...run.world.history.ops].sort((x, y) => x.tag - y.tag);
      if (w.start < second.start && second.end < w.end) inside++;
    }
    expect(inside).toBeGreaterThan(0);
  });
});
