/**
 * GFS2 across nodes (issue 19, docs/cluster.md): the DLM's tables, the order of a callback (the
 * holder node's go_sync and go_inval before the requester's grant), the verdicts of the two-nodes
 * scenarios, what breaks without go_inval, and the fairness measure across nodes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinScenarios, SCENARIO_DIR } from '../../explore/builtin.js';
import { checkScenario } from '../../explore/check.js';
import { measureMatrix } from '../../explore/matrix.js';
import { faultStormScenario, measureFairness } from '../../explore/measures.js';
import { parseReplayString, replaySchedule, runOnce } from '../../explore/run.js';
import type { Scenario } from '../../litmus/ast.js';
import { formatScenario, parseLitmus } from '../../litmus/parse.js';
import { gfs2, gfs2NoDfRead } from '../../schemes/gfs2.js';
import type { Scheme } from '../../schemes/scheme.js';
import { xfs } from '../../schemes/xfs.js';
import { RandomStrategy } from '../../sim/strategy.js';
import type { GlockCluster } from './cluster.js';
import { bastTarget, DLM_MODE, dlmCompatible, downConversion, type LmState } from './dlm.js';
import type { Glock } from './glock.js';

const STATES: LmState[] = ['UN', 'SH', 'DF', 'EX'];

function builtin(name: string): Scenario {
  return builtinScenarios().find((s) => s.name === name) as Scenario;
}

describe('the DLM (lock_dlm.c, fs/dlm/lock.c)', () => {
  it('make_mode and the compatibility of the modes gfs2 uses', () => {
    expect(STATES.map((s) => DLM_MODE[s])).toEqual(['NL', 'PR', 'CW', 'EX']);
    const table = STATES.map((a) => STATES.map((b) => (dlmCompatible(a, b) ? 1 : 0)).join(''));
    // rows/columns UN SH DF EX: NL with all; PR with NL, PR; CW with NL, CW; EX with NL.
    expect(table).toEqual(['1111', '1100', '1010', '1000']);
  });

  it('gdlm_bast: the state the holder drops to; down_conversion: PR and CW unordered', () => {
    expect(STATES.map(bastTarget)).toEqual(['UN', 'SH', 'DF', 'UN']);
    const down = STATES.flatMap((a) => STATES.filter((b) => downConversion(a, b)).map((b) => `${a}→${b}`));
    expect(down).toEqual(['SH→UN', 'DF→UN', 'EX→UN', 'EX→SH', 'EX→DF']);
  });
});

/** The (task, site) of each event of one run, with the detail for the sites the test looks at. */
async function events(sc: Scenario, scheme: Scheme, seed: number): Promise<string[]> {
  const run = await runOnce(sc, scheme, new RandomStrategy(seed), { trace: true });
  const names = run.result.tasks.map((t) => t.name);
  return (run.result.trace?.events() ?? []).map((e) => `${names[e.task]} ${e.site} ${e.detail ?? ''}`);
}

describe('a callback, in the kernel’s order (two-nodes-dirty-vs-dio-read under gfs2)', () => {
  it('A’s go_sync writes the page back, go_inval drops it, then B is granted DF, then B reads', async () => {
    const sc = builtin('two-nodes-dirty-vs-dio-read');
    let called = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const ev = await events(sc, gfs2, seed);
      const at = (re: RegExp) => ev.findIndex((e) => re.test(e));
      const cb = at(/^glock_wq@B gfs2_glock_cb glock\(f\)@A: demote to DF \(holding EX\)/);
      if (cb < 0) continue; // B asked first: A's EX then waits for B's DF instead
      called++;
      const order = [
        cb,
        at(/^glock_wq@A inode_go_sync glock\(f\)@A: filemap_fdatawrite/),
        at(/^irq:bio#\d+ bio_endio bio#\d+ write/),
        at(/^glock_wq@A inode_go_inval f@A/),
        at(/^glock_wq@A gdlm_lock dlm\(f\): node A EX → CW/),
        at(/^glock_wq@B gdlm_ast dlm\(f\): node B granted CW/),
        at(/^P1 submit_bio bio#\d+ read/),
      ];
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((x, y) => x - y)).toEqual(order);
    }
    expect(called).toBeGreaterThan(0);
  });
});

describe('gfs2_glock_cb with only weak holders (5.16: the mock holder)', () => {
  it('dequeues the holder that allowed demotion during its fault-in; the holder re-acquires', async () => {
    const sc = parseLitmus(
      [
        'litmus two-nodes-weak-holder',
        'page 64',
        'file f 1p written',
        'file g 1p written',
        'map mg g 0 1p shared',
        'P0: pwrite f 0 64',
        'P1: pread f 0 64 direct buf=mg+0',
        'node A: P0',
        'node B: P1',
      ].join('\n'),
      'x',
    );
    const ev = await events(sc, gfs2, 25);
    const at = (re: RegExp) => ev.findIndex((e) => re.test(e));
    const demoted = at(
      /demote_incompat_holders glock\(f\)@B: P1\[\d+\]'s DF holder demoted for a remote EX request/,
    );
    const again = at(/^P1 gfs2_file_direct_read:gfs2_glock_nq\(DF\) \(retry\)/);
    expect([demoted >= 0, again > demoted]).toEqual([true, true]);
    const r = await checkScenario(sc, gfs2, { seed: 1, schedules: 300, scenarioRef: 'x' });
    expect(r.verdict).toBe('ok');
  });
});

describe('option dlm-latency', () => {
  it('is a round trip: B’s read ends 1.5 round trips later per round trip (request, then A’s bast and conversion)', async () => {
    const sc = builtin('two-nodes-dirty-vs-dio-read');
    const { schedule } = parseReplayString('x:gfs2:0.2.0*3');
    const ends: number[] = [];
    for (const latency of [0, 20, 40]) {
      const text = (sc.text as string).replace('page 64\n', `page 64\noption dlm-latency=${latency}\n`);
      const run = await replaySchedule(parseLitmus(text, 'x'), gfs2, schedule);
      ends.push(run.result.tasks.find((t) => t.name === 'P1')?.time ?? -1);
    }
    // 1 + L/2 (the bast) + 21 (A's writeback bio) + 1 + L (A's conversion) + 24 (B's read bio).
    expect(ends).toEqual([47, 77, 107]);
  });
});

/** Every built-in scenario with nodes. */
const CLUSTER = builtinScenarios().filter((s) => s.nodes);

describe('the two-nodes scenarios', () => {
  it('are the four of issue 19 and the buffered pair, each with its expect', () => {
    expect(CLUSTER.map((s) => [s.name, s.expect])).toEqual([
      ['two-nodes-dirty-vs-dio-read', 'stale-read'],
      ['two-nodes-fault-storm-vs-dio', 'ok'],
      ['two-nodes-mmap-store-vs-dio-write', 'ok'],
      ['two-nodes-punch-vs-fault', 'ok'],
      ['two-nodes-write-vs-read', 'ok'],
    ]);
  });

  it('gfs2: ok; gfs2-nodf-read: the stale read of seed 001 only', async () => {
    const verdicts: string[] = [];
    for (const sc of CLUSTER) {
      for (const scheme of [gfs2, gfs2NoDfRead]) {
        const r = await checkScenario(sc, scheme, { seed: 1, schedules: 300, scenarioRef: sc.name });
        verdicts.push(`${sc.name} ${scheme.name} ${r.verdict}`);
      }
    }
    expect(verdicts).toEqual([
      'two-nodes-dirty-vs-dio-read gfs2 ok',
      'two-nodes-dirty-vs-dio-read gfs2-nodf-read stale-read',
      'two-nodes-fault-storm-vs-dio gfs2 ok',
      'two-nodes-fault-storm-vs-dio gfs2-nodf-read ok',
      'two-nodes-mmap-store-vs-dio-write gfs2 ok',
      'two-nodes-mmap-store-vs-dio-write gfs2-nodf-read ok',
      'two-nodes-punch-vs-fault gfs2 ok',
      'two-nodes-punch-vs-fault gfs2-nodf-read ok',
      'two-nodes-write-vs-read gfs2 ok',
      'two-nodes-write-vs-read gfs2-nodf-read ok',
    ]);
  });

  it('the storm scenario is faultStormText(8) across nodes', () => {
    const file = readFileSync(join(SCENARIO_DIR, 'two-nodes-fault-storm-vs-dio.litmus'), 'utf8');
    expect(formatScenario(parseLitmus(file, 'f'))).toBe(formatScenario(faultStormScenario(8, 0, true)));
  });
});

/** gfs2 with the inode glock's go_sync or go_inval doing nothing: what each is for. */
function without(op: 'goSync' | 'goInval'): Scheme {
  return {
    ...gfs2,
    name: `gfs2-no-${op}`,
    setupInode(inode) {
      gfs2.setupInode(inode);
      const remote = (inode.fsPrivate.get('glock') as Glock).remote as GlockCluster;
      (remote as { glops: GlockCluster['glops'] }).glops = { ...remote.glops, [op]: async () => {} };
    },
  };
}

describe('without go_sync or go_inval', () => {
  it.each([
    [
      'goSync',
      'two-nodes-dirty-vs-dio-read',
      'lost-write',
      "bytes [0,64) of f hold f's initial contents at offset 0 after everything settled; the closest legal order leaves P0's `pwrite f 0 64` there",
    ],
    [
      'goSync',
      'two-nodes-write-vs-read',
      'incoherent',
      'with nothing in flight, a buffered read on node A and a buffered read on node B of f disagree on bytes [0,64)',
    ],
    [
      'goInval',
      'two-nodes-punch-vs-fault',
      'stale-read',
      "P1's `load m+0 8` read bytes [0,8) of f as f's initial contents at offset 0",
    ],
    [
      'goInval',
      'two-nodes-write-vs-read',
      'incoherent',
      'with nothing in flight, a buffered read on node A and a buffered read on node B of f disagree on bytes [0,64)',
    ],
    [
      'goInval',
      'two-nodes-mmap-store-vs-dio-write',
      'lost-write',
      "bytes [8,64) of f hold f's initial contents at offset 8 after everything settled; the closest legal order leaves P1's `pwrite f 0 64 direct` there",
    ],
  ] as const)('%s off: %s is %s', async (op, name, verdict, summary) => {
    const r = await checkScenario(builtin(name), without(op), { seed: 1, schedules: 500, scenarioRef: name });
    expect([r.verdict, r.finding?.summary]).toEqual([verdict, summary]);
  });
});

describe('the window in gfs2_page_mkwrite (gfs2_glock_dq before folio_mark_dirty; docs/cluster.md)', () => {
  // A's store against B's O_DIRECT write of the other half of the page. `first` runs on A first.
  const window = (first: string) =>
    parseLitmus(
      [
        'litmus two-nodes-mkwrite-window',
        'page 64',
        'file f 1p written',
        'map m f 0 1p shared',
        `P0: ${first}store m+0 8`,
        'P1: pwrite f 32 32 direct',
        'node A: P0',
        'node B: P1',
      ].join('\n'),
      '<window>',
    );
  const dfs = async (sc: Scenario) => {
    const r = await checkScenario(sc, gfs2, {
      schedules: 100_000,
      seed: 1,
      scenarioRef: sc.name,
      strategy: 'dfs',
      preemptions: 1,
    });
    return [r.verdict, r.coverage.complete];
  };

  it('do_shared_fault (no PTE): the demotion finds the page clean, truncates it dirty: the store is lost', async () => {
    // finish_fault re-checks only pte_none, which go_sync's unmap leaves true.
    expect(await dfs(window(''))).toEqual(['lost-write', false]);
  });

  it('wp_page_shared (a read-only PTE): go_sync zaps it, finish_mkwrite_fault sees !pte_same, the store refaults', async () => {
    expect(await dfs(window('load m+0 8; '))).toEqual(['ok', true]);
  });
});

describe('fairness across nodes (seed 000 on two nodes)', () => {
  it('the O_DIRECT writer on B waits as long whatever the length of A’s storm, DLM round trips included', async () => {
    const waits: (number | null)[] = [];
    for (const storm of [4, 8, 16, 32])
      waits.push((await measureFairness(gfs2, storm, 0, true)).dio_wait_max);
    const oneNode = (await measureFairness(gfs2, 8)).dio_wait_max;
    // Bounded by run_queue's pending demotion admitting no new SH holder: granting them instead
    // (do_promote while GLF_DEMOTE waits for the holders) gives 134, 250, 482, 946.
    expect([waits, oneNode]).toEqual([[47, 47, 47, 47], 20]);
  });

  it('is a measure of the matrix (`fairness_nodes`), for the cluster schemes only', async () => {
    const m = await measureMatrix({
      schedules: 10,
      seed: 1,
      jobs: 1,
      scenarios: [builtin('two-nodes-write-vs-read')],
      schemes: [gfs2, gfs2NoDfRead, xfs],
    });
    const row = (scheme: string, storm: number) => ({ scheme, storm, dio_wait_max: 47 });
    // gfs2-nodf-read drops the glock from O_DIRECT reads only: the storm's write still takes DF.
    expect(m.measures.fairness_nodes).toEqual(
      ['gfs2', 'gfs2-nodf-read'].flatMap((s) => [4, 8, 16, 32].map((storm) => row(s, storm))),
    );
    // On one node gfs2-nodf-read is n/a; the one-node rows are unchanged.
    expect(m.measures.fairness.map((r) => r.scheme)).toEqual([
      ...Array(4).fill('gfs2'),
      ...Array(4).fill('xfs'),
    ]);
  });
});
