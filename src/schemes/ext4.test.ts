/**
 * ext4 + jbd2 against seed 002: writeback of a DMA-pinned page under the four policies. Each test
 * asserts the exact finding (or its absence) the policy must give on `pinned-page-fsync`.
 */
import { describe, expect, it } from 'vitest';
import { checkScenario } from '../explore/check.js';
import { runOnce } from '../explore/run.js';
import { RandomStrategy } from '../sim/strategy.js';
import { builtin, scheme } from '../test-support/named.js';

const PINNED = 'pinned-page-fsync';
const check = (name: string, schedules = 300) =>
  checkScenario(builtin(PINNED), scheme(name), { schedules, seed: 1, scenarioRef: PINNED });

describe('seed 002: writeback of a DMA-pinned page (pinned-page-fsync)', () => {
  it('ext4-pin-block deadlocks: writeback waits for the pin, the DIO for the commit, the commit for the handle', async () => {
    const r = await check('ext4-pin-block');
    expect(r.verdict).toBe('deadlock');
    const text = [r.finding?.summary ?? '', ...(r.finding?.details ?? [])].join('\n');
    expect(text).toMatch(
      /cycle: .*P0.*kjournald2.*P1|cycle: .*P1.*P0.*kjournald2|cycle: .*kjournald2.*P1.*P0/,
    );
    expect(text).toMatch(
      /P1\[\d+\] waits for pins of folio g:0 \[folio_pin\] at mpage_submit_page:clear_page_dirty_for_io.*held by P0/,
    );
    expect(text).toMatch(
      /P0\[\d+\] waits for transaction commit 1 \[jbd2_transaction_commit\] at start_this_handle:wait_transaction_locked, held by kjournald2/,
    );
    expect(text).toMatch(
      /kjournald2:1\[\d+\] waits for jbd2 handle of transaction 1 \[jbd2_handle\] at jbd2_journal_commit_transaction:jbd2_journal_wait_updates, held by P1/,
    );
    expect(text).toMatch(
      /P1\[\d+\] holds jbd2 handle of transaction 1 \(handle\) taken at ext4_writepages:ext4_journal_start_with_reserve/,
    );
    expect(text).toMatch(/P1\[\d+\] holds folio g:0/);
    expect(text).toMatch(/kjournald2:1\[\d+\] holds transaction commit 1 \(T_LOCKED\)/);
  });

  it('ext4-pin-skip lies: fsync returns 0 and the store it covered is not on disk', async () => {
    const r = await check('ext4-pin-skip');
    expect(r.verdict).toBe('durability');
    expect(r.finding?.bytes).toEqual({ region: 'g', start: 0, end: 8 });
    expect(r.finding?.summary).toBe(
      "after P1's `fsync g` returned 0 and the machine crashed, bytes [0,8) of g hold zeroes",
    );
    expect(r.finding?.details).toEqual(["fsync promised P1's `store m+0 8`"]);
  });

  it('ext4-pin-fail: fsync reports EIO when the page is pinned, and no finding', async () => {
    const r = await check('ext4-pin-fail');
    expect(r.verdict).toBe('ok');
    // Some schedule meets the pin: the application is told (the oracle trusts only fsyncs returning 0).
    let told = false;
    for (let seed = 1; seed <= 60 && !told; seed++) {
      const run = await runOnce(builtin(PINNED), scheme('ext4-pin-fail'), new RandomStrategy(seed));
      const fsync = run.world.history.ops.find((o) => o.label === 'fsync g');
      if (fsync?.ret === -5) {
        told = true;
        expect(run.findings).toEqual([]);
      }
    }
    expect(told).toBe(true);
  });

  it('ext4-pin-bounce writes a stable copy: no deadlock, no lie, no error', async () => {
    const r = await check('ext4-pin-bounce');
    expect(r.verdict).toBe('ok');
    expect(r.schedules).toBe(300);
  });

  it('schemes that write the pinned page as is (Linux today) give no finding for a DIO write from it', async () => {
    for (const name of ['invalidate_lock', 'xfs']) expect((await check(name, 200)).verdict).toBe('ok');
  });
});

describe('the ext4 schemes on the other built-in scenarios', () => {
  const cases: [string, string][] = [
    ['punch-vs-fault', 'ok'],
    ['collapse-vs-fault', 'ok'],
    ['dio-write-vs-mmap-load', 'ok'],
    ['dio-write-vs-mmap-store', 'lost-write'],
  ];
  for (const [sc, verdict] of cases) {
    it(`${sc} under ext4-pin-block is ${verdict}, as under invalidate_lock`, async () => {
      const r = await checkScenario(builtin(sc), scheme('ext4-pin-block'), {
        schedules: 200,
        seed: 1,
        scenarioRef: sc,
      });
      expect(r.verdict).toBe(verdict);
    });
  }
});
