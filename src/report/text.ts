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
  /** The terminal's width in columns (default REPORT_WIDTH): the task columns fill it. */
  width?: number;
}

/** Columns a report fits in where the terminal does not say (a pipe, a file, a mail reply). */
export const REPORT_WIDTH = 100;

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

/** A task column narrower than this folds the trace into one column (task named on each row). */
const COL_MIN = 20;
const COL_MAX = 60;
/** The marker, the step and the time: `▶   17      3`. */
const GUTTER = 13;
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

/**
 * Splits `s` into lines of at most `n` characters, at spaces where it can; the lines after the
 * first start with `hang` (counted in `n`).
 */
function wrap(s: string, n: number, hang = '  '): string[] {
  const out: string[] = [];
  let rest = s;
  while (rest.length > n) {
    const cut = rest.lastIndexOf(' ', n);
    const at = cut > Math.max(n / 3, hang.length) ? cut : n;
    out.push(rest.slice(0, at).trimEnd());
    rest = `${hang}${rest.slice(at).trimStart()}`;
  }
  out.push(rest);
  return out;
}

/**
 * The task columns shown (the irq/bio column only if a row is in it) and their width: as wide as
 * the terminal allows, up to COL_MAX; 0 when they would be narrower than COL_MIN (then the trace
 * folds into one column).
 */
function columnLayout(m: ReportModel, width: number): { shown: number; col: number } {
  const irq = m.columns.length - 1;
  const shown = m.rows.some((r) => r.col === irq) ? m.columns.length : irq;
  // A row's text ends at GUTTER + 2 + (col + 1)·c + col for column c < shown: at most width.
  const col = Math.min(COL_MAX, Math.floor((width - GUTTER - 1) / Math.max(shown, 1)) - 1);
  return { shown, col: col >= COL_MIN ? col : 0 };
}

function marker(r: Row): string {
  if (r.anchor) return '✖';
  return r.key ? '▶' : ' ';
}

function rowStyle(r: Row): keyof typeof ANSI {
  return r.anchor ? 'anchor' : r.key && r.cls === 'event' ? 'key' : r.cls;
}

function gutter(r: Row, k: number, paint: Paint): string {
  if (k > 0) return ' '.repeat(GUTTER);
  return `${paint(r.key ? 'bad' : 'dim', marker(r))}${String(r.seq).padStart(5)} ${String(r.time).padStart(6)}`;
}

function rowLines(r: Row, col: number, paint: Paint): string[] {
  const indent = ' '.repeat((col + 1) * r.col);
  return wrap(r.text, col).map((text, k) => `${gutter(r, k, paint)}  ${indent}${paint(rowStyle(r), text)}`);
}

/** A row of the folded trace: the task's name, then its text wrapped under itself. */
function foldedRowLines(r: Row, who: string, text: number, paint: Paint): string[] {
  const pad = ' '.repeat(who.length);
  return wrap(r.text, text).map(
    (line, k) => `${gutter(r, k, paint)}  ${k === 0 ? who : pad}  ${paint(rowStyle(r), line)}`,
  );
}

/** Which rows to print: all, or the first and last halves of `maxRows` with the gap between. */
function visible(rows: readonly Row[], maxRows: number): { head: Row[]; tail: Row[] } {
  if (rows.length <= maxRows) return { head: [...rows], tail: [] };
  const half = Math.max(1, Math.floor(maxRows / 2));
  return { head: rows.slice(0, half), tail: rows.slice(rows.length - half) };
}

/**
 * The trace under a header, `step` being the trace seq and `t` the task's virtual time: one column
 * per task where they fit the width, else folded into one (the task named on each row).
 */
function traceLines(m: ReportModel, maxRows: number, opts: TextOptions): string[] {
  const paint = painter(opts.color ?? false);
  const width = opts.width ?? REPORT_WIDTH;
  const { shown, col } = columnLayout(m, width);
  const names = m.columns.slice(0, shown);
  const whoWidth = Math.max(...names.map((n) => n.length), 4);
  const textWidth = Math.max(COL_MIN, width - GUTTER - 4 - whoWidth);
  const heads = col ? names.map((h) => h.slice(0, col).padEnd(col)) : ['task'];
  const rules = col ? names.map(() => '-'.repeat(col)) : ['-'.repeat(whoWidth), '-'.repeat(textWidth)];
  const sep = col ? ' ' : '  ';
  const lines = [
    paint('head', `${' step'.padStart(6)} ${'t'.padStart(6)}  ${heads.join(sep)}`.trimEnd()),
    `${'-'.repeat(GUTTER)}  ${rules.join(sep)}`,
  ];
  const one = (r: Row) =>
    col ? rowLines(r, col, paint) : foldedRowLines(r, m.columns[r.col].padEnd(whoWidth), textWidth, paint);
  const { head: first, tail } = visible(m.rows, maxRows);
  for (const r of first) lines.push(...one(r));
  if (tail.length) {
    const gap = tail[0].seq - first[first.length - 1].seq - 1;
    lines.push(
      paint(
        'dim',
        `  … ${m.rows.length - first.length - tail.length} rows (${gap} steps) not shown; --json has the whole trace`,
      ),
    );
    for (const r of tail) lines.push(...one(r));
  }
  return lines;
}

function stepLines(m: ReportModel, r: Row, paint: Paint, width: number): string[] {
  const who = m.taskName(r.task).padEnd(Math.max(...m.input.tasks.map((t) => t.name.length), 3));
  const head = `  ${marker(r)} step ${String(r.seq).padEnd(4)} t=${String(r.time).padEnd(5)} ${who}  `;
  const lines = wrap(`${head}${r.text}`, width, ' '.repeat(head.length));
  return r.anchor ? lines.map((l) => paint('bad', l)) : lines;
}

/** The explanation under the trace: the finding, the other findings, the steps behind it. */
function explanation(m: ReportModel, paint: Paint, width: number): string[] {
  const f = m.input.finding;
  if (!f) return [];
  const [first, ...rest] = findingLines(f, m.input.ops);
  const out = ['', ...wrap(first, width, '    ').map((l) => paint('bad', l))];
  for (const d of rest) out.push(...wrap(`  ${d}`, width, '    '));
  for (const o of m.input.others) out.push(...wrap(`  also: ${o.kind}: ${o.summary}`, width, '    '));
  const { rows, omitted } = keyRows(m);
  if (rows.length) {
    out.push(paint('head', 'the steps behind it (▶ in the trace; ✖ = the step the finding is about):'));
    rows.forEach((r, i) => {
      if (omitted && i === rows.length / 2) out.push(paint('dim', `  … ${omitted} more`));
      out.push(...stepLines(m, r, paint, width));
    });
  }
  return out;
}

/**
 * The replay command after `replay:`, on the same line where it fits. A `… replay '<string>'`
 * command too long for the width (a long schedule, a deep path) is cut inside its quoted string, each piece but the last ending in `'\`
 * and the next line starting with `'` at column 0: the shell drops the backslash-newline (outside
 * quotes) and joins the quoted pieces into one word, so the lines run as printed.
 */
function replayLines(cmd: string, width: number): string[] {
  if (`replay: ${cmd}`.length <= width) return [`replay: ${cmd}`];
  // Only `… replay '<string>'` is cut; anything else (fsx's flags) stays on one line, as it was.
  const cut = cutReplayCommand(cmd, width, '  ');
  return cut ? ['replay:', ...cut] : [`replay: ${cmd}`];
}

/**
 * A `… replay '<string>'` command as lines of at most `width`, the first indented by `indent`: cut
 * inside its quoted string as above, so the lines still run as printed. Null for any other command.
 */
export function cutReplayCommand(cmd: string, width: number, indent: string): string[] | null {
  const m = /^(.* replay ')([^']*)'$/.exec(cmd);
  if (!m) return null;
  const lines: string[] = [];
  let head = `${indent}${m[1]}`;
  let rest = m[2];
  while (head.length + rest.length + 1 > width) {
    const room = width - head.length - 2;
    if (room < 8) break;
    lines.push(`${head}${rest.slice(0, room)}'\\`);
    rest = rest.slice(room);
    head = "'";
  }
  lines.push(`${head}${rest}'`);
  return lines;
}

/** The verdict line, wrapped to the width; a bad verdict in red. */
function header(input: ReportInput, paint: Paint, width: number): string[] {
  const who = `${input.scenario} under ${input.scheme}`;
  let text = `${who}: ${input.verdict} (${input.provenance})`;
  if (input.verdict === 'n/a') text = `${who}: n/a — ${input.note ?? ''}`;
  else if (input.verdict === 'inconclusive') text = `${who}: inconclusive — ${input.provenance}`;
  else if (!input.finding) text = `${who}: ok — ${input.provenance}`;
  // The first line keeps `<who>: <verdict>` whole (what a script greps for), long names or not.
  const lines = wrap(text, Math.max(width, who.length + input.verdict.length + 3), '    ');
  const bad = input.verdict !== 'n/a' && (input.verdict === 'inconclusive' || input.finding !== null);
  if (bad) lines[0] = lines[0].replace(`${who}: ${input.verdict}`, `${who}: ${paint('bad', input.verdict)}`);
  return lines;
}

/** A whole report: header, trace columns, explanation, replay command. */
export function formatReport(
  input: ReportInput,
  replayCommand: string | null,
  opts: TextOptions = {},
  maxRows = 400,
): string {
  const paint = painter(opts.color ?? false);
  const width = opts.width ?? REPORT_WIDTH;
  const out = header(input, paint, width);
  if (!input.events.length) return out.join('\n');
  const m = buildModel(input);
  const which = input.finding ? 'the failing run' : 'the run';
  out.push('', paint('head', `trace of ${which} (step = order of execution, t = the task's virtual time):`));
  out.push(...traceLines(m, maxRows, opts));
  out.push(...explanation(m, paint, width));
  if (replayCommand) out.push('', ...replayLines(replayCommand, width));
  return out.join('\n');
}

/** The whole text report of `pagelab check`. */
export function formatCheck(r: CheckResult, replayCommand: string | null, opts: TextOptions = {}): string {
  return formatReport(fromCheck(r), replayCommand, opts);
}
