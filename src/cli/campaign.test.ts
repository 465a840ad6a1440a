/**
 * `pagelab campaign` as a user's script runs it (the built bin; npm test builds first): shards
 * merged give byte for byte the summary of one run, whatever --jobs; bad input is one line, exit 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pagelab.js');

function pagelab(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: '1' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Programs 41655..41658 of the default space: an O_DIRECT write of f's page 0 against a load or a
 * store through a mapping of f (block = page); 41657 (the store through MAP_SHARED of page 0) is
 * seed 004's lost write under vfs2019.
 */
const SLICE = ['--programs', '41655-41659', '--scheme', 'vfs2019,xfs,pagelab'];

describe('pagelab campaign --shard and merge', () => {
  it('merging --shard 0/2 and 1/2 gives the single run summary byte for byte, text and JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaign-'));
    const whole = pagelab('campaign', ...SLICE, '--json', '--jobs', '2');
    // Nothing on stderr but heartbeat lines (how many depends on the clock).
    for (const line of whole.stderr.split('\n').filter((l) => l !== ''))
      expect(line).toMatch(/^campaign: \d+\/12 cells, \d+ findings, \d+ s$/);
    const shards = [0, 1].map((i) => {
      const r = pagelab('campaign', ...SLICE, '--json', '--jobs', '1', '--shard', `${i}/2`);
      const file = join(dir, `shard-${i}.jsonl`);
      writeFileSync(file, r.stdout);
      return { r, file };
    });
    const lines = whole.stdout.trim().split('\n');
    const summaryLine = lines[lines.length - 1];
    expect(JSON.parse(summaryLine)).toMatchObject({
      type: 'summary',
      space: 'exhaustive 2x1',
      space_size: 117968,
      programs: 4,
    });
    expect(whole.code).toBe(1);
    const vfs = JSON.parse(summaryLine).schemes[0];
    expect(vfs).toMatchObject({ scheme: 'vfs2019', programs: 4 });
    expect(vfs.findings['lost-write']).toBeGreaterThan(0);
    const merged = pagelab('campaign', 'merge', '--json', shards[1].file, shards[0].file);
    expect(merged.stdout).toBe(`${summaryLine}\n`);
    expect(merged.code).toBe(whole.code);
    // The records too: the shards hold exactly the single run's, whatever --jobs ran them.
    const records = (out: string) =>
      out
        .trim()
        .split('\n')
        .filter((l) => l.includes('"type":"record"'));
    const fromShards = shards.flatMap((s) => records(s.r.stdout));
    expect(fromShards.sort()).toEqual(records(whole.stdout).sort());
    const text = pagelab('campaign', ...SLICE, '--jobs', '1');
    const mergedText = pagelab('campaign', 'merge', shards[0].file, shards[1].file);
    expect(mergedText.stdout).toBe(text.stdout);
    expect(text.stdout).toMatch(/^campaign: exhaustive 2x1, space_size 117968, 4 programs checked\n/);
  }, 240_000);
});

describe('pagelab campaign --scheme FILE --litmus-dir DIR', () => {
  it('checks under a scheme file, and each printed replay line runs as printed, naming the .litmus in DIR', () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaign-'));
    const file = './docs/examples/i-mmap-sem.js';
    const r = pagelab('campaign', '--programs', '41657-41658', '--scheme', file, '--litmus-dir', dir);
    expect(r.code).toBe(1);
    const replays = r.stdout
      .split('\n')
      .map((l) => /^ {4}npx pagelab replay '(.*)'$/.exec(l)?.[1])
      .filter((x) => x !== undefined);
    expect(replays).toHaveLength(1);
    const replay = replays[0] as string;
    expect(replay.startsWith(`${dir}/campaign-41657-i-mmap-sem-min.litmus:${file}:`)).toBe(true);
    // The file's own replay comment is the same command.
    const litmus = readFileSync(join(dir, 'campaign-41657-i-mmap-sem-min.litmus'), 'utf8');
    expect(litmus).toContain(`# replay: npx pagelab replay '${replay}'`);
    const again = pagelab('replay', replay);
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(
      /^campaign-41657-i-mmap-sem-min under \.\/docs\/examples\/i-mmap-sem\.js: lost-write \(replayed\)/,
    );
  }, 120_000);
});

describe('pagelab campaign --estimate', () => {
  it('predicts the CPU and the two-core shards for 10 minutes, from the sampled cells', () => {
    const r = pagelab(
      'campaign',
      '--estimate',
      '--sample',
      '2',
      '--scheme',
      'xfs',
      '--programs',
      '41655-41659',
      '--json',
      '--jobs',
      '1',
    );
    expect(r.code).toBe(0);
    const e = JSON.parse(r.stdout);
    expect(e).toMatchObject({ type: 'estimate', programs: 4, schemes: 1, cells: 4, sampled_programs: 2 });
    expect(e.cpu_seconds).toBeGreaterThanOrEqual(0);
    expect(e.shards_10min).toBe(Math.max(1, Math.ceil(e.cpu_seconds / 1200)));
  }, 60_000);
});

describe('pagelab campaign: bad input', () => {
  it.each([
    [['campaign', '--shard', '2/2'], /--shard i\/N needs 0 <= i < N/],
    [['campaign', '--shard', 'x'], /--shard must be i\/N/],
    [['campaign', '--scheme', 'nope'], /unknown scheme 'nope'/],
    [['campaign', '--scheme', './nope.js'], /no such scheme file: \.\/nope\.js/],
    [['campaign', '--programs', '5-5'], /--programs must be FROM-TO/],
    [['campaign', '--tasks', '3', '--ops', '2'], /holds \d+ programs .*use --random N/],
    [['campaign', 'merge', '/nonexistent/x.jsonl'], /cannot read \/nonexistent\/x.jsonl/],
  ])('%j: one line on stderr, exit 2', (args, message) => {
    const r = pagelab(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('merge refuses a file that is not campaign output, and a program checked twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaign-'));
    const junk = join(dir, 'junk.jsonl');
    writeFileSync(junk, 'hello\n');
    const r = pagelab('campaign', 'merge', junk);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`pagelab: ${junk}:1: not a JSON line of pagelab campaign --json\n`);
    const one = pagelab('campaign', '--programs', '0-1', '--scheme', 'xfs', '--json', '--jobs', '1');
    const file = join(dir, 'one.jsonl');
    writeFileSync(file, one.stdout);
    const twice = pagelab('campaign', 'merge', file, file);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toBe(`pagelab: ${file}:1: program 0 under xfs twice\n`);
  }, 60_000);
});

/** The O_DIRECT write vs load/store slice, run on this machine's kernel with a small N. */
const NATIVE = ['campaign', '--native', '--scheme', 'ext4', '--iterations', '10', '--json'];

describe('pagelab campaign --native', () => {
  it('one native record per program in order, outcomes adding up, the summary from the records, exit 1 iff not allowed', () => {
    const r = pagelab(...NATIVE, '--programs', '41655-41658');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const records = lines.slice(0, -1);
    const summary = lines[lines.length - 1];
    expect(records.map((x) => [x.type, x.index, x.scheme])).toEqual([
      ['native', 41655, 'ext4'],
      ['native', 41656, 'ext4'],
      ['native', 41657, 'ext4'],
    ]);
    for (const x of records) {
      if (x.skipped !== null) {
        // What the host cannot express (e.g. no O_DIRECT on this filesystem) is a reason, not a run.
        expect(x.skipped).toMatch(/\S/);
        expect(x.outcomes).toEqual([]);
        continue;
      }
      const total = x.outcomes.reduce((n: number, o: { count: number }) => n + o.count, 0);
      expect(total).toBe(x.hung === null ? 10 : x.iterations + 1);
      expect(x.not_allowed).toEqual(
        x.outcomes
          .filter((o: { allowed: boolean }) => !o.allowed)
          .map((o: { outcome: string[] }) => o.outcome),
      );
      expect(x.model.outcomes).toBeGreaterThan(0);
      expect(x.model.coverage).toMatch(/^(complete DFS|sampled)/);
    }
    expect(summary.type).toBe('native-summary');
    expect(summary.programs).toBe(3);
    expect(summary.ran).toBe(records.filter((x) => x.skipped === null).length);
    const failed = records.filter((x) => x.not_allowed.length > 0 || x.hung !== null);
    expect(summary.not_allowed).toEqual(records.filter((x) => x.not_allowed.length > 0).map((x) => x.index));
    expect(r.code).toBe(failed.length > 0 ? 1 : 0);
  });

  it('runs a program with the same seeded delays whatever the slice', () => {
    const wide = pagelab(...NATIVE, '--programs', '41655-41657', '--iterations', '1');
    const one = pagelab(...NATIVE, '--programs', '41656-41657', '--iterations', '1');
    const seedOf = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .find((x) => x.index === 41656).seed;
    expect(seedOf(one.stdout)).toBe(seedOf(wide.stdout));
    expect(seedOf(wide.stdout)).not.toBe(
      JSON.parse(wide.stdout.split('\n')[0]).seed, // 41655's
    );
  });

  it('bad input is one line and exit 2: two schemes, a missing --dir, --estimate', () => {
    for (const args of [['--scheme', 'ext4,xfs'], ['--dir', '/nonexistent/pagelab'], ['--estimate']]) {
      const r = pagelab('campaign', '--native', '--programs', '0-1', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });
});
