/**
 * The terminal report: the verdict, the trace of the failing run as per-task columns (one row per
 * step that matters: locks, waits, page cache and fault events, pins, bios, syscall calls and
 * returns, with the step number and the task's virtual time), and at the bottom the finding's
 * explanation — which bytes, which write was lost or which read was stale, why — with the steps
 * behind it (marked ▶ in the trace) and the one command that replays it. Colour only on a TTY.
 * (The matrix as text is matrix-text.ts's.)
 */
import type { CheckResult } from '../explore/check.js';
import { fromCheck, type ReportInput } from './input.js';
import { buildModel, findingLines, keyRows, type ReportModel, type Row, type RowClass } from './model.js';

export interface TextOptions {
  /** ANSI colours (a TTY that has them; see terminalOptions). */
  color?: boolean;
  /** The terminal's width in columns: task columns widen to fill it. */
  width?: number;
}

/**
 * Colour and width for stdout. Colour on a TTY with colours, unless NO_COLOR is set (no-color.org);
 * FORCE_COLOR (other than 0 or false) forces it on, FORCE_COLOR=0 off (the convention of Node and
 * chalk).
 */
export function terminalOptions(stream: NodeJS.WriteStream = process.stdout): TextOptions {
  const tty = stream.isTTY === true;
  return { color: wantColor(stream), width: tty ? stream.columns : undefined };
}

export function wantColor(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env.NO_COLOR) return false;
  return stream.isTTY === true && (stream.hasColors?.() ?? false);
}

const COL = 34;
const ANSI: Record<RowClass | 'key' | 'anchor' | 'head' | 'dim' | 'bad', [number, number]> = {
  op: [1, 22],
  ret: [1, 22],
  lock: [36, 39],
  unlock: [2, 22],
  wait: [33, 39],
  wake: [33, 39],
  event: [0, 0],
  warn: [31, 39],
  key: [1, 22],
  anchor: [31, 39],
  head: [1, 22],
  dim: [2, 22],
  bad: [31, 39],
};

type Paint = (style: keyof typeof ANSI, s: string) => string;

function painter(color: boolean): Paint {
  if (!color) return (_style, s) => s;
  return (style, s) => {
    const [on, off] = ANSI[style];
    return on ? `\x1b[${on}m${s}\x1b[${off}m` : s;
  };
}

/** Splits `s` into lines of at most `n` characters, at spaces where it can. */
function wrap(s: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (rest.length > n) {
    const cut = rest.lastIndexOf(' ', n);
    const at = cut > n / 3 ? cut : n;
    out.push(rest.slice(0, at));
    rest = `  ${rest.slice(at).trimStart()}`;
  }
  out.push(rest);
  return out;
}

function columnWidth(ncols: number, width: number | undefined): number {
  if (!width) return COL;
  return Math.max(24, Math.min(60, Math.floor((width - 15 - ncols) / ncols)));
}

function marker(r: Row): string {
  if (r.anchor) return '✖';
  return r.key ? '▶' : ' ';
}

function rowLines(r: Row, col: number, paint: Paint): string[] {
  const style = r.anchor ? 'anchor' : r.key && r.cls === 'event' ? 'key' : r.cls;
  const indent = ' '.repeat((col + 1) * r.col);
  return wrap(r.text, col).map((text, k) => {
    const gutter =
      k === 0
        ? `${paint(r.key ? 'bad' : 'dim', marker(r))}${String(r.seq).padStart(5)} ${String(r.time).padStart(6)}`
        : ' '.repeat(13);
    return `${gutter}  ${indent}${paint(style, text)}`;
  });
}

/** Which rows to print: all, or the first and last halves of `maxRows` with the gap between. */
function visible(rows: readonly Row[], maxRows: number): { head: Row[]; tail: Row[] } {
  if (rows.length <= maxRows) return { head: [...rows], tail: [] };
  const half = Math.max(1, Math.floor(maxRows / 2));
  return { head: rows.slice(0, half), tail: rows.slice(rows.length - half) };
}

/** The trace as per-task columns under a header; `step` is the trace seq, `t` the task's virtual time. */
function traceLines(m: ReportModel, maxRows: number, opts: TextOptions): string[] {
  const paint = painter(opts.color ?? false);
  const col = columnWidth(m.columns.length, opts.width);
  const head = `${' step'.padStart(6)} ${'t'.padStart(6)}  ${m.columns.map((h) => h.slice(0, col).padEnd(col)).join(' ')}`;
  const lines = [
    paint('head', head.trimEnd()),
    `${'-'.repeat(13)}  ${m.columns.map(() => '-'.repeat(col)).join(' ')}`,
  ];
  const { head: first, tail } = visible(m.rows, maxRows);
  for (const r of first) lines.push(...rowLines(r, col, paint));
  if (tail.length) {
    const gap = tail[0].seq - first[first.length - 1].seq - 1;
    lines.push(
      paint(
        'dim',
        `  … ${m.rows.length - first.length - tail.length} rows (${gap} steps) not shown; --json has the whole trace`,
      ),
    );
    for (const r of tail) lines.push(...rowLines(r, col, paint));
  }
  return lines;
}

function stepLine(m: ReportModel, r: Row, paint: Paint): string {
  const who = m.taskName(r.task).padEnd(Math.max(...m.input.tasks.map((t) => t.name.length), 3));
  const text = `${marker(r)} step ${String(r.seq).padEnd(4)} t=${String(r.time).padEnd(5)} ${who}  ${r.text}`;
  return `  ${r.anchor ? paint('bad', text) : text}`;
}

/** The explanation under the trace: the finding, the other findings, the steps behind it. */
function explanation(m: ReportModel, paint: Paint): string[] {
  const f = m.input.finding;
  if (!f) return [];
  const [first, ...rest] = findingLines(f);
  const out = ['', paint('bad', first), ...rest.map((d) => `  ${d}`)];
  for (const o of m.input.others) out.push(`  also: ${o.kind}: ${o.summary}`);
  const { rows, omitted } = keyRows(m);
  if (rows.length) {
    out.push(paint('head', 'the steps behind it (▶ in the trace; ✖ = the step the finding is about):'));
    rows.forEach((r, i) => {
      if (omitted && i === rows.length / 2) out.push(paint('dim', `  … ${omitted} more`));
      out.push(stepLine(m, r, paint));
    });
  }
  return out;
}

function header(input: ReportInput, paint: Paint): string {
  const who = `${input.scenario} under ${input.scheme}`;
  if (input.verdict === 'n/a') return `${who}: n/a — ${input.note ?? ''}`;
  if (input.verdict === 'inconclusive')
    return `${who}: ${paint('bad', 'inconclusive')} — ${input.provenance}`;
  if (!input.finding) return `${who}: ok — ${input.provenance}`;
  return `${who}: ${paint('bad', input.verdict)} (${input.provenance})`;
}

/** A whole report: header, trace columns, explanation, replay command. */
export function formatReport(
  input: ReportInput,
  replayCommand: string | null,
  opts: TextOptions = {},
  maxRows = 400,
): string {
  const paint = painter(opts.color ?? false);
  const out = [header(input, paint)];
  if (!input.events.length) return out.join('\n');
  const m = buildModel(input);
  const which = input.finding ? 'the failing run' : 'the run';
  out.push('', paint('head', `trace of ${which} (step = order of execution, t = the task's virtual time):`));
  out.push(...traceLines(m, maxRows, opts));
  out.push(...explanation(m, paint));
  if (replayCommand) out.push('', `replay: ${replayCommand}`);
  return out.join('\n');
}

/** The whole text report of `pagelab check`. */
export function formatCheck(r: CheckResult, replayCommand: string | null, opts: TextOptions = {}): string {
  return formatReport(fromCheck(r), replayCommand, opts);
}
