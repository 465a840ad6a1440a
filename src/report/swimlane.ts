/**
 * The swimlane timeline of the HTML report, as SVG: one band per task column, x = the rows shown
 * (one column per step that matters, in execution order). In each band: the syscalls (thin bars
 * on top), the lock holds (coloured by lock class, lighter when shared) and the waits (hatched)
 * packed in as few sub-rows as overlap allows, and a dot per model event; the bios in flight in
 * the irq/bio band. The finding's step is a red line; the cursor is moved by the page's script.
 */
import { esc } from './escape.js';
import type { ReportModel, Row } from './model.js';
import type { Span } from './state.js';

/** Column width: wide for a short run, at least MIN_DX for a long one. */
const MIN_DX = 16;
const MAX_DX = 40;
const TARGET_WIDTH = 1150;
const BAR = 13;
const OP_BAR = 12;
const TOP = 22;
const PAD = 6;
const PALETTE = ['#4e79a7', '#59a14f', '#9c755f', '#76b7b2', '#b07aa1', '#edc948', '#ff9da7', '#bab0ac'];

export interface BandGeom {
  title: string;
  y: number;
  height: number;
}

export interface Swimlane {
  svg: string;
  bands: BandGeom[];
  width: number;
  height: number;
  /** x of the centre of column 0; column i is at x0 + i·dx. */
  x0: number;
  dx: number;
}

/** The lock's class: `i_rwsem(f) write` → `i_rwsem`, `folio f:0 excl` → `folio`. */
export function lockClass(name: string): string {
  return name.split(/[ (]/)[0];
}

function colourOf(cls: string): string {
  let h = 0;
  for (const c of cls) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

function shared(name: string): boolean {
  return / (read|shared|SH|PR|CW)\b/.test(name);
}

/** Packs spans (sorted by start) into sub-rows where none overlaps another. */
function pack(spans: readonly Span[], xOf: (seq: number) => number): number[] {
  const ends: number[] = [];
  return spans.map((s) => {
    const a = xOf(s.start);
    let row = ends.findIndex((e) => e < a);
    if (row < 0) row = ends.push(0) - 1;
    ends[row] = Math.max(xOf(s.end), a + 1);
    return row;
  });
}

interface Ctx {
  dx: number;
  /** The spans with something to show: not wholly inside the gap of a long run. */
  spans: readonly Span[];
  m: ReportModel;
  xOf: (seq: number) => number;
  ncols: number;
  out: string[];
}

function title(ctx: Ctx, s: Span): string {
  const who = ctx.m.taskName(s.task);
  const what = {
    op: `${who}: ${s.name}`,
    lock: `${who} holds ${s.name}`,
    wait: `${who} waits for ${s.name}`,
    bio: `${s.name} (submitted by ${who})`,
  }[s.kind];
  const end = s.open ? 'still open when the run ended' : `step ${s.end} (t=${s.endTime}) at ${s.endSite}`;
  const ret = s.ret !== undefined ? `, returned ${s.ret}` : '';
  return `${what}\nfrom step ${s.start} (t=${s.startTime}) at ${s.site}\nto ${end}${ret}`;
}

function bar(ctx: Ctx, s: Span, y: number, h: number, cls: string, fill: string, label: string): void {
  const x1 = ctx.xOf(s.start);
  const x2 = s.open ? ctx.ncols : ctx.xOf(s.end);
  const x = x1 * ctx.dx + ctx.dx / 2 + 0.5;
  const w = Math.max(ctx.dx / 2, (x2 - x1) * ctx.dx - 1);
  const style = fill ? ` fill="${fill}"` : '';
  ctx.out.push(
    `<g class="span ${cls}${s.open ? ' open' : ''}"><title>${esc(title(ctx, s))}</title><rect x="${x}" y="${y}" width="${w}" height="${h}" rx="2"${style}/>`,
  );
  if (label && w > 24) {
    const text =
      label.length * 6.2 > w - 6 ? `${label.slice(0, Math.max(1, Math.floor((w - 10) / 6.2)))}…` : label;
    ctx.out.push(`<text x="${x + 3}" y="${y + h - 3}">${esc(text)}</text>`);
  }
  ctx.out.push('</g>');
}

function spanBar(ctx: Ctx, s: Span, y: number): void {
  if (s.kind === 'op')
    bar(ctx, s, y, OP_BAR, 'op', '', s.ret === undefined ? s.name : `${s.name} = ${s.ret}`);
  else if (s.kind === 'wait') bar(ctx, s, y, BAR, 'wait', 'url(#pl-hatch)', `wait ${s.name}`);
  else if (s.kind === 'bio') bar(ctx, s, y, BAR, 'bio', '', s.name);
  else bar(ctx, s, y, BAR, `lock${shared(s.name) ? ' shared' : ''}`, colourOf(lockClass(s.name)), s.name);
}

function dot(ctx: Ctx, r: Row, i: number, y: number): void {
  const cx = i * ctx.dx + ctx.dx / 2;
  const cls = `ev ${r.cls}${r.key ? ' key' : ''}${r.anchor ? ' anchor' : ''}`;
  const rad = r.key ? 4.5 : 3;
  ctx.out.push(
    `<circle class="${cls}" cx="${cx}" cy="${y}" r="${rad}"><title>${esc(`step ${r.seq} (t=${r.time}) ${ctx.m.taskName(r.task)}: ${r.text}`)}</title></circle>`,
  );
}

/** One band: its spans packed into sub-rows, its events as dots. Returns its height. */
function band(ctx: Ctx, col: number, y: number, rows: readonly Row[]): number {
  const irq = col === ctx.m.columns.length - 1;
  const own = ctx.spans.filter((s) => ctx.m.colOf(s.task) === col);
  const ops = own.filter((s) => s.kind === 'op');
  const rest = ctx.spans.filter((s) =>
    s.kind === 'bio' ? irq : s.kind !== 'op' && ctx.m.colOf(s.task) === col,
  );
  const dotsY = y + PAD + 4;
  rows.forEach((r, i) => {
    if (r.col === col) dot(ctx, r, i, dotsY);
  });
  const opY = dotsY + 7;
  const opRows = pack(ops, ctx.xOf);
  for (const [i, s] of ops.entries()) spanBar(ctx, s, opY + opRows[i] * (OP_BAR + 2));
  const restY = opY + Math.max(1, ...opRows.map((r) => r + 1)) * (OP_BAR + 2) + 2;
  const subRows = pack(rest, ctx.xOf);
  for (const [i, s] of rest.entries()) spanBar(ctx, s, restY + subRows[i] * (BAR + 3));
  const n = Math.max(1, ...subRows.map((r) => r + 1));
  return restY + n * (BAR + 3) + PAD - y;
}

function axis(ctx: Ctx, rows: readonly Row[]): void {
  rows.forEach((r, i) => {
    if (i % 5 === 0 || r.anchor)
      ctx.out.push(
        `<text class="tick${r.anchor ? ' anchor' : ''}" x="${i * ctx.dx + ctx.dx / 2}" y="${TOP - 8}">${r.seq}</text>`,
      );
  });
}

const DEFS =
  '<defs><pattern id="pl-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">' +
  '<rect width="6" height="6" fill="#fff3cd"/><line x1="0" y1="0" x2="0" y2="6" stroke="#d4a017" stroke-width="3"/></pattern></defs>';

/** The swimlane of the rows shown; `xOf` maps a trace seq to its column. */
export function swimlane(m: ReportModel, rows: readonly Row[], xOf: (seq: number) => number): Swimlane {
  const dx = Math.max(MIN_DX, Math.min(MAX_DX, Math.floor(TARGET_WIDTH / Math.max(1, rows.length))));
  const shown = new Set(rows.map((r) => r.seq));
  const spans = m.spans.filter((s) => s.open || shown.has(s.start) || xOf(s.start) < xOf(s.end));
  const ctx: Ctx = { dx, spans, m, xOf, ncols: rows.length, out: [] };
  const bands: BandGeom[] = [];
  const body: string[] = [];
  let y = TOP;
  m.columns.forEach((titleText, col) => {
    ctx.out = [];
    const h = band(ctx, col, y, rows);
    bands.push({ title: titleText, y, height: h });
    body.push(
      `<rect class="band${col % 2 ? ' odd' : ''}" x="0" y="${y}" width="${rows.length * ctx.dx + ctx.dx}" height="${h}"/>`,
      ...ctx.out,
    );
    y += h;
  });
  ctx.out = [];
  axis(ctx, rows);
  const width = rows.length * ctx.dx + ctx.dx;
  const anchor = rows.findIndex((r) => r.anchor);
  const finding =
    anchor >= 0
      ? `<line class="finding-line" x1="${anchor * ctx.dx + ctx.dx / 2}" x2="${anchor * ctx.dx + ctx.dx / 2}" y1="${TOP - 4}" y2="${y}"/>`
      : '';
  const cursor = `<g class="pl-cursor" transform="translate(${ctx.dx / 2},0)"><rect x="${-ctx.dx / 2}" y="${TOP}" width="${ctx.dx}" height="${y - TOP}"/><line x1="0" x2="0" y1="${TOP}" y2="${y}"/></g>`;
  const svg = `<svg class="pl-swim" width="${width}" height="${y + 4}" viewBox="0 0 ${width} ${y + 4}">${DEFS}${body.join('')}${ctx.out.join('')}${finding}${cursor}</svg>`;
  return { svg, bands, width, height: y + 4, x0: ctx.dx / 2, dx };
}
