/**
 * The matrix as one HTML page: schemes as columns, scenarios as rows, each cell coloured by its
 * verdict (n/a cells carry their reason as a numbered note), the measures under the same columns
 * (whatever `measures` holds: scalability, fairness, fairness across nodes), and every failing cell linked
 * to its report, embedded below (or, without a trace, its replay command).
 */
import { esc } from './escape.js';
import { htmlDocument, reportSection, verdictClass } from './html.js';
import { npxReplayCommand, type ReportInput } from './input.js';

export interface MatrixCell {
  scenario: string;
  scheme: string;
  verdict: string;
  schedules: number;
  replay: string | null;
  /** The finding's summary, or the n/a reason. */
  summary: string | null;
  /** The failing run, re-executed with the trace on. */
  report?: ReportInput | null;
  /** What backs the verdict (the certificate line: a complete DFS, or the schedules sampled). */
  coverage?: { text: string };
}

/** A row of a measure: a `scheme` and the figures (`writers`, `speedup`; `storm`, `dio_wait_max`). */
export type MeasureRow = object;
type Fields = Readonly<Record<string, unknown>>;

export interface MatrixPage {
  seed: number;
  schedules: number;
  scenarios: readonly { name: string; doc: string }[];
  schemes: readonly { name: string; summary: string }[];
  cells: readonly MatrixCell[];
  /** As in `pagelab matrix --json`: measure name → rows with a `scheme` and numbers. */
  measures: Readonly<Record<string, readonly MeasureRow[]>>;
  /** Each cell's DFS: its run budget (0: none, random schedules only) and preemption bound. */
  dfsBudget?: number;
  preemptions?: number;
  /** The command that replays a cell's replay string (the CLI's); default npxReplayCommand. */
  replayCommand?: (replay: string) => string;
}

interface MeasureInfo {
  caption: string;
  /** Which way is better, for the shading (none: no shading). */
  better?: 'higher' | 'lower';
  unit?: string;
  /** What a null figure means. */
  none?: string;
}

const MEASURES: Record<string, MeasureInfo> = {
  scalability: {
    caption:
      'scalability: speedup of N O_DIRECT writers to disjoint ranges of one file (virtual time; higher is better)',
    better: 'higher',
    unit: '×',
  },
  fairness: {
    caption:
      'fairness: longest wait of the O_DIRECT write in a fault storm of N faults per task (virtual ticks; lower is fairer)',
    better: 'lower',
    none: 'no finish',
  },
  fairness_nodes: {
    caption:
      'fairness across nodes: longest wait of the O_DIRECT write on node B in a fault storm of N faults per task on node A (virtual ticks, DLM round trips included; lower is fairer)',
    better: 'lower',
    none: 'no finish',
  },
};

/** Rows an embedded report shows at most: the first and last halves of a longer run. */
const MATRIX_MAX_ROWS = 600;

function cellId(i: number): string {
  return `cell-${i}`;
}

/** Numbered notes for the distinct n/a reasons. */
function naNotes(cells: readonly MatrixCell[]): Map<string, number> {
  const notes = new Map<string, number>();
  for (const c of cells)
    if (c.verdict === 'n/a' && c.summary && !notes.has(c.summary)) notes.set(c.summary, notes.size + 1);
  return notes;
}

function cellHtml(c: MatrixCell | undefined, i: number, notes: Map<string, number>): string {
  if (!c) return '<td class="cell v-na">?</td>';
  const cls = `cell ${verdictClass(c.verdict)}`;
  const tip = esc(c.summary ?? `no forbidden finding in ${c.coverage?.text ?? `${c.schedules} schedules`}`);
  if (c.verdict === 'n/a')
    return `<td class="${cls}" title="${tip}">n/a <sup>${notes.get(c.summary ?? '') ?? ''}</sup></td>`;
  if (c.verdict === 'ok' || c.verdict === 'inconclusive')
    return `<td class="${cls}" title="${tip}">${c.verdict}</td>`;
  return `<td class="${cls}" title="${tip}"><a href="#${cellId(i)}">${esc(c.verdict)}</a></td>`;
}

/** The field a measure row is about (the last numeric one) and the fields that label it. */
function measureShape(rows: readonly Fields[]): { value: string; dims: string[] } | null {
  const first = rows[0];
  if (!first) return null;
  const keys = Object.keys(first).filter((k) => k !== 'scheme');
  const value = keys[keys.length - 1];
  return value ? { value, dims: keys.slice(0, -1) } : null;
}

function formatValue(info: MeasureInfo, v: unknown): string {
  if (v === null) return esc(info.none ?? '—');
  if (typeof v !== 'number') return esc(String(v));
  return `${Number.isInteger(v) ? v : v.toFixed(2)}${info.unit ?? ''}`;
}

/** Green, stronger for the better figures of a row; red for a figure that is null (no finish). */
function shade(info: MeasureInfo, v: unknown, values: readonly number[]): string {
  if (v === null) return 'background:#ffebe9;color:#cf222e';
  if (typeof v !== 'number' || !info.better || !values.length) return '';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  const t = hi === lo ? 1 : info.better === 'higher' ? (v - lo) / (hi - lo) : (hi - v) / (hi - lo);
  return `background:rgba(26,127,55,${(0.08 + 0.4 * t).toFixed(2)})`;
}

function measureRows(name: string, rows: readonly MeasureRow[], schemes: MatrixPage['schemes']): string[] {
  const fields = rows as readonly Fields[];
  const shape = measureShape(fields);
  if (!shape) return [];
  const info = MEASURES[name] ?? { caption: name };
  const label = (r: Fields) => shape.dims.map((d) => `${d} ${String(r[d])}`).join(', ');
  const groups = new Map<string, Fields[]>();
  for (const r of fields) groups.set(label(r), [...(groups.get(label(r)) ?? []), r]);
  const out = [`<tr class="sep"><td colspan="${schemes.length + 1}">${esc(info.caption)}</td></tr>`];
  for (const [dims, group] of groups) {
    const values = group.map((r) => r[shape.value]).filter((v): v is number => typeof v === 'number');
    const cells = schemes.map((s) => {
      const r = group.find((x) => x.scheme === s.name);
      if (!r) return '<td class="meas v-na" title="not measured: n/a for this scheme">n/a</td>';
      const v = r[shape.value];
      return `<td class="meas" style="${shade(info, v, values)}">${formatValue(info, v)}</td>`;
    });
    out.push(`<tr><th class="scn">${esc(dims || shape.value)}</th>${cells.join('')}</tr>`);
  }
  return out;
}

function matrixTable(p: MatrixPage, notes: Map<string, number>): string {
  const head = p.schemes
    .map((s) => `<th title="${esc(s.summary)}"><span class="mono">${esc(s.name)}</span></th>`)
    .join('');
  const index = new Map(p.cells.map((c, i) => [`${c.scenario}\u0000${c.scheme}`, i]));
  const rows = p.scenarios.map((scn) => {
    const cells = p.schemes.map((s) => {
      const i = index.get(`${scn.name}\u0000${s.name}`) ?? -1;
      return cellHtml(p.cells[i], i, notes);
    });
    return `<tr><th class="scn" title="${esc(`${scn.name}: ${scn.doc}`)}">${esc(scn.name)}<small>${esc(scn.doc)}</small></th>${cells.join('')}</tr>`;
  });
  const measures = Object.entries(p.measures).flatMap(([name, rs]) => measureRows(name, rs, p.schemes));
  return `<table class="matrix"><thead><tr><th></th>${head}</tr></thead><tbody>${rows.join('')}${measures.join('')}</tbody></table>`;
}

function cellReport(c: MatrixCell, i: number, replayCommand: (replay: string) => string): string {
  const title = `<span class="badge ${verdictClass(c.verdict)}">${esc(c.verdict)}</span> <span class="mono">${esc(c.scenario)}</span> under <span class="mono">${esc(c.scheme)}</span> — ${esc(c.summary ?? '')}`;
  const body = c.report
    ? reportSection(c.report, `${cellId(i)}-report`, 'h2', MATRIX_MAX_ROWS)
    : `<p>${esc(c.summary ?? '')}</p>${c.replay ? `<p class="replay">Replay: <code>${esc(replayCommand(c.replay))}</code></p>` : ''}`;
  return `<details class="cellreport" id="${cellId(i)}"><summary>${title}</summary>${body}</details>`;
}

const LEGEND = `<p class="legend"><span><i class="v-ok" style="background:#dafbe1"></i>ok: nothing forbidden found</span>
<span><i style="background:#ffebe9"></i>data finding (stale-read, lost-write, incoherent, durability)</span>
<span><i style="background:#fbefff"></i>deadlock / no-progress</span><span><i style="background:#ffe2cc"></i>broken invariant</span>
<span><i style="background:#f0f2f4"></i>n/a: the scenario cannot be expressed for the scheme (see the notes)</span></p>`;

const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** What the cells are, as the terminal's matrix says it (report/matrix-text.ts). */
function pageSummary(p: MatrixPage): string {
  const size = `${count(p.scenarios.length, 'scenario')} × ${count(p.schemes.length, 'scheme')}`;
  const each = p.dfsBudget
    ? `each cell a DFS of ≤ ${p.preemptions ?? 2} preemptions (at most ${p.dfsBudget} runs), else ${p.schedules} random schedules (seed ${p.seed})`
    : `each cell ${p.schedules} random schedules (seed ${p.seed})`;
  return `${size}; ${each}.`;
}

/** The matrix page (pagelab matrix --html). */
export function matrixHtml(p: MatrixPage): string {
  const notes = naNotes(p.cells);
  const failing = p.cells.flatMap((c, i) =>
    c.verdict !== 'ok' && c.verdict !== 'n/a' && c.verdict !== 'inconclusive'
      ? [cellReport(c, i, p.replayCommand ?? npxReplayCommand)]
      : [],
  );
  const noteList = [...notes].map(([reason, n]) => `<li value="${n}">${esc(reason)}</li>`).join('');
  const body = `<h1>pagelab matrix</h1>
<p class="sub">${esc(pageSummary(p))} Hover over a cell for what backs it; click a finding for its report.</p>
${LEGEND}
${matrixTable(p, notes)}
${noteList ? `<h2>n/a</h2><ol class="notes">${noteList}</ol>` : ''}
<h2>Findings (${failing.length})</h2>
${failing.join('\n')}`;
  return htmlDocument('pagelab matrix', body);
}
