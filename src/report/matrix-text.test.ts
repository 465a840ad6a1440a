import { describe, expect, it } from 'vitest';
import { builtinScenarios } from '../explore/builtin.js';
import type { Coverage } from '../explore/check.js';
import type { Matrix, MatrixRow } from '../explore/matrix.js';
import { SCHEMES as ALL_SCHEMES } from '../schemes/index.js';
import { cellCode, formatMatrixMarkdown, formatMatrixText, type MatrixTextOptions } from './matrix-text.js';
import { wantColor } from './text.js';

const DFS: Coverage = {
  strategy: 'dfs',
  schedules: 19,
  pruned: 3,
  boundSkipped: 0,
  complete: true,
  preemptions: 2,
  text: 'all 19 schedules with ≤ 2 preemptions, 3 pruned as equivalent',
};
const RANDOM: Coverage = {
  ...DFS,
  strategy: 'random',
  schedules: 1000,
  pruned: 0,
  complete: false,
  text: '1000 random schedules',
};

/** Every built-in scenario under every scheme, verdicts picked by position (a few of each kind). */
/** 13 scenarios × 17 schemes: the shape of the matrix of issue 16 (290 columns at full names). */
function fixture(): Matrix {
  const scenarios = builtinScenarios().slice(0, 13);
  const SCHEMES = ALL_SCHEMES.slice(0, 17);
  const rows: MatrixRow[] = [];
  scenarios.forEach((sc, i) => {
    SCHEMES.forEach((s, j) => {
      const k = (i * SCHEMES.length + j) % 23;
      const verdict =
        k === 0 ? 'lost-write' : k === 1 ? 'n/a' : k === 2 ? 'inconclusive' : k === 3 ? 'weird-thing' : 'ok';
      const finding = verdict !== 'ok' && verdict !== 'n/a';
      rows.push({
        scenario: sc.name,
        scheme: s.name,
        verdict: verdict as MatrixRow['verdict'],
        schedules: 19,
        replay: finding ? `${sc.name}:${s.name}:0*5.1*5.3.1*3` : null,
        summary: verdict === 'n/a' ? 'cannot express it' : finding ? 'bytes [0,32) of f lost' : null,
        coverage: k === 4 ? RANDOM : DFS,
      });
    });
  });
  return {
    seed: 1,
    schedules: 1000,
    dfsBudget: 20000,
    preemptions: 2,
    scenarios,
    schemes: SCHEMES,
    rows,
    measures: {
      scalability: SCHEMES.flatMap((s) =>
        [1, 2, 4, 8].map((writers) => ({ scheme: s.name, writers, speedup: writers / 1.5 })),
      ),
      fairness: SCHEMES.flatMap((s) =>
        [4, 16].map((storm) => ({ scheme: s.name, storm, dio_wait_max: storm === 16 ? null : 120 })),
      ),
      fairness_nodes: ['gfs2', 'gfs2-nodf-read'].flatMap((scheme) =>
        [4, 16].map((storm) => ({ scheme, storm, dio_wait_max: scheme === 'gfs2' ? 47 : null })),
      ),
    },
  };
}

const opts = (o: Partial<MatrixTextOptions>): MatrixTextOptions => ({
  width: 100,
  color: false,
  ascii: false,
  replayCommand: (r) => `npx pagelab replay '${r}'`,
  ...o,
});

describe('the matrix as text', () => {
  const m = fixture();

  it('fits 100 columns by default: a code per cell, a letter per scheme, and the legend', () => {
    const lines = formatMatrixText(m, opts({}));
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    const head = lines.find((l) => l.startsWith('scenario '));
    expect(head).toMatch(/^scenario +A {3}B {3}C .* Q$/);
    expect(lines.find((l) => l.startsWith('  A '))).toMatch(
      /^ {2}A vfs2019 {2}B invalidate_lock {2}C xfs {2}D rangelock/,
    );
    const first = lines.find((l) => l.startsWith('collapse-vs-fault '));
    expect(first).toMatch(/^collapse-vs-fault +LW {2}- {3}\?\? {2}WT {2}ok~ ok {2}ok/);
    expect(lines).toContain('  ok  nothing forbidden: every schedule with ≤ 2 preemptions (complete DFS)');
    expect(lines).toContain('  ??  inconclusive: nothing forbidden, but not every run decided (why: below)');
    expect(lines).toContain('  WT  weird-thing');
    expect(lines.join('\n')).toContain("    npx pagelab replay 'collapse-vs-fault:vfs2019:0*5.1*5.3.1*3'");
    expect(lines.join('\n')).not.toContain('\x1b[');
  });

  it('--format text: 80 columns, ASCII only, no colour (schemes become the rows)', () => {
    const lines = formatMatrixText(m, opts({ width: 80, ascii: true }));
    // Every line fits, replay commands too (cut inside their quotes: they still paste and run).
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(lines.join('\n')).toMatch(/^[\x20-\x7e\n]*$/);
    expect(lines.find((l) => l.startsWith('scheme '))).toMatch(/^scheme +A {3}B .* M$/);
    expect(lines).toContain('  ok  nothing forbidden: every schedule with <= 2 preemptions (complete DFS)');
  });

  it('--format text: the measures of the real matrix (4 writer counts, 4 storms) as two tables in 80 columns, a long replay cut so it still runs, a cycle in ASCII', () => {
    const big: Matrix = {
      ...m,
      rows: m.rows.map((r) =>
        r.replay
          ? { ...r, replay: `${r.replay}.2*13.1*5.2*3.1*2.3.0*3.1*7`, summary: 'deadlock: P0[0] ⇄ P1[1]' }
          : r,
      ),
      measures: {
        ...m.measures,
        fairness: m.schemes.flatMap((s) =>
          [4, 8, 16, 32].map((storm) => ({ scheme: s.name, storm, dio_wait_max: 20 })),
        ),
      },
    };
    const lines = formatMatrixText(
      big,
      opts({ width: 80, ascii: true, replayCommand: (r) => `node ./bin/pagelab.js replay '${r}'` }),
    );
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
    expect(lines.join('\n')).toMatch(/^[\x20-\x7e\n]*$/);
    expect(lines.join('\n')).toContain('P0[0] <-> P1[1]');
    const heads = lines.filter((l) => /^ +(1w|storm 4)/.test(l));
    expect(heads.slice(0, 2).map((l) => l.trim().replace(/ +/g, ' '))).toEqual([
      '1w 2w 4w 8w',
      'storm 4 storm 8 storm 16 storm 32',
    ]);
    // The cut command, joined as the shell joins it, is the command.
    const at = lines.findIndex((l) => l.includes("replay '"));
    let cmd = '';
    for (let k = at; ; k++) {
      const l = lines[k];
      if (!l.endsWith("'\\")) {
        cmd += l;
        break;
      }
      cmd += l.slice(0, -1);
    }
    expect(cmd.trim().replaceAll("''", '')).toBe(
      `node ./bin/pagelab.js replay '${big.rows.find((r) => r.replay)?.replay}'`,
    );
  });

  it('folds the columns into several tables when neither orientation fits', () => {
    const lines = formatMatrixText(m, opts({ width: 40 }));
    expect(
      Math.max(...lines.filter((l) => /^(scenario|[a-z-]+ +(ok|LW|-|\?\?|WT))/.test(l)).map((l) => l.length)),
    ).toBeLessThanOrEqual(40);
    expect(lines.filter((l) => l.startsWith('scenario ')).length).toBeGreaterThan(1);
  });

  it('fairness across nodes: a table of its own, a row per cluster scheme measured', () => {
    const lines = formatMatrixText(m, opts({}));
    const at = lines.findIndex((l) => l.startsWith('fairness across nodes: '));
    expect(lines.slice(at, at + 7)).toEqual([
      'fairness across nodes: longest wait of the O_DIRECT write on node B in a fault storm of N faults per',
      '  task on node A (virtual ticks, DLM round trips included)',
      '                  storm 4  storm 16',
      'gfs2                   47        47',
      'gfs2-nodf-read       none      none',
      '  other schemes: n/a (one node only)',
      '  none: the O_DIRECT write did not finish',
    ]);
  });

  it('markdown: the measures as tables, fairness across nodes for the schemes measured', () => {
    const md = formatMatrixMarkdown(m, (r) => `npx pagelab replay '${r}'`);
    const at = md.findIndex((l) => l.startsWith('**Fairness across nodes: '));
    expect(md.slice(at + 2)).toEqual([
      '| scheme | storm 4 | storm 16 |',
      '|---|--:|--:|',
      '| `gfs2` | 47 | 47 |',
      '| `gfs2-nodf-read` | none | none |',
    ]);
    expect(md).toContain('| `vfs2019` | 0.67× | 1.33× | 2.67× | 5.33× |');
    expect(md).toContain('| `xfs` | 120 | none |');
  });

  it('colour on request: findings red, ok green', () => {
    const text = formatMatrixText(m, opts({ color: true })).join('\n');
    expect(text).toContain('\x1b[31mLW\x1b[39m');
    expect(text).toContain('\x1b[32mok\x1b[39m');
  });

  it('an ok is "ok" only when a complete DFS backs it', () => {
    expect(cellCode({ verdict: 'ok', coverage: DFS })).toBe('ok');
    expect(cellCode({ verdict: 'ok', coverage: { ...DFS, complete: false } })).toBe('ok~');
    expect(cellCode({ verdict: 'ok', coverage: RANDOM })).toBe('ok~');
    expect(cellCode({ verdict: 'deadlock', coverage: RANDOM })).toBe('DL');
  });

  it('markdown: the schemes by name, findings in bold, every cell its certificate', () => {
    const md = formatMatrixMarkdown(m, (r) => `npx pagelab replay '${r}'`);
    expect(md[2]).toBe(
      `| scenario | ${ALL_SCHEMES.slice(0, 17)
        .map((s) => `\`${s.name}\``)
        .join(' | ')} |`,
    );
    expect(md.find((l) => l.startsWith('| `collapse-vs-fault`'))).toMatch(
      /^\| `collapse-vs-fault` \| \*\*LW\*\* \| - \|/,
    );
    expect(md).toContain(
      '- `collapse-vs-fault` / `pagelab-edeadlk`: ok: all 19 schedules with ≤ 2 preemptions, 3 pruned as equivalent',
    );
  });
});

describe('colour', () => {
  const tty = { isTTY: true, hasColors: () => true } as unknown as NodeJS.WriteStream;
  const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;
  it('on a TTY unless NO_COLOR; FORCE_COLOR forces it either way', () => {
    expect(wantColor(tty, {})).toBe(true);
    expect(wantColor(tty, { NO_COLOR: '1' })).toBe(false);
    expect(wantColor(pipe, {})).toBe(false);
    expect(wantColor(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(wantColor(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(wantColor(tty, { NO_COLOR: '1', FORCE_COLOR: '1' })).toBe(true);
  });
});
