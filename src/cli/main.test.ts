/**
 * The CLI contract: exit codes, one-line errors, JSON fields. Runs the built bin (npm test builds
 * first) the way a user's script would.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DFS_BUDGET } from '../explore/cell.js';
import { DEFAULTS } from '../explore/defaults.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pagelab.js');

function pagelab(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('pagelab check', () => {
  it('finds the lost write of dio-write-vs-mmap-store under vfs2019 and prints the replay command', () => {
    const r = pagelab('check', 'dio-write-vs-mmap-store', '--scheme', 'vfs2019');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('dio-write-vs-mmap-store under vfs2019: lost-write');
    expect(r.stdout).toContain('dio_warn_stale_pagecache');
    // From a checkout the printed command is the checkout's bin (npx would ask the registry).
    const replay = /replay: node (\S+) replay '([^']+)'/.exec(r.stdout);
    expect(replay).not.toBeNull();
    const [, bin, s] = replay as RegExpExecArray;
    expect(bin).toBe('./bin/pagelab.js');
    expect(pagelab('replay', s).code).toBe(1);
  });

  it('--json carries the contract fields, and the replay string replays to the same verdict', () => {
    const r = pagelab('check', 'dio-write-vs-mmap-store', '--scheme', 'vfs2019', '--json', '--seed', '3');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({
      scenario: 'dio-write-vs-mmap-store',
      scheme: 'vfs2019',
      seed: 3,
      verdict: 'lost-write',
    });
    expect(j.schedules).toBeGreaterThan(0);
    expect(j.findings[0].kind).toBe('lost-write');
    const again = pagelab('replay', j.findings[0].replay, '--json');
    expect(again.code).toBe(1);
    const k = JSON.parse(again.stdout);
    expect(k.verdict).toBe('lost-write');
    expect(k.findings[0].summary).toBe(j.findings[0].summary);
  });

  it('exits 0 with verdict ok when nothing forbidden is found', () => {
    const r = pagelab(
      'check',
      'punch-vs-fault',
      '--scheme',
      'invalidate_lock',
      '--schedules',
      '200',
      '--json',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'ok', schedules: 200, findings: [] });
  });
});

describe('inconclusive: the oracles gave up, and say so', () => {
  const litmus = (budget: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-'));
    const f = join(dir, 'x.litmus');
    writeFileSync(
      f,
      [
        'litmus x',
        `option oracle-states=${budget}`,
        'file f 2p written',
        'P0: loop 16 pwrite f 0 8',
        'P1: loop 16 pwrite f 4 8',
        'P2: loop 16 pread f 0 16',
      ].join('\n'),
    );
    return f;
  };

  it('exit 3 and verdict inconclusive with the reason when the state budget runs out; ok with room', () => {
    const r = pagelab('check', litmus('10'), '--scheme', 'xfs', '--schedules', '3', '--json');
    expect(r.code).toBe(3);
    const j = JSON.parse(r.stdout);
    expect(j.verdict).toBe('inconclusive');
    expect(j.inconclusive).toEqual({
      runs: 3,
      reason:
        "the reference model's 10 states did not cover the ops on f[0,12) (32 ops): those bytes are not judged",
    });
    const text = pagelab('check', litmus('10'), '--scheme', 'xfs', '--schedules', '3');
    expect(text.code).toBe(3);
    expect(text.stdout).toContain('x under xfs: inconclusive — no forbidden finding in 3 random schedules');
    const ok = pagelab('check', litmus('50000'), '--scheme', 'xfs', '--schedules', '3', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).verdict).toBe('ok');
  });

  it('a bad oracle-states option is bad input: one line, exit 2', () => {
    const r = pagelab('check', litmus('abc'), '--scheme', 'xfs', '--schedules', '3');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^pagelab: .*option oracle-states=abc: must be a positive integer\n$/);
  });
});

describe('--html and --perfetto', () => {
  it('check writes both: a self-contained HTML report and Trace Event JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-'));
    const html = join(dir, 'r.html');
    const json = join(dir, 'r.json');
    const r = pagelab(
      'check',
      'dio-write-vs-mmap-store',
      '--scheme',
      'vfs2019',
      '--html',
      html,
      '--perfetto',
      json,
    );
    expect(r.code).toBe(1);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('lost-write: bytes [0,32) of f');
    expect(page).not.toMatch(/https?:\/\//);
    const t = JSON.parse(readFileSync(json, 'utf8'));
    expect(t.traceEvents.some((e: { ph: string; s?: string }) => e.ph === 'i' && e.s === 'g')).toBe(true);
    expect(t.traceEvents.filter((e: { ph: string }) => e.ph === 'B').length).toBe(
      t.traceEvents.filter((e: { ph: string }) => e.ph === 'E').length,
    );
  });

  it('replay writes them too; an unwritable path is bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-'));
    const html = join(dir, 'replay.html');
    const r = pagelab('replay', 'dio-write-vs-mmap-store:vfs2019:0*5.1*5.3.1*3', '--html', html);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('dio-write-vs-mmap-store under vfs2019: lost-write (replayed)');
    expect(readFileSync(html, 'utf8')).toContain('<section class="pl-report"');
    const bad = pagelab(
      'replay',
      'dio-write-vs-mmap-store:vfs2019:-',
      '--perfetto',
      '/nonexistent/dir/r.json',
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^pagelab: cannot write \/nonexistent\/dir\/r.json/);
  });
});

describe('bad input: one line on stderr, exit 2, no stack trace', () => {
  const cases: [string, string[], RegExp][] = [
    [
      'unknown scheme',
      ['check', 'punch-vs-fault', '--scheme', 'nosuch'],
      /^pagelab: unknown scheme 'nosuch'/,
    ],
    ['unknown scenario', ['check', 'nosuch', '--scheme', 'xfs'], /^pagelab: unknown scenario 'nosuch'/],
    [
      'missing file',
      ['check', '/nonexistent/x.litmus', '--scheme', 'xfs'],
      /^pagelab: no such scenario file/,
    ],
    [
      'bad number',
      ['check', 'punch-vs-fault', '--scheme', 'xfs', '--schedules', 'many'],
      /--schedules must be a whole number/,
    ],
    ['malformed replay', ['replay', 'garbage'], /^pagelab: malformed replay string/],
    ['unknown command', ['frobnicate'], /unknown command/],
    ['matrix: unknown scheme', ['matrix', '--schemes', 'xfs,nosuch'], /^pagelab: unknown scheme 'nosuch'/],
    ['matrix: unknown scenario', ['matrix', '--scenarios', 'nosuch'], /^pagelab: unknown scenario 'nosuch'/],
    ['matrix: unknown format', ['matrix', '--format', 'html'], /^pagelab: unknown format 'html'/],
    ['matrix: missing file', ['matrix', '/nonexistent/x.litmus'], /^pagelab: no such scenario file/],
    [
      'check: --state-cache without the unbounded DFS',
      ['check', 'punch-vs-fault', '--scheme', 'xfs', '--state-cache'],
      /^pagelab: --state-cache needs --strategy dfs --preemptions all\n$/,
    ],
  ];
  for (const [name, args, re] of cases) {
    it(name, () => {
      const r = pagelab(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('a malformed litmus file gives file:line:col and a reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-'));
    const f = join(dir, 'bad.litmus');
    writeFileSync(f, 'litmus bad\npage 64\nfile f 2p written\nP0: pwrite f 0\n');
    const r = pagelab('check', f, '--scheme', 'xfs');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^pagelab: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: `));
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('unaligned O_DIRECT is EINVAL, as Linux, not a crash', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-'));
    const f = join(dir, 'unaligned.litmus');
    writeFileSync(f, 'litmus unaligned\npage 64\nfile f 2p written\nP0: pwrite f 3 5 direct\n');
    const r = pagelab('replay', `${f}:xfs:-`, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const ret = j.trace.find((e: { site: string; detail?: string }) => e.site === 'op-return');
    expect(ret.detail).toBe('pwrite f 3 5 direct = -22');
  });
});

describe('pagelab list and matrix', () => {
  it('list names every built-in scenario and scheme', () => {
    const r = pagelab('list');
    expect(r.code).toBe(0);
    for (const n of [
      'dio-write-vs-buffered-read',
      'dio-write-vs-mmap-load',
      'dio-write-vs-mmap-store',
      'punch-vs-fault',
      'collapse-vs-fault',
      'insert-vs-fault',
      'vfs2019',
      'invalidate_lock',
      'xfs',
    ]) {
      expect(r.stdout).toContain(n);
    }
  });

  it('matrix --json gives a row per scenario × scheme with the contract fields', () => {
    const r = pagelab('matrix', '--json', '--schedules', '100', '--dfs-budget', '0');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.rows.length).toBeGreaterThanOrEqual(18);
    for (const row of j.rows)
      expect(Object.keys(row)).toEqual(
        expect.arrayContaining(['scenario', 'scheme', 'verdict', 'schedules', 'replay']),
      );
    const cell = (s: string, k: string) =>
      j.rows.find((x: { scenario: string; scheme: string }) => x.scenario === s && x.scheme === k).verdict;
    expect(cell('dio-write-vs-mmap-store', 'vfs2019')).toBe('lost-write');
    expect(cell('punch-vs-fault', 'vfs2019')).not.toBe('ok');
    expect(cell('punch-vs-fault', 'invalidate_lock')).toBe('ok');
    expect(cell('collapse-vs-fault', 'xfs')).toBe('ok');
    // The whole matrix (21 scenarios × 20 schemes): over a minute on a busy 2-core machine.
  }, 240_000);

  it('matrix --html writes the table with each failing cell linked to its embedded report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-'));
    const html = join(dir, 'm.html');
    const r = pagelab('matrix', '--schedules', '50', '--dfs-budget', '0', '--html', html);
    expect(r.code).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<table class="matrix">');
    const links = [...page.matchAll(/<a href="#(cell-\d+)">/g)].map((m) => m[1]);
    expect(links.length).toBeGreaterThan(0);
    for (const id of links) expect(page).toContain(`<details class="cellreport" id="${id}">`);
    expect(page).toContain('scalability: speedup');
  }, 240_000);
});

describe("matrix: filters, formats, the user's scenarios, certificates", () => {
  it('--scenarios and --schemes pick the cells; each ok cell is a complete DFS and says so', () => {
    const r = pagelab(
      'matrix',
      '--scenarios',
      'punch-vs-fault,collapse-vs-fault',
      '--schemes',
      'vfs2019,xfs',
      '--json',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.rows.map((x: { scenario: string; scheme: string }) => `${x.scenario}/${x.scheme}`)).toEqual([
      'punch-vs-fault/vfs2019',
      'punch-vs-fault/xfs',
      'collapse-vs-fault/vfs2019',
      'collapse-vs-fault/xfs',
    ]);
    const ok = j.rows.find(
      (x: { scenario: string; scheme: string }) => x.scenario === 'punch-vs-fault' && x.scheme === 'xfs',
    );
    expect(ok.verdict).toBe('ok');
    expect(ok.coverage).toMatchObject({ strategy: 'dfs', complete: true, preemptions: 2 });
    expect(ok.coverage.text).toMatch(/^all \d+ schedules with ≤ 2 preemptions, \d+ pruned as equivalent$/);
    expect(j.rows[0].verdict).toBe('stale-read');
    expect(j.measures).toEqual({ fairness: [], scalability: [], fairness_nodes: [] });
  });

  it('--format text is for a mail: 80 columns, ASCII, no colour even when forced', () => {
    const r = spawnSync(
      process.execPath,
      [BIN, 'matrix', '--scenarios', 'punch-vs-fault', '--format', 'text'],
      {
        encoding: 'utf8',
        env: { ...process.env, FORCE_COLOR: '1' },
      },
    );
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(/^[\x20-\x7e\n]*$/);
    expect(r.stdout).toMatch(/^vfs2019 +SR$/m);
  });

  it("takes the user's scenario FILEs: the replay line names the file and replays as printed", () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-'));
    const f = join(dir, 'mine.litmus');
    const text = readFileSync(
      join(import.meta.dirname, '..', '..', 'scenarios', 'punch-vs-fault.litmus'),
      'utf8',
    );
    writeFileSync(f, text.replace(/^litmus punch-vs-fault/m, 'litmus my-punch'));
    const html = join(dir, 'm.html');
    const r = pagelab('matrix', f, '--schemes', 'vfs2019,invalidate_lock', '--html', html);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^my-punch +SR {2}ok$/m);
    const cmd = new RegExp(
      `^ +node (\\S+) replay '(${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:vfs2019:[^']+)'$`,
      'm',
    ).exec(r.stdout);
    expect(cmd).not.toBeNull();
    // The HTML page prints the very command the terminal does, not a bare `pagelab replay`.
    const printed = (cmd as RegExpExecArray)[0].trim().replaceAll("'", '&#39;');
    expect(readFileSync(html, 'utf8')).toContain(`Replay: <code>${printed}</code>`);
    const again = pagelab('replay', (cmd as RegExpExecArray)[2], '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout).verdict).toBe('stale-read');
  });
});

describe('one set of defaults (explore/defaults.ts): what --help says is what a run uses', () => {
  const flat = (s: string) => s.replace(/\s+/g, ' ');

  it('check and fsx --tasks show the DEFAULTS numbers', () => {
    for (const [args, prefix] of [
      [['check', '--help'], ''],
      [['fsx', '--help'], '--tasks: '],
    ] as const) {
      const help = flat(pagelab(...args).stdout);
      expect(help).toContain(`--seed <n> ${prefix}seed of the search`);
      expect(help).toContain(`(default: ${DEFAULTS.seed})`);
      expect(help).toContain(`--depth <d> ${prefix}PCT bug depth d (default: ${DEFAULTS.depth})`);
      expect(help).toContain(
        `--preemptions <k> ${prefix}DFS preemption bound K, or 'all': every schedule up to equivalence, no bound (default: ${DEFAULTS.preemptions})`,
      );
      expect(help).toContain(`(random, pct; default ${DEFAULTS.schedules})`);
      expect(help).toContain(`(dfs; default ${DEFAULTS.dfsSchedules})`);
      expect(help).toContain(`no-progress (default ${DEFAULTS.stepBound})`);
      expect(help).toContain("worker threads (default: the machine's cores)");
    }
    const matrixHelp = flat(pagelab('matrix', '--help').stdout);
    expect(matrixHelp).toContain(
      `random schedules per cell whose DFS does not complete (default: ${DEFAULTS.matrixSchedules})`,
    );
    expect(matrixHelp).toContain(`(0: random only) (default: ${DFS_BUDGET})`);
  });

  it(`a run without --step-bound ends no-progress after ${DEFAULTS.stepBound} steps`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'pagelab-'));
    const f = join(dir, 'spin.litmus');
    // Six tasks of 4096 loads each: some 24,500 steps.
    const tasks = [0, 1, 2, 3, 4, 5].flatMap((t) => Array(4).fill(`P${t}: loop 1024 load b 1`));
    writeFileSync(f, ['litmus spin', 'file f 1p written', 'buf b 8', ...tasks, ''].join('\n'));
    const args = ['check', f, '--scheme', 'pagelab', '--schedules', '1', '--no-shrink', '--json'];
    const stopped = JSON.parse(pagelab(...args).stdout);
    expect(stopped.verdict).toBe('no-progress');
    expect(stopped.findings[0].summary).toMatch(
      new RegExp(`^no progress after ${DEFAULTS.stepBound + 1} steps`),
    );
    const longer = JSON.parse(pagelab(...args, '--step-bound', String(2 * DEFAULTS.stepBound)).stdout);
    expect(longer.verdict).toBe('ok');
  });
});
