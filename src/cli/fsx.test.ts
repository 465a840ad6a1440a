/**
 * The `pagelab fsx` contract, through the built bin: a log recorded by real fsx replays to the
 * kernel's file, a generated run writes fsx's own log, bad input is one line and exit 2, and the
 * concurrent mode's finding comes with the one command that replays it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECORDED_RUNS, TESTDATA, testdata } from '../test-support/fsx-runs.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pagelab.js');

function pagelab(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Splits a printed command line (words, 'single-quoted' words) into argv. */
function words(cmd: string): string[] {
  return [...cmd.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

const dir = mkdtempSync(join(tmpdir(), 'pagelab-fsx-'));

function run(name: string) {
  const r = RECORDED_RUNS.find((x) => x.name === name);
  if (!r) throw new Error(name);
  return r;
}

describe('pagelab fsx', () => {
  it('--replay of a log real fsx recorded, with its -S/-l, dumps the file the kernel left', () => {
    const dio = run('dio4k');
    const out = join(dir, 'dio4k.dat');
    const flags = dio.flags.filter((_, i, a) => a[i] !== '-N' && a[i - 1] !== '-N');
    const r = pagelab('fsx', '--replay', join(TESTDATA, 'dio4k.fsxops'), ...flags, '--dump', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('All 1001 operations completed A-OK!');
    expect(readFileSync(out).equals(testdata('dio4k.dat'))).toBe(true);
  });

  it("with fsx's own flags, writes fsx's op log and file byte for byte (--record-ops=FILE, fsx's spelling)", () => {
    const close = run('close');
    const ops = join(dir, 'close.fsxops');
    const out = join(dir, 'close.dat');
    const r = pagelab('fsx', ...close.flags, `--record-ops=${ops}`, '--dump', out, '--scheme', 'xfs');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('All 500 operations completed A-OK!');
    // The command runs as printed: the checkout's bin by its path (npx pagelab from an install).
    expect(r.stdout).toMatch(
      /replay with: node \S+bin\/pagelab\.js fsx --replay (\S+) -S 14 -l 49152 -o 8192 -c 10 --scheme xfs$/m,
    );
    expect(r.stdout).toContain(` fsx --replay ${ops} -S 14`);
    expect(readFileSync(ops, 'utf8')).toBe(testdata('close.fsxops').toString('utf8'));
    expect(readFileSync(out).equals(testdata('close.dat'))).toBe(true);
  });

  it('--json: one object with the verdict and the counts', () => {
    const log = join(dir, 'hand.fsxops');
    writeFileSync(
      log,
      '# hand-written\nwrite 0x0 0x2000 0x0\n\nskip read 0 0 0x2000\nmapread 0x100 0x100 0x2000\n',
    );
    const r = pagelab('fsx', '--replay-ops', log, '-l', '64k', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      mode: 'replay',
      scheme: 'pagelab',
      verdict: 'ok',
      status: 0,
      testcalls: 4,
      size: 0x2000,
      failure: null,
    });
  });

  it('a malformed log line: FILE:LINE: reason on stderr, exit 2, no stack trace', () => {
    const log = join(dir, 'bad.fsxops');
    writeFileSync(log, 'write 0x0 0x10 0x0\n\n# fine\nwrte 1 2 3\n');
    const r = pagelab('fsx', '--replay', log);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^pagelab: ${log}:4: unknown op 'wrte'`));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('bad input is exit 2 with one line: unknown scheme, bad numbers, unsupported flags, -e with --tasks', () => {
    for (const args of [
      ['--scheme', 'nope', '-N', '1'],
      ['-l', '12q'],
      ['-N', '5', '-d'],
      ['--tasks', '2', '-e', '1'],
      ['--replay', join(dir, 'missing.fsxops')],
      ['--tasks', '2', '--replay', join(TESTDATA, 'buf.fsxops')],
      ['--testcalls-as', 'other'],
    ]) {
      const r = pagelab('fsx', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^pagelab: [^\n]+\n$/);
    }
  });

  it('--tasks: finds the DIO write vs mmap store race under vfs2019 and prints the command that replays it', () => {
    const race = ['--tasks', '2', '-N', '6', '-S', '17', '-L', '-Z', '-r', '64', '-w', '64', '-o', '256'];
    const r = pagelab('fsx', ...race, '--scheme', 'vfs2019', '--schedules', '200', '--jobs', '1');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('under vfs2019: lost-write');
    const replay = /replay: (node \S+ fsx .*--schedule .*)$/m.exec(r.stdout);
    expect(replay).not.toBeNull();
    const again = pagelab(...words(replay?.[1] as string).slice(2));
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('lost-write');
    const ok = pagelab('fsx', ...race, '--scheme', 'pagelab', '--schedules', '100', '--jobs', '1', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      mode: 'tasks',
      verdict: 'ok',
      schedules: 100,
      findings: [],
    });
  });
});
