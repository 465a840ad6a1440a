/**
 * Our scheme and Chinner's range locks against the seed races: each test asserts the exact
 * verdict, and, where a historical scheme fails the same scenario, the failure too.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkScenario } from '../explore/check.js';
import { parseReplayString, replaySchedule, runOnce } from '../explore/run.js';
import { measureScalability } from '../explore/scalability.js';
import type { Scenario } from '../litmus/ast.js';
import { parseLitmus } from '../litmus/parse.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { builtin, scheme } from '../test-support/named.js';
import { makePagelab } from './pagelab.js';
import type { Scheme } from './scheme.js';

const SEED_RACES = [
  'dio-write-vs-mmap-store',
  'dio-write-vs-mmap-load',
  'dio-write-vs-buffered-read',
  'punch-vs-fault',
  'collapse-vs-fault',
  'insert-vs-fault',
];

describe('pagelab and rangelock close the refault races of seed 004', () => {
  for (const name of ['pagelab', 'rangelock']) {
    for (const sc of SEED_RACES) {
      it(`${sc} is ok under ${name}`, async () => {
        const r = await checkScenario(builtin(sc), scheme(name), {
          schedules: 600,
          seed: 11,
          scenarioRef: sc,
        });
        expect(r.verdict).toBe('ok');
        expect(r.schedules).toBe(600);
      });
    }
  }

  it('the same schedule budget finds the lost write under xfs (the control)', async () => {
    const r = await checkScenario(builtin('dio-write-vs-mmap-store'), scheme('xfs'), {
      schedules: 600,
      seed: 11,
      scenarioRef: 'x',
    });
    expect(r.verdict).toBe('lost-write');
  });
});

describe('O_DIRECT from a mapping of the very range it writes (seeds 000, 004)', () => {
  const overlap = parseLitmus(`
litmus overlap
page 64
file f 2p written
map m f 0 2p shared
P0: pwrite f 64 64 direct buf=m+64
`);
  const result = async (name: string) => {
    const run = await runOnce(overlap, scheme(name), new ReplayStrategy([]));
    expect(run.result.outcome.kind).toBe('done');
    expect(run.findings).toEqual([]);
    return run.world.history.ops[0].ret;
  };

  it('pagelab falls back to buffered I/O and completes the write', async () => {
    expect(await result('pagelab')).toBe(64);
  });

  it('pagelab-edeadlk and rangelock refuse it with EDEADLK (Chinner)', async () => {
    expect(await result('pagelab-edeadlk')).toBe(-35);
    expect(await result('rangelock')).toBe(-35);
  });

  it('pagelab-edeadlk: a refusal after a page was written is a short write, not EDEADLK', async () => {
    // Pages 2-3 from pages 1-2: page 1 is outside the blocked range, page 2 inside it.
    const straddle = parseLitmus(`
litmus straddle
page 64
file f 4p written
map m f 0 4p shared
P0: pwrite f 2p 2p direct buf=m+1p
`);
    const run = await runOnce(straddle, scheme('pagelab-edeadlk'), new ReplayStrategy([]));
    expect(run.world.history.ops.map((o) => o.ret)).toEqual([64]);
    expect(run.findings).toEqual([]);
  });

  it('a buffer mapping another range of the same file is no conflict', async () => {
    const disjoint = parseLitmus(`
litmus disjoint
page 64
file f 2p written
map m f 0 2p shared
P0: pwrite f 64 64 direct buf=m+0
`);
    const run = await runOnce(disjoint, scheme('pagelab-edeadlk'), new ReplayStrategy([]));
    expect(run.world.history.ops[0].ret).toBe(64);
    expect(run.findings).toEqual([]);
  });
});

describe('crossed O_DIRECT buffers: a cycle through two tasks (issue 14)', () => {
  const CROSSED = ['dio-buffers-crossed-files', 'dio-buffers-crossed-pages'];
  // pagelab before issue 14: the lock context refused a wait for itself only.
  const before = makePagelab('pagelab-before-14', '', 'buffered', false);
  const beforeEdeadlk = makePagelab('pagelab-edeadlk-before-14', '', 'edeadlk', false);
  // P0 takes "block" and faults; P1 takes "block" and faults: each waits for the other's "add".
  const CROSS = parseReplayString('x:y:0*9.1*10').schedule;

  for (const sc of CROSSED) {
    for (const broken of [before, beforeEdeadlk, scheme('rangelock')]) {
      it(`${sc} deadlocks under ${broken.name} (a lock context sees only itself)`, async () => {
        const r = await checkScenario(builtin(sc), broken, { schedules: 50, seed: 1, scenarioRef: sc });
        expect(r.verdict).toBe('deadlock');
        expect(r.schedules).toBe(1);
      });
    }
    for (const name of ['pagelab', 'pagelab-edeadlk']) {
      it(`${sc} is ok under ${name} in every schedule with at most 2 preemptions`, async () => {
        const r = await checkScenario(builtin(sc), scheme(name), {
          schedules: 100_000,
          seed: 1,
          scenarioRef: sc,
          strategy: 'dfs',
          preemptions: 2,
        });
        expect(r.verdict).toBe('ok');
        expect(r.coverage.complete).toBe(true);
      });
    }
  }

  const crossing = async (sc: string, name: string) => {
    const run = await replaySchedule(builtin(sc), scheme(name), CROSS);
    expect(run.result.outcome.kind).toBe('done');
    expect(run.findings).toEqual([]);
    const refusals = (run.result.trace?.events() ?? []).filter((e) => e.detail?.startsWith('EDEADLK'));
    return { rets: run.world.history.ops.map((o) => o.ret), refusals: refusals.map((e) => e.detail) };
  };

  it('the wait that closes the cycle is refused; that write falls back to buffered I/O', async () => {
    expect(await crossing('dio-buffers-crossed-files', 'pagelab')).toEqual({
      rets: [64, 64],
      refusals: [
        "EDEADLK: pagecache_lock(b) add [0,64) would wait for a range through P1[1]'s wait for pagecache_lock(a) add [0,64) held by its own lock context",
      ],
    });
    expect((await crossing('dio-buffers-crossed-pages', 'pagelab')).rets).toEqual([64, 64]);
  });

  it('pagelab-edeadlk returns EDEADLK to the write that would close the cycle, the other completes', async () => {
    expect((await crossing('dio-buffers-crossed-files', 'pagelab-edeadlk')).rets).toEqual([-35, 64]);
    expect((await crossing('dio-buffers-crossed-pages', 'pagelab-edeadlk')).rets).toEqual([-35, 64]);
  });

  it('a fault that only waits (no cycle) is not refused', async () => {
    const oneWay = parseLitmus(`
litmus one-way
page 64
file a 1p written
file b 1p written
map mb b 0 1p shared
P0: pwrite a 0 1p direct buf=mb
P1: pwrite b 0 1p direct
`);
    const r = await checkScenario(oneWay, scheme('pagelab-edeadlk'), {
      schedules: 100_000,
      seed: 1,
      scenarioRef: 'one-way',
      strategy: 'dfs',
    });
    expect(r.verdict).toBe('ok');
    expect(r.coverage.complete).toBe(true);
    for (const sched of [[], CROSS]) {
      const run = await replaySchedule(oneWay, scheme('pagelab-edeadlk'), sched);
      expect(run.world.history.ops.map((o) => o.ret)).toEqual([64, 64]);
    }
  });
});

describe('scalability: O_DIRECT writers to disjoint ranges (race 8)', () => {
  it('pagelab reaches at least 0.9 × linear speedup at 8 writers; exclusive i_rwsem stays at 1×', async () => {
    const ours = await measureScalability(scheme('pagelab'));
    const old = await measureScalability(scheme('vfs2019'));
    const at8 = (rows: { writers: number; speedup: number }[]) =>
      rows.find((r) => r.writers === 8)?.speedup ?? 0;
    expect(at8(ours)).toBeGreaterThanOrEqual(0.9 * 8);
    expect(at8(old)).toBeLessThan(1.2);
  });
});

describe('an O_DIRECT write never drops a folio an O_DIRECT read has pinned (issue 14, campaign 26400)', () => {
  // Not a built-in yet: `--preemptions all` (20,000 schedules) answers ok under xfs and ext4 where
  // the DFS with ≤ 1 preemption finds the lost-write (stateful.test.ts, "finds every seed race").
  const file = join(
    dirname(fileURLToPath(import.meta.url)),
    '..',
    '..',
    'docs',
    'examples',
    'dio-read-pinned-vs-dio-write.litmus',
  );
  const scenario = parseLitmus(
    readFileSync(file, 'utf8'),
    'docs/examples/dio-read-pinned-vs-dio-write.litmus',
  );
  const sc = scenario.name;
  // P0's read pins f's page 1 and waits for its bio; P1's write invalidates the range.
  const FOUND = parseReplayString('x:y:0*9.2.0*3.1*4.4.1*9.3.0').schedule;

  it('xfs drops it: the read lands in a removed folio, lost-write', async () => {
    const run = await replaySchedule(
      scenario,
      scheme('xfs'),
      parseReplayString('x:y:0*9.1.2.0*3.1*3.4.1*5.3.0').schedule,
    );
    expect(run.findings.map((f) => f.kind)).toEqual(['lost-write']);
  });

  it('pagelab finds it busy and falls back to buffered: ok in that schedule and in every one with ≤ 2 preemptions', async () => {
    const run = await replaySchedule(scenario, scheme('pagelab'), FOUND);
    expect(run.findings).toEqual([]);
    const events = (run.result.trace?.events() ?? []).map((e) => e.detail ?? '');
    expect(events.some((d) => /f:1 is pinned: -EBUSY/.test(d))).toBe(true);
    for (const name of ['pagelab', 'pagelab-edeadlk']) {
      const r = await checkScenario(scenario, scheme(name), {
        schedules: 100_000,
        seed: 1,
        scenarioRef: sc,
        strategy: 'dfs',
        preemptions: 2,
      });
      expect({ name, verdict: r.verdict, complete: r.coverage.complete }).toEqual({
        name,
        verdict: 'ok',
        complete: true,
      });
    }
  });
});

describe('truncate and fallocate wait for DMA pins before they drop the page cache (campaign 31216, 93888)', () => {
  // pagelab before the fix: truncate_inode_pages_range removed a folio an O_DIRECT read had pinned.
  const beforePins = makePagelab('pagelab-before-pins', '', 'buffered', true, false);
  // Campaign 93888: the same race through collapse, block < page.
  const collapse = parseLitmus(`
litmus campaign-93888
page 64
block 16
file f 2p written
file g 2p written
map sf1 f 1p 1p shared
P0: fallocate f collapse 16 16
P1: pread g 120 16 direct buf=sf1
`);
  // The O_DIRECT read's buffer spans two pages of the collapsed range: GUP pins the first, then
  // faults the second in, which needs "add" under the collapse's "block".
  const spans = parseLitmus(`
litmus pinned-buffer-spans-collapse
page 64
file f 3p written
file g 2p written
map sf f 0 2p shared
P0: fallocate f collapse 0 64
P1: pread g 0 128 direct buf=sf
`);
  const dfs = (sc: Scenario, s: Scheme) =>
    checkScenario(sc, s, {
      schedules: 100_000,
      seed: 1,
      scenarioRef: sc.name,
      strategy: 'dfs',
      preemptions: 2,
    });

  for (const [sc, summary] of [
    [
      builtin('insert-vs-pinned-dio-read'),
      "bytes [0,16) of f hold zeroes after everything settled; the closest legal order leaves f's initial contents at offset 56 (or g's at 56), moved to offset 0 of f by an op there",
    ],
    [
      collapse,
      "bytes [48,56) of f hold f's initial contents at offset 64 (or g's at 64), moved to offset 48 of f by an op after everything settled; the closest legal order leaves f's initial contents at offset 120 (or g's at 120), moved to offset 48 of f by an op there",
    ],
  ] as const) {
    it(`${sc.name}: lost-write before the fix, ok with it`, async () => {
      const broken = await dfs(sc, beforePins);
      expect(broken.verdict).toBe('lost-write');
      expect(broken.findings.map((f) => f.summary)).toEqual([summary]);
      for (const name of ['pagelab', 'pagelab-edeadlk']) {
        const r = await dfs(sc, scheme(name));
        expect(r.verdict).toBe('ok');
        expect(r.coverage.complete).toBe(true);
      }
    });
  }

  it('a pin held while the same GUP faults the next page: the collapse drops "block", waits, retries', async () => {
    // P1 pins f:0 and faults f:1 in; P0's collapse takes "block", finds f:0 pinned, lets go.
    const run = await replaySchedule(
      spans,
      scheme('pagelab'),
      parseReplayString('x:y:1*9.2.1*3.0.1.5.6').schedule,
    );
    expect(run.result.outcome.kind).toBe('done');
    expect(run.findings).toEqual([]);
    const events = (run.result.trace?.events() ?? []).map((e) => `${e.site} ${e.detail ?? ''}`);
    const drop = events.findIndex((e) =>
      e.includes('folio f:0 pinned (pin=1): drop "block", wait for unpin, retry'),
    );
    const addNext = events.findIndex((e) => e.startsWith('filemap_add_folio folio f:1'));
    const removed = events.findIndex((e) => e.startsWith('filemap_remove_folio folio f:0'));
    expect([drop >= 0, drop < addNext, addNext < removed]).toEqual([true, true, true]);
    expect(run.world.history.ops.map((o) => o.ret).sort()).toEqual([0, 128]);
    for (const name of ['pagelab', 'pagelab-edeadlk']) {
      const r = await dfs(spans, scheme(name));
      expect(r.verdict).toBe('ok');
      expect(r.coverage.complete).toBe(true);
    }
  });
});
