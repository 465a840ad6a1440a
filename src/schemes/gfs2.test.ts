/**
 * gfs2 (5.16), gfs2-2021 (the RFC of seed 001) and btrfs (5.16) on the mmap'd-buffer scenarios of
 * seeds 000 and 001: each test asserts the exact finding.
 */
import { describe, expect, it } from 'vitest';
import { initCell } from '../block/data.js';
import { checkScenario } from '../explore/check.js';
import { runOnce } from '../explore/run.js';
import { findBuiltin } from '../litmus/builtin.js';
import { fileViews } from '../litmus/world.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { findScheme } from './index.js';

function scheme(name: string) {
  const s = findScheme(name);
  if (!s) throw new Error(name);
  return s;
}

function builtin(name: string) {
  const s = findBuiltin(name);
  if (!s) throw new Error(name);
  return s;
}

function check(sc: string, name: string, schedules = 300) {
  return checkScenario(builtin(sc), scheme(name), { schedules, seed: 7, scenarioRef: sc });
}

describe('gup-nofault-reentry (seed 001: GUP faults into gfs2_fault with the glock held)', () => {
  it('deadlocks under gfs2-2021: each O_DIRECT holds its file glock, GUP wants the other', async () => {
    const r = await check('gup-nofault-reentry', 'gfs2-2021');
    expect(r.verdict).toBe('deadlock');
    expect(r.finding?.summary).toBe('deadlock: P0[0] ⇄ P1[1] can never run again');
    const details = r.finding?.details.join('\n') ?? '';
    expect(details).toContain('cycle: P0[0] → P1[1] → P0[0]');
    expect(details).toMatch(
      /P0\[0\] waits for glock\(g\) \[glock\] at gfs2_(fault|page_mkwrite):gfs2_glock_nq\((SH|EX)\) via faultin_page, held by P1\[1\]/,
    );
    expect(details).toContain(
      'P1[1] waits for glock(f) [glock] at gfs2_fault:gfs2_glock_nq(SH) via faultin_page, held by P0[0]',
    );
    expect(details).toContain('P0[0] holds glock(f) (DF) taken at gfs2_file_direct_read:gfs2_glock_nq(DF)');
    expect(details).toContain('P1[1] holds glock(g) (DF) taken at gfs2_file_direct_write:gfs2_glock_nq(DF)');
    expect(details).toContain('holds mmap_lock (read) taken at __get_user_pages:mmap_lock');
  });

  it('is ok under gfs2: FOLL_NOFAULT, fault-in with the glock demotable, retry', async () => {
    const r = await check('gup-nofault-reentry', 'gfs2');
    expect(r.verdict).toBe('ok');
    expect(r.schedules).toBe(300);
  });
});

describe('mmap-buffer-dio-overlap (seed 000, generic/729: the buffer maps the page being written)', () => {
  it('gfs2 never makes progress: the report names the retry loop of gfs2_file_direct_write', async () => {
    const r = await check('mmap-buffer-dio-overlap', 'gfs2');
    expect(r.verdict).toBe('no-progress');
    expect(r.finding?.summary).toMatch(
      /^no progress after 20001 steps \(livelock\): P0\[0\] at .*, in the gfs2_file_direct_write retry loop \(\d{3,} retries\)/,
    );
    const sites = r.report?.result.trace?.events().map((e) => e.site) ?? [];
    expect(sites).toContain('demote_incompat_holders');
    expect(sites).toContain('gfs2_file_direct_write:retry');
  });

  it('btrfs falls back to buffered I/O after a retry without progress, and the page keeps its own contents', async () => {
    const sc = builtin('mmap-buffer-dio-overlap');
    const run = await runOnce(sc, scheme('btrfs'), new ReplayStrategy([]), { trace: true });
    expect(run.result.outcome.kind).toBe('done');
    expect(run.findings).toEqual([]);
    expect(run.world.history.ops[0].ret).toBe(64);
    const f = fileViews(run.world, 'f');
    for (let p = 0; p < 128; p++) {
      expect(f.direct.cells[p]).toBe(initCell(p));
      expect(f.crashed.cells[p]).toBe(initCell(p));
    }
    const sites = run.result.trace?.events().map((e) => e.site) ?? [];
    expect(sites).toContain('btrfs_direct_write:again');
    expect(sites).toContain('direct_write_fallback');
    const r = await check('mmap-buffer-dio-overlap', 'btrfs');
    expect(r.verdict).toBe('ok');
  });

  it("gfs2-2021 hits add_to_queue's recursive-glock BUG(): its GUP faults into gfs2_fault on the glock it holds", async () => {
    const r = await check('mmap-buffer-dio-overlap', 'gfs2-2021');
    expect(r.verdict).toBe('invariant');
    expect(r.finding?.summary).toContain('recursive glock(f) in add_to_queue');
    expect(r.finding?.summary).toContain('new: gfs2_fault:gfs2_glock_nq(SH) via faultin_page');
  });
});

describe('mmap-buffer-dio-disjoint (seed 000: "if the buffer and direct IO range does not overlap, it will just happily work")', () => {
  for (const name of ['gfs2', 'btrfs']) {
    it(`is ok under ${name}, as an O_DIRECT write`, async () => {
      const r = await check('mmap-buffer-dio-disjoint', name);
      expect(r.verdict).toBe('ok');
      const run = await runOnce(builtin('mmap-buffer-dio-disjoint'), scheme(name), new ReplayStrategy([]), {
        trace: true,
      });
      expect(run.world.history.ops[0].ret).toBe(64);
      const f = fileViews(run.world, 'f');
      for (let p = 0; p < 64; p++) expect(f.direct.cells[p]).toBe(initCell(p + 64));
      const sites = run.result.trace?.events().map((e) => e.site) ?? [];
      expect(sites).not.toContain('direct_write_fallback');
      expect(sites).toContain('iomap_dio_submit_bio');
    });
  }
});
