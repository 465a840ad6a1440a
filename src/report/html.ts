/**
 * The HTML reports: one self-contained file (inline CSS and script, a Content-Security-Policy
 * that forbids every load), no network.
 *
 * A finding's report: the verdict and the finding (which bytes, which ops, why, the steps behind
 * it), a swimlane timeline of the tasks, the trace as per-task columns, and the kernel state at
 * the step under the cursor — locks held, waits, syscalls in progress, page cache folios (dirty,
 * locked, mapped, pinned), pinned user pages, bios in flight — folded from the trace (state.ts).
 * The matrix: schemes as columns, scenarios as rows, coloured by verdict, the measures (fairness,
 * scalability) under them, and each failing cell's report embedded below its link.
 */
import { createHash } from 'node:crypto';
import { esc, jsonForScript } from './escape.js';
import { CSS, JS } from './html-assets.js';
import { type ReportInput, replayCommandOf } from './input.js';
import { buildModel, findingLines, keyRows, type ReportModel, type Row } from './model.js';
import { FoldedState, STATE_SECTIONS, type StateSection, stateLines } from './state.js';
import { type Swimlane, swimlane } from './swimlane.js';

/** Rows a report shows at most (the first and last halves of a longer run, e.g. a livelock). */
export const HTML_MAX_ROWS = 3000;
const LANE_LABEL_WIDTH = 118;

const SECTION_TITLES: Record<StateSection, string> = {
  syscalls: 'Syscalls in progress',
  locks: 'Locks held',
  waits: 'Waiting',
  'page cache': 'Page cache',
  'user pages': 'User pages (pinned or mapped, not in the page cache)',
  bios: 'Bios in flight',
};

export function verdictClass(v: string): string {
  if (v === 'ok') return 'v-ok';
  if (v === 'n/a') return 'v-na';
  if (v === 'inconclusive') return 'v-unk';
  if (v === 'deadlock' || v === 'no-progress') return 'v-hang';
  if (v === 'invariant') return 'v-inv';
  return 'v-data';
}

function badge(v: string): string {
  return `<span class="badge ${verdictClass(v)}">${esc(v)}</span>`;
}

/** The rows shown: all, or the first and last halves of `max`; `gap` is the index the gap precedes. */
function shownRows(rows: readonly Row[], max: number): { rows: Row[]; gap: number } {
  if (rows.length <= max) return { rows: [...rows], gap: -1 };
  const half = Math.floor(max / 2);
  return { rows: [...rows.slice(0, half), ...rows.slice(rows.length - half)], gap: half };
}

/** Column of a trace seq: the first shown row at or after it (the end, past the last). */
function columnOf(rows: readonly Row[]): (seq: number) => number {
  return (seq) => {
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (rows[mid].seq < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Snapshots {
  init: number[];
  states: number[][];
  lines: [number, string][];
}

/** The state after each shown row, as ids into a table of distinct lines. */
function snapshots(m: ReportModel, rows: readonly Row[]): Snapshots {
  const ids = new Map<string, number>();
  const lines: [number, string][] = [];
  const idsOf = (s: FoldedState) =>
    stateLines(s, m.input.tasks).map((l) => {
      const key = `${l.section}\u0000${l.text}`;
      let id = ids.get(key);
      if (id === undefined) {
        id = lines.push([STATE_SECTIONS.indexOf(l.section), l.text]) - 1;
        ids.set(key, id);
      }
      return id;
    });
  const fold = new FoldedState(m.input.initialPages);
  const init = idsOf(fold);
  const states: number[][] = [];
  let k = 0;
  for (const e of m.input.events) {
    fold.apply(e);
    if (k < rows.length && rows[k].seq === e.seq) {
      states.push(idsOf(fold));
      k++;
    }
  }
  return { init, states, lines };
}

function stepText(m: ReportModel, r: Row): string {
  return `step ${r.seq} · t=${r.time} · ${m.taskName(r.task)} · ${r.text}`;
}

function findingBox(m: ReportModel, rows: readonly Row[]): string {
  const f = m.input.finding;
  if (!f) return '';
  const [first, ...rest] = findingLines(f, m.input.ops);
  const replay = replayCommandOf(m.input);
  const hang = f.kind === 'deadlock' || f.kind === 'no-progress';
  const index = new Map(rows.map((r, i) => [r.seq, i]));
  const { rows: keys, omitted } = keyRows(m, 24);
  const steps = keys.map((r, i) => {
    const gap = omitted && i === keys.length / 2 ? `<li>… ${omitted} more</li>` : '';
    const at = index.get(r.seq);
    const mark = r.anchor ? '✖' : '▶';
    const link = at === undefined ? esc(stepText(m, r)) : `<a data-goto="${at}">${esc(stepText(m, r))}</a>`;
    return `${gap}<li class="${r.anchor ? 'anchor' : ''}">${mark} ${link}</li>`;
  });
  const others = m.input.others.map((o) => `<li>also: ${esc(o.kind)}: ${esc(o.summary)}</li>`).join('');
  return `<div class="finding${hang ? ' hang' : ''}">
<p class="summary">${esc(first)}</p>
<ul>${rest.map((d) => `<li>${esc(d)}</li>`).join('')}${others}</ul>
${steps.length ? `<div class="steps"><b>The steps behind it</b> (▶ in the trace, red dots in the timeline; ✖ the step the finding is about — click one to move the cursor there):<ul class="mono">${steps.join('')}</ul></div>` : ''}
${replay ? `<p class="replay">Replay: <code>${esc(replay)}</code></p>` : ''}
</div>`;
}

const CONTROLS = `<div class="bar">
<button type="button" data-act="first" title="first step (Home)">|◀ first</button>
<button type="button" data-act="prev" title="previous step (← or k)">◀ step</button>
<button type="button" data-act="next" title="next step (→ or j)">step ▶</button>
<button type="button" data-act="last" title="last step (End)">last ▶|</button>
<button type="button" data-act="prevkey" title="previous step behind the finding (p)">◀ ▶-step</button>
<button type="button" data-act="nextkey" title="next step behind the finding (n)">▶-step ▶</button>
<button type="button" data-act="finding" title="the step the finding is about (f)">✖ finding</button>
<span class="pl-at"></span>
</div>
<p class="legend"><span class="keys">keys: ← → step · n/p steps behind the finding · f the finding · click the timeline or a row</span><span><i style="background:#57606a"></i>syscall</span><span><i style="background:#4e79a7"></i>lock held (colour = lock class; pale = shared)</span><span><i style="background:#fff3cd;border:1px solid #d4a017"></i>waiting</span><span><i style="background:#dbe9f9;border:1px solid #4e79a7"></i>bio in flight</span><span><i style="border:2px dashed #cf222e"></i>never released / never woken</span><span><i style="background:#cf222e;border-radius:50%;width:10px"></i>step behind the finding</span></p>`;

function timeline(sw: Swimlane): string {
  const labels = sw.bands
    .map((b) => `<div style="top:${b.y}px;height:${b.height}px">${esc(b.title)}</div>`)
    .join('');
  return `<div class="swimwrap"><div class="lanes" style="width:${LANE_LABEL_WIDTH}px;height:${sw.height}px">${labels}</div><div class="swimscroll">${sw.svg}</div></div>`;
}

function traceRow(m: ReportModel, r: Row): string {
  const cls = `pl-row ${r.cls}${r.key ? ' key' : ''}${r.anchor ? ' anchor' : ''}`;
  const cells = m.columns
    .map((_, i) => (i === r.col ? `<td class="c">${esc(r.text)}</td>` : '<td></td>'))
    .join('');
  const data = `data-seq="${r.seq}" data-t="${r.time}" data-task="${esc(m.taskName(r.task))}" data-text="${esc(r.text)}"`;
  return `<tr class="${cls}" ${data}><td class="m"></td><td class="n">${r.seq}</td><td class="n">${r.time}</td>${cells}</tr>`;
}

function traceTable(m: ReportModel, rows: readonly Row[], gap: number, hidden: number): string {
  const head = m.columns.map((c) => `<th>${esc(c)}</th>`).join('');
  const body = rows.map((r, i) => {
    const gapRow =
      i === gap
        ? `<tr class="gap"><td colspan="${m.columns.length + 3}">… ${hidden} rows not shown (pagelab replay --json has the whole trace) …</td></tr>`
        : '';
    return gapRow + traceRow(m, r);
  });
  return `<div class="tracewrap"><table class="trace"><thead><tr><th></th><th title="order of execution">step</th><th title="the task's virtual time">t</th>${head}</tr></thead><tbody>${body.join('')}</tbody></table></div>`;
}

function statePanel(): string {
  const sections = STATE_SECTIONS.map(
    (s, i) => `<h4>${esc(SECTION_TITLES[s])}</h4><ul data-sec="${i}"></ul>`,
  );
  return `<aside class="state"><h3>State</h3><p class="what"></p>${sections.join('')}</aside>`;
}

function heading(input: ReportInput, level: 'h1' | 'h2'): string {
  return `<${level}><span class="mono">${esc(input.scenario)}</span> under <span class="mono">${esc(input.scheme)}</span> ${badge(input.verdict)}</${level}>
<p class="sub">${esc(input.provenance)}</p>`;
}

/** One report as a `<section>`: embeddable (the matrix embeds one per failing cell). */
export function reportSection(
  input: ReportInput,
  id: string,
  level: 'h1' | 'h2' = 'h1',
  maxRows = HTML_MAX_ROWS,
): string {
  const note = input.note ? `<p class="note">${esc(input.note)}</p>` : '';
  if (!input.events.length)
    return `<section class="pl-static" id="${esc(id)}">${heading(input, level)}${note}</section>`;
  const m = buildModel(input);
  const { rows, gap } = shownRows(m.rows, maxRows);
  const snaps = snapshots(m, rows);
  const anchor = rows.findIndex((r) => r.anchor);
  const keys = rows.flatMap((r, i) => (r.key ? [i] : []));
  const sw = swimlane(m, rows, columnOf(rows));
  const data = { ...snaps, sections: STATE_SECTIONS, anchor, keys, dx: sw.dx, x0: sw.x0 };
  return `<section class="pl-report" id="${esc(id)}">
${heading(input, level)}${note}
${findingBox(m, rows)}
${CONTROLS}
${timeline(sw)}
<div class="grid">${traceTable(m, rows, gap, m.rows.length - rows.length)}${statePanel()}</div>
<script type="application/json" class="pl-data">${jsonForScript(data)}</script>
</section>`;
}

const SCRIPT_HASH = createHash('sha256').update(JS).digest('base64');

/** A whole page around `body`: inline CSS and script; the CSP lets nothing load, no other script run. */
export function htmlDocument(title: string, body: string): string {
  const csp = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; img-src data:`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
${body}
</main>
<script>${JS}</script>
</body>
</html>
`;
}

/** The HTML report of one finding (pagelab check/replay --html). */
export function reportHtml(input: ReportInput): string {
  return htmlDocument(
    `pagelab: ${input.scenario} under ${input.scheme}: ${input.verdict}`,
    reportSection(input, 'report'),
  );
}
