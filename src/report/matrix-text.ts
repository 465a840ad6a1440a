/**
 * The matrix for a terminal, a mail and a markdown page. 17 schemes at their full names are ~290
 * columns: here each cell is a two- or three-letter code (legend below the table) and each scheme
 * column a letter key, so the table fits the width (100 by default, the terminal's on a TTY, 80
 * for `--format text`). Orientation: scenarios as rows when that fits, else schemes as rows (their
 * names are shorter), else the columns are folded into several tables. Every cell's code says what
 * backs an "ok" (`ok`: the bounded DFS completed; `ok~`: sampled only), and the lines under the
 * table say it in full. Colour only when `color` (a TTY without NO_COLOR, or FORCE_COLOR).
 */
import type { Matrix, MatrixRow } from '../explore/matrix.js';
import type { FairnessRow } from '../explore/measures.js';
import { cutReplayCommand } from './text.js';

export interface MatrixTextOptions {
  /** Columns the table may use. */
  width: number;
  color: boolean;
  /** Plain ASCII (a mail): no ≤, —, ×. */
  ascii: boolean;
  /** The command that replays a replay string, as the user can run it. */
  replayCommand: (replay: string) => string;
}

/** Verdict codes; a verdict not listed here (a new one) gets its initials (codeOf). */
const CODES: Record<string, [code: string, meaning: string]> = {
  ok: ['ok', 'nothing forbidden: every schedule with <= K preemptions (complete DFS)'],
  'n/a': ['-', 'n/a: the scheme cannot express the scenario (reason under the table)'],
  'lost-write': ['LW', 'lost-write'],
  'stale-read': ['SR', 'stale-read'],
  incoherent: ['IC', 'incoherent'],
  durability: ['DU', 'durability'],
  deadlock: ['DL', 'deadlock'],
  'no-progress': ['NP', 'no-progress (livelock or starvation)'],
  invariant: ['IV', 'broken invariant'],
  inconclusive: ['??', 'inconclusive: nothing forbidden, but not every run decided (why: below)'],
};
const SAMPLED = 'ok~';
const SAMPLED_MEANING = 'nothing forbidden in the sampled schedules only (the DFS did not complete)';

/** The code of a cell: `ok` only where a complete DFS backs it. */
export function cellCode(r: Pick<MatrixRow, 'verdict' | 'coverage'> | undefined): string {
  if (!r) return '?';
  if (r.verdict === 'ok' && !(r.coverage.strategy === 'dfs' && r.coverage.complete)) return SAMPLED;
  return codeOf(r.verdict);
}

function codeOf(verdict: string): string {
  const known = CODES[verdict];
  if (known) return known[0];
  return verdict
    .split(/[^a-z]+/i)
    .map((w) => w.charAt(0).toUpperCase())
    .join('')
    .slice(0, 3);
}

const SGR: Record<string, [number, number]> = {
  ok: [32, 39],
  [SAMPLED]: [33, 39],
  '-': [2, 22],
  DL: [35, 39],
  NP: [35, 39],
};

function paintCode(code: string, s: string, color: boolean): string {
  if (!color) return s;
  const [on, off] = SGR[code] ?? (code === '??' ? [33, 39] : [31, 39]);
  return `\x1b[${on}m${s}\x1b[${off}m`;
}

/** Column keys: A … Z, then AA, AB, … */
function key(i: number): string {
  const a = String.fromCharCode(65 + (i % 26));
  return i < 26 ? a : `${key(Math.floor(i / 26) - 1)}${a}`;
}

function asciify(s: string): string {
  return s
    .replaceAll('≤', '<=')
    .replaceAll('—', '--')
    .replaceAll('×', 'x')
    .replaceAll('…', '...')
    .replaceAll('⇄', '<->')
    .replaceAll('→', '->');
}

/** Words of `items` joined by two spaces, in lines of at most `width`. */
function fill(items: readonly string[], width: number, indent = '  '): string[] {
  const lines: string[] = [];
  let cur = indent;
  for (const it of items) {
    if (cur.length > indent.length && cur.length + it.length > width) {
      lines.push(cur.trimEnd());
      cur = indent;
    }
    cur += `${it}  `;
  }
  if (cur.trim()) lines.push(cur.trimEnd());
  return lines;
}

interface Table {
  rowLabels: string[];
  cols: string[];
  cell: (row: number, col: number) => MatrixRow | undefined;
  /** What the column keys stand for. */
  colNoun: string;
}

function orientations(m: Matrix): Table[] {
  const at = new Map(m.rows.map((r) => [`${r.scenario}\u0000${r.scheme}`, r]));
  const scn = m.scenarios.map((s) => s.name);
  const sch = m.schemes.map((s) => s.name);
  return [
    {
      rowLabels: scn,
      cols: sch,
      cell: (i, j) => at.get(`${scn[i]}\u0000${sch[j]}`),
      colNoun: 'schemes',
    },
    {
      rowLabels: sch,
      cols: scn,
      cell: (i, j) => at.get(`${scn[j]}\u0000${sch[i]}`),
      colNoun: 'scenarios',
    },
  ];
}

const CELL = 4; // a code of up to 3 characters and a space

function tableWidth(t: Table, ncols: number): number {
  return Math.max(...t.rowLabels.map((l) => l.length)) + 1 + ncols * CELL;
}

/** The table as lines: folded into column groups when even the narrower orientation is too wide. */
function tableLines(t: Table, o: MatrixTextOptions): string[] {
  const lw = Math.max(...t.rowLabels.map((l) => l.length)) + 1;
  const corner = t.colNoun === 'schemes' ? 'scenario' : 'scheme';
  const per = Math.max(1, Math.floor((o.width - lw) / CELL));
  const out: string[] = [];
  for (let start = 0; start < t.cols.length; start += per) {
    const cols = t.cols.map((_, j) => j).slice(start, start + per);
    if (start > 0) out.push('');
    out.push(
      `${(lw > corner.length ? corner : '').padEnd(lw)}${cols.map((j) => key(j).padEnd(CELL)).join('')}`.trimEnd(),
    );
    t.rowLabels.forEach((label, i) => {
      const cells = cols.map((j) => {
        const code = cellCode(t.cell(i, j));
        return paintCode(code, code, o.color) + ' '.repeat(CELL - code.length);
      });
      out.push(`${label.padEnd(lw)}${cells.join('')}`.trimEnd());
    });
  }
  return out;
}

/** The verdicts table with its keys and legend. */
function verdictLines(m: Matrix, o: MatrixTextOptions): string[] {
  const [byScenario, byScheme] = orientations(m);
  const fits = (t: Table) => tableWidth(t, t.cols.length) <= o.width;
  const t = fits(byScenario) || !fits(byScheme) ? byScenario : byScheme;
  const out = tableLines(t, o);
  out.push(
    '',
    `${t.colNoun} (the columns):`,
    ...fill(
      t.cols.map((c, j) => `${key(j)} ${c}`),
      o.width,
    ),
  );
  const codes = new Set(m.rows.map((r) => cellCode(r)));
  const legend = [...codes].sort().map((c) => {
    const meaning =
      c === SAMPLED
        ? SAMPLED_MEANING
        : (Object.values(CODES).find(([k]) => k === c)?.[1] ??
          m.rows.find((r) => cellCode(r) === c)?.verdict ??
          c);
    return `${c.padEnd(4)}${meaning.replace('<= K', `≤ ${m.preemptions}`)}`;
  });
  out.push('codes:', ...legend.map((l) => `  ${l}`));
  return out;
}

function certificateLines(m: Matrix, o: MatrixTextOptions): string[] {
  const dfs = m.rows.filter((r) => r.verdict === 'ok' && cellCode(r) === 'ok');
  const runs = dfs.reduce((n, r) => n + r.coverage.schedules, 0);
  const pruned = dfs.reduce((n, r) => n + r.coverage.pruned, 0);
  const out = ['', 'what backs each verdict:'];
  if (dfs.length)
    out.push(
      ...wrapLine(
        `ok  ${dfs.length} cells, each a complete DFS (≤ ${m.preemptions} preemptions): ${runs} schedules in all, and ${pruned} branches pruned as equivalent by partial-order reduction`,
        o,
      ),
    );
  const sampled = m.rows.filter((r) => cellCode(r) === SAMPLED);
  for (const r of sampled)
    out.push(...wrapLine(`${SAMPLED} ${pair(r.scenario, r.scheme)}: ${r.coverage.text}`, o));
  const na = new Map<string, string[]>();
  for (const r of m.rows.filter((x) => x.verdict === 'n/a'))
    na.set(r.summary ?? '', [...(na.get(r.summary ?? '') ?? []), pair(r.scenario, r.scheme)]);
  for (const [why, cells] of na) out.push(...wrapLine(`-   ${cells.join(', ')}: ${why}`, o));
  for (const r of m.rows.filter((x) => x.verdict === 'inconclusive'))
    out.push(...wrapLine(`??  ${pair(r.scenario, r.scheme)}: ${r.coverage.text}; ${r.summary ?? ''}`, o));
  return out;
}

/**
 * One long line as lines of at most `width`, breaking at spaces (never inside a "scenario /
 * scheme" pair, whose slash is joined by no-break spaces until the end), continued with an indent.
 */
function wrapLine(
  s: string,
  { width, ascii }: Pick<MatrixTextOptions, 'width' | 'ascii'>,
  first = '  ',
  rest = '      ',
): string[] {
  const out: string[] = [];
  let cur = first;
  for (const w of (ascii ? asciify(s) : s).split(' ')) {
    if (cur.trim() && cur.length + 1 + w.length > width) {
      out.push(cur);
      cur = rest;
    }
    cur += cur.trim() ? ` ${w}` : w;
  }
  out.push(cur);
  return out.map((l) => l.replaceAll(NBSP, ' '));
}

const NBSP = '\u00a0';

/** "scenario / scheme", kept on one line by wrapLine. */
function pair(scenario: string, scheme: string): string {
  return `${scenario}${NBSP}/${NBSP}${scheme}`;
}

function findingLines(m: Matrix, o: MatrixTextOptions): string[] {
  const failing = m.rows.filter(
    (r) => r.replay && r.verdict !== 'ok' && r.verdict !== 'n/a' && r.verdict !== 'inconclusive',
  );
  if (!failing.length) return [];
  const out = ['', `findings (${failing.length}), each with the command that replays it:`];
  for (const r of failing) {
    const how =
      r.coverage.strategy === 'dfs'
        ? `DFS, run ${r.coverage.schedules}`
        : `${r.coverage.strategy}, schedule ${r.coverage.schedules}`;
    const head = `${paintCode(codeOf(r.verdict), codeOf(r.verdict).padEnd(3), o.color)} ${pair(r.scenario, r.scheme)} (${how}): ${r.summary ?? ''}`;
    out.push(...wrapLine(head, o));
    // Cut inside its quotes where too long (it still pastes and runs: text.ts's cutReplayCommand).
    const cmd = o.replayCommand(r.replay as string);
    const fits = cmd.length + 4 <= o.width;
    out.push(...((!fits && cutReplayCommand(cmd, o.width, '    ')) || [`    ${cmd}`]));
  }
  return out;
}

/** Measures as schemes × figures: as many rows as schemes, a few narrow columns. */
function measureLines(m: Matrix, o: MatrixTextOptions): string[] {
  const { fairness, scalability } = m.measures;
  if (!fairness.length && !scalability.length) return [];
  const writers = [...new Set(scalability.map((x) => x.writers))];
  const storms = [...new Set(fairness.map((x) => x.storm))];
  const lw = Math.max(...m.schemes.map((s) => s.name.length)) + 1;
  const spHead = writers.map((w) => `${w}w`);
  const fwHead = storms.map((s) => `storm ${s}`);
  const sp = (name: string) =>
    writers.map((w) => {
      const r = scalability.find((x) => x.scheme === name && x.writers === w);
      return r ? `${r.speedup.toFixed(2)}×` : 'n/a';
    });
  const fw = (name: string) =>
    storms.map((st) => waitCell(fairness.find((x) => x.scheme === name && x.storm === st)));
  const capS = wrapLine(
    'scalability: speedup of N O_DIRECT writers (Nw) to disjoint ranges of one file (virtual time)',
    o,
    '',
    '  ',
  );
  const capF = wrapLine(
    'fairness: longest wait of the O_DIRECT write in a fault storm of N faults per task (virtual ticks)',
    o,
    '',
    '  ',
  );
  const names = m.schemes.map((s) => s.name);
  const both = [...spHead, ...fwHead];
  // One table where both measures fit the width side by side; else one table each (a mail's 80).
  const out =
    lw + both.reduce((n, h) => n + colWidth(h), 0) <= o.width
      ? ['', ...capS, ...capF, ...measureTable(lw, both, names, (n) => [...sp(n), ...fw(n)])]
      : [
          '',
          ...capS,
          ...measureTable(lw, spHead, names, sp),
          '',
          ...capF,
          ...measureTable(lw, fwHead, names, fw),
        ];
  if (fairness.some((f) => f.dio_wait_max === null)) out.push('  none: the O_DIRECT write did not finish');
  return [...out, ...nodeFairnessLines(m, o)];
}

function colWidth(h: string): number {
  return Math.max(7, h.length + 2);
}

/** A header row and a row per scheme, each figure right-aligned under its heading. */
function measureTable(
  lw: number,
  head: string[],
  names: string[],
  cells: (name: string) => string[],
): string[] {
  const row = (label: string, cs: string[]) =>
    `${label.padEnd(lw)}${cs.map((c, i) => c.padStart(colWidth(head[i]))).join('')}`;
  return [row('', head), ...names.map((n) => row(n, cells(n)))];
}

const FAIRNESS_NODES_CAPTION =
  'fairness across nodes: longest wait of the O_DIRECT write on node B in a fault storm of N faults per task on node A (virtual ticks, DLM round trips included)';

/** A fairness figure: ticks, or none if the O_DIRECT write did not finish. */
function waitCell(r: FairnessRow | undefined): string {
  return r ? (r.dio_wait_max === null ? 'none' : String(r.dio_wait_max)) : 'n/a';
}

/**
 * Fairness across nodes (issue 19), a table of its own: only cluster schemes run it, so it has a
 * row per scheme measured, not per column of the matrix (the rest would be all n/a).
 */
function nodeFairnessLines(m: Matrix, o: MatrixTextOptions): string[] {
  const rows = m.measures.fairness_nodes;
  if (!rows.length) return [];
  const storms = [...new Set(rows.map((x) => x.storm))];
  const names = m.schemes.map((s) => s.name).filter((n) => rows.some((r) => r.scheme === n));
  const lw = Math.max(...m.schemes.map((s) => s.name.length)) + 1;
  const head = storms.map((s) => `storm ${s}`);
  const waits = (n: string) =>
    storms.map((st) => waitCell(rows.find((x) => x.scheme === n && x.storm === st)));
  const out = ['', ...wrapLine(FAIRNESS_NODES_CAPTION, o, '', '  '), ...measureTable(lw, head, names, waits)];
  out.push(`  other schemes: n/a (one node only)`);
  if (rows.some((f) => f.dio_wait_max === null)) out.push('  none: the O_DIRECT write did not finish');
  return out;
}

/** The measures in markdown: a table per measure, schemes as rows (those measured). */
function measuresMarkdown(m: Matrix): string[] {
  const { fairness, scalability } = m.measures;
  const fairnessNodes = m.measures.fairness_nodes;
  const table = <R extends { scheme: string }>(
    caption: string,
    rows: readonly R[],
    dim: (r: R) => number,
    label: (d: number) => string,
    cell: (r: R | undefined) => string,
  ): string[] => {
    if (!rows.length) return [];
    const dims = [...new Set(rows.map(dim))];
    const names = m.schemes.map((s) => s.name).filter((n) => rows.some((r) => r.scheme === n));
    return [
      '',
      `**${caption}**`,
      '',
      `| scheme | ${dims.map(label).join(' | ')} |`,
      `|---|${dims.map(() => '--:').join('|')}|`,
      ...names.map(
        (n) =>
          `| \`${n}\` | ${dims.map((d) => cell(rows.find((r) => r.scheme === n && dim(r) === d))).join(' | ')} |`,
      ),
    ];
  };
  return [
    ...table(
      'Scalability: speedup of N O_DIRECT writers to disjoint ranges of one file (virtual time)',
      scalability,
      (r) => r.writers,
      (w) => `${w} writers`,
      (r) => (r ? `${r.speedup.toFixed(2)}×` : 'n/a'),
    ),
    ...table(
      'Fairness: longest wait of the O_DIRECT write in a fault storm of N faults per task (virtual ticks)',
      fairness,
      (r) => r.storm,
      (s) => `storm ${s}`,
      waitCell,
    ),
    ...table(
      `${FAIRNESS_NODES_CAPTION[0].toUpperCase()}${FAIRNESS_NODES_CAPTION.slice(1)}; other schemes: n/a (one node only)`,
      fairnessNodes,
      (r) => r.storm,
      (s) => `storm ${s}`,
      waitCell,
    ),
  ];
}

function summaryLines(m: Matrix): string[] {
  return [
    `pagelab matrix: ${m.scenarios.length} scenario${m.scenarios.length === 1 ? '' : 's'} × ${m.schemes.length} scheme${m.schemes.length === 1 ? '' : 's'}`,
    m.dfsBudget > 0
      ? `each cell a DFS of ≤ ${m.preemptions} preemptions (at most ${m.dfsBudget} runs), else ${m.schedules} random schedules (seed ${m.seed})`
      : `each cell ${m.schedules} random schedules (seed ${m.seed})`,
  ];
}

/** `pagelab matrix` for a terminal (or, with width 80, no colour and ASCII, a mail). */
export function formatMatrixText(m: Matrix, o: MatrixTextOptions): string[] {
  const lines = [
    ...summaryLines(m).flatMap((l, i) => wrapLine(l, o, i ? '  ' : '', '    ')),
    '',
    ...verdictLines(m, o),
    ...certificateLines(m, o),
    ...findingLines(m, o),
    ...measureLines(m, o),
  ];
  return o.ascii ? lines.map(asciify) : lines;
}

function mdCell(s: string): string {
  return s.replaceAll('|', '\\|');
}

/** `pagelab matrix --format markdown`: a table with the schemes' full names and the details. */
export function formatMatrixMarkdown(m: Matrix, replayCommand: (replay: string) => string): string[] {
  const at = new Map(m.rows.map((r) => [`${r.scenario}\u0000${r.scheme}`, r]));
  const head = `| scenario | ${m.schemes.map((s) => `\`${s.name}\``).join(' | ')} |`;
  const sep = `|---|${m.schemes.map(() => ':-:').join('|')}|`;
  const rows = m.scenarios.map((sc) => {
    const cells = m.schemes.map((s) => {
      const r = at.get(`${sc.name}\u0000${s.name}`);
      const code = cellCode(r);
      return r && r.verdict !== 'ok' && r.verdict !== 'n/a' ? `**${code}**` : mdCell(code);
    });
    return `| \`${sc.name}\` | ${cells.join(' | ')} |`;
  });
  const codes = [...new Set(m.rows.map((r) => cellCode(r)))].sort();
  const legend = codes.map((c) => {
    const meaning = c === SAMPLED ? SAMPLED_MEANING : (Object.values(CODES).find(([k]) => k === c)?.[1] ?? c);
    return `\`${c}\` ${meaning.replace('<= K', `≤ ${m.preemptions}`)}`;
  });
  const failing = m.rows.filter((r) => r.replay && r.verdict !== 'ok' && r.verdict !== 'n/a');
  const certs = m.rows
    .filter((r) => r.verdict !== 'n/a')
    .map((r) => `- \`${r.scenario}\` / \`${r.scheme}\`: ${r.verdict}: ${r.coverage.text}`);
  return [
    `${summaryLines(m).join('; ')}.`,
    '',
    head,
    sep,
    ...rows,
    '',
    legend.join(' · '),
    '',
    ...(failing.length ? [`**Findings (${failing.length})**`, ''] : []),
    ...failing.map(
      (r) =>
        `- **${codeOf(r.verdict)}** \`${r.scenario}\` / \`${r.scheme}\`: ${mdCell(r.summary ?? '')}  \n  \`${replayCommand(r.replay as string)}\``,
    ),
    '',
    '<details><summary>What backs each verdict</summary>',
    '',
    ...certs,
    '',
    '</details>',
    ...measuresMarkdown(m),
  ];
}
