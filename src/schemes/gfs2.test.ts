/**
 * gfs2 (5.16), gfs2-2021 (the RFC of seed 001) and btrfs (5.16) on the mmap'd-buffer scenarios of
 * seeds 000 and 001: each test asserts the exact finding.
 */
import { describe, expect, it } from 'vitest';
import { initCell } from '../block/data.js';
import { checkScenario } from '../explore/check.js';
import { runOnce } from '../explore/run.js';
import { BlockState } from '../fs/extent.js';
import { parseLitmus } from '../litmus/parse.js';
import { fileViews } from '../litmus/world.js';
import { RandomStrategy, ReplayStrategy } from '../sim/strategy.js';
import type { TraceEvent } from '../sim/trace.js';
import { builtin, scheme } from '../test-support/named.js';

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

/** One run (the first schedule) of a scenario given as litmus text, traced. */
function runText(text: string, name: string) {
  return runOnce(parseLitmus(text), scheme(name), new ReplayStrategy([]), { trace: true });
}

/** Each model event of `site`, with the mode of glock(f) held when it happened ('' if none). */
function underGlock(events: readonly TraceEvent[], site: string): { detail: string; glock: string }[] {
  let mode = '';
  const out: { detail: string; glock: string }[] = [];
  for (const e of events) {
    const m = /^glock\(f\) (EX|SH|DF)$/.exec(e.detail ?? '');
    if (m && e.kind === 'acquire') mode = m[1];
    if (m && e.kind === 'release') mode = '';
    if (e.kind === 'event' && e.site === site) out.push({ detail: e.detail ?? '', glock: mode });
  }
  return out;
}

describe('gfs2_iomap_begin: an O_DIRECT write never allocates under DF (issue 13, item 1)', () => {
  const hole = 'litmus h\npage 64\nfile f 1p hole\nP0: pwrite f 0 32 direct\n';
  for (const name of ['gfs2', 'gfs2-2021']) {
    it(`${name}: a hole answers -ENOTBLK; the write is done buffered, allocating under EX`, async () => {
      const run = await runText(hole, name);
      expect(run.findings).toEqual([]);
      expect(run.world.history.ops[0].ret).toBe(32);
      const events = run.result.trace?.events() ?? [];
      expect(underGlock(events, 'gfs2_iomap_begin')).toEqual([
        { detail: 'f lblk 0 is a hole: -ENOTBLK (buffered under EX)', glock: 'DF' },
      ]);
      expect(underGlock(events, 'iomap_begin:allocate')).toEqual([
        { detail: 'f lblk 0 → pblk 0 (unwritten)', glock: 'EX' },
      ]);
      // No bio under DF: the only write bio is the writeback of generic_write_sync, then
      // invalidate_mapping_pages drops the page.
      expect(underGlock(events, 'submit_bio')).toEqual([{ detail: 'bio#1 write [0,64)', glock: '' }]);
      expect(underGlock(events, 'filemap_remove_folio')).toEqual([
        { detail: 'folio f:0 (invalidate_mapping_pages)', glock: '' },
      ]);
      expect(run.world.inodes.get('f')?.mapping.indicesIn(0, 0)).toEqual([]);
    });
  }
});

describe('__iomap_dio_rw: -ENOTBLK from ->iomap_begin completes what was submitted (issue 13, item 2)', () => {
  const mixed =
    'litmus m\npage 64\nfile f 2p hole\nP0: fallocate f alloc 0 1p\nP0: pwrite f 0 2p direct data=0x5a\n';
  it('gfs2: page 0 is written directly and converted, page 1 (a hole) buffered; 128 bytes returned', async () => {
    const run = await runText(mixed, 'gfs2');
    expect(run.findings).toEqual([]);
    expect(run.world.history.ops.map((o) => o.ret)).toEqual([0, 128]);
    const events = run.result.trace?.events() ?? [];
    expect(underGlock(events, 'submit_bio').map((e) => [e.detail, e.glock])).toEqual([
      ['bio#1 write [0,64)', 'DF'],
      ['bio#2 write [64,128)', ''],
    ]);
    // The first pass stops at the hole with 64 bytes submitted and completes them; the retry under
    // the glock (should_fault_in_pages: progress, bytes left) stops at once with nothing.
    expect(underGlock(events, 'iomap_dio_rw')).toEqual([
      { detail: '->iomap_begin: -ENOTBLK after 64 bytes: stop, complete them', glock: 'DF' },
      { detail: '->iomap_begin: -ENOTBLK after 0 bytes: stop, complete them', glock: 'DF' },
    ]);
    const sites = events.map((e) => e.site);
    expect(sites).toContain('iomap_dio_complete:end_io');
    expect(sites).toContain('kiocb_invalidate_post_direct_write');
    expect(underGlock(events, 'iomap_begin:allocate').map((e) => e.glock)).toEqual(['EX', 'EX']);
    const f = run.world.inodes.get('f');
    // iomap_dio_complete's ->end_io converted the block the DIO wrote, writeback the other.
    expect([f?.extents.state(0), f?.extents.state(1)]).toEqual([BlockState.Written, BlockState.Written]);
    const views = fileViews(run.world, 'f');
    for (let p = 0; p < 128; p++) expect(views.direct.cells[p]).toBe(views.direct.cells[0]);
  });
});

describe('5.16 buffered I/O returns short when the glock was demoted during the fault-in (issue 13, item 4)', () => {
  // The buffer is a shared mapping of the file itself, page 0 mapped by the first op: the pass
  // copies 64 bytes, faults on page 1 (page faults disabled), and the fault-in's request for the
  // file's glock in a conflicting mode demotes the task's own demotable holder.
  const cases = [
    {
      fn: 'gfs2_file_read_iter',
      ops: 'P0: store m 1 data=0x5a\nP0: pread f 1p 2p buf=m\n',
      demote: "glock(f): P0[0]'s SH holder demoted for P0[0]'s EX request",
    },
    {
      fn: 'gfs2_file_buffered_write',
      ops: 'P0: load m 1\nP0: pwrite f 1p 2p buf=m\n',
      demote: "glock(f): P0[0]'s EX holder demoted for P0[0]'s SH request",
    },
  ];
  for (const c of cases) {
    it(`${c.fn}: \`if (written) goto out_uninit;\` — 64 of 128 bytes, no retry`, async () => {
      const run = await runText(
        `litmus s\npage 64\nfile f 3p written\nmap m f 0 3p shared\n${c.ops}`,
        'gfs2',
      );
      expect(run.findings).toEqual([]);
      expect(run.world.history.ops.map((o) => o.ret)).toEqual([0, 64]);
      const events = run.result.trace?.events() ?? [];
      expect(underGlock(events, 'demote_incompat_holders').map((e) => e.detail)).toEqual([c.demote]);
      expect(underGlock(events, c.fn)).toEqual([
        { detail: 'f: glock demoted during the fault-in, 64 bytes done: return them', glock: '' },
      ]);
      expect(events.map((e) => e.site)).not.toContain(`${c.fn}:retry`);
    });
  }
});

describe("gfs2_page_mkwrite in Linux's order (issue 13, item 5)", () => {
  /** The first random schedule (seeds 1..100) of `text` under gfs2 for which `found` holds. */
  async function firstRun(
    text: string,
    found: (events: readonly TraceEvent[], name: (e: TraceEvent) => string) => boolean,
  ) {
    const sc = parseLitmus(text);
    for (let seed = 1; seed <= 100; seed++) {
      const run = await runOnce(sc, scheme('gfs2'), new RandomStrategy(seed), { trace: true });
      const name = (e: TraceEvent) => run.result.tasks[e.task].name;
      if (found(run.result.trace?.events() ?? [], name)) return { run, name };
    }
    return null;
  }

  it('i_size is checked under EX before the page lock: a page truncated since the fault is SIGBUS at once', async () => {
    const text =
      'litmus s\npage 64\nfile f 1p cached\nmap m f 0 1p shared\nP0: store m+8 8 data=0x5a\nP1: truncate f 0\n';
    // The truncate ran between gfs2_fault and gfs2_page_mkwrite.
    const hit = await firstRun(text, (events, name) => {
      const ex = events.findIndex((e) => e.kind === 'acquire' && e.site.startsWith('gfs2_page_mkwrite:'));
      const cut = events.findIndex((e) => e.site === 'truncate' && name(e) === 'P1');
      return ex >= 0 && cut >= 0 && cut < ex;
    });
    expect(hit).not.toBeNull();
    const { run, name } = hit as NonNullable<typeof hit>;
    expect(run.findings).toEqual([]);
    expect(run.world.history.ops.map((o) => o.ret)).toEqual([-14, 0]);
    const p0 = (run.result.trace?.events() ?? []).filter((e) => e.kind === 'acquire' && name(e) === 'P0');
    // VM_FAULT_SIGBUS without the page lock and without a second fault (no VM_FAULT_NOPAGE retry).
    expect(p0.map((e) => e.site)).toEqual([
      'do_user_addr_fault:mmap_lock',
      'gfs2_fault:gfs2_glock_nq(SH) via do_user_addr_fault',
      'filemap_fault:folio_lock',
      'gfs2_page_mkwrite:gfs2_glock_nq(EX) via do_user_addr_fault',
    ]);
  });

  it('the page is dirtied after gfs2_glock_dq: an O_DIRECT writer finds it clean, then dirty (-EBUSY → -ENOTBLK → buffered)', async () => {
    const text =
      'litmus w\npage 64\nfile f 1p cached\nmap m f 0 1p shared\nP0: store m+8 8 data=0x5a\nP1: pwrite f 0 1p direct data=0xab\n';
    const hit = await firstRun(text, (events) =>
      events.some(
        (e) => e.site === 'iomap_dio_rw' && (e.detail ?? '').startsWith('pre-write invalidation failed'),
      ),
    );
    expect(hit).not.toBeNull();
    const { run, name } = hit as NonNullable<typeof hit>;
    expect(run.findings).toEqual([]);
    expect(run.world.history.ops.map((o) => o.ret)).toEqual([0, 64]);
    const seq = (run.result.trace?.events() ?? [])
      .filter((e) => e.kind !== 'point')
      .map((e) => `${name(e)} ${e.kind} ${e.site} ${e.detail ?? ''}`.trim());
    // Each step at or after the one before it.
    let from = 0;
    const at = (s: string) => {
      const k = seq.indexOf(s, from);
      from = k + 1;
      return k;
    };
    const order = [
      'P0 acquire gfs2_page_mkwrite:lock_page folio f:0 excl',
      'P0 release gfs2_glock_dq glock(f) EX',
      'P1 acquire gfs2_file_direct_write:gfs2_glock_nq(DF) glock(f) DF',
      'P0 event folio_mark_dirty folio f:0',
      'P0 release folio_unlock folio f:0 excl',
      'P1 acquire invalidate_inode_pages2_range:folio_lock folio f:0 excl',
      'P1 event invalidate_complete_folio2 folio f:0 is dirty: -EBUSY',
      'P1 event iomap_dio_rw pre-write invalidation failed: -ENOTBLK (fall back to buffered)',
      'P1 event gfs2_file_write_iter f [0,64) buffered',
    ].map(at);
    expect(order.every((k) => k >= 0)).toBe(true);
    const f = fileViews(run.world, 'f');
    for (let p = 0; p < 64; p++) expect(f.direct.cells[p]).toBe(f.direct.cells[0]);
  });
});

describe('5.16 has the window clamp of gfs2_file_buffered_write (issue 13, item 11)', () => {
  // 554c577cee95 "gfs2: Prevent endless loops in gfs2_file_buffered_write" (pulled for v5.16-rc2):
  // after a fault-in, `from->count = min(from->count, window_size - leftover)`. The buffer maps
  // pages 0 and 2 of g, not page 1: the pass after faulting in page 1 writes that page only, and a
  // third pass (after a fault-in of the present page 2) writes the last one.
  const text =
    'litmus c\npage 64\nfile f 3p written\nfile g 3p written\nmap m g 0 3p shared\n' +
    'P0: load m 1\nP0: load m+2p 1\nP0: pwrite f 0 3p buf=m\n';
  it('gfs2: three passes, two retries; 192 bytes', async () => {
    const run = await runText(text, 'gfs2');
    expect(run.findings).toEqual([]);
    expect(run.world.history.ops.map((o) => o.ret)).toEqual([0, 0, 192]);
    const sites = (run.result.trace?.events() ?? []).map((e) => e.site);
    expect(sites.filter((s) => s === 'gfs2_file_buffered_write:retry')).toHaveLength(2);
    expect(sites.filter((s) => s === 'gfs2_holder_allow_demote')).toHaveLength(2);
  });
});
