/**
 * What the three faces of a report share: the rows (one per trace event that matters, described
 * the way the terminal prints it), the task columns, the spans, and the finding's focus — the
 * step it is about and the steps behind it (the syscalls it names, every event on the folios that
 * hold its bytes, the warnings, the waits a deadlock never leaves).
 */
import type { Finding } from '../check/oracles.js';
import type { TraceEvent } from '../sim/trace.js';
import type { ReportInput, TaskInfo } from './input.js';
import { type OpResult, returnText } from './ops.js';
import { allSpans, type Span } from './state.js';

export type RowClass = 'op' | 'ret' | 'lock' | 'unlock' | 'wait' | 'wake' | 'event' | 'warn';

export interface Row {
  seq: number;
  time: number;
  task: number;
  col: number;
  cls: RowClass;
  text: string;
  /** A step behind the finding. */
  key: boolean;
  /** The step the finding is about. */
  anchor: boolean;
}

export interface Focus {
  /** Seq of the step the finding is about: the bad read's return, else the run's last step. */
  anchor: number;
  /** Seqs of the steps behind the finding. */
  keys: Set<number>;
}

export interface ReportModel {
  input: ReportInput;
  /** Column titles: one per task, then `irq/bio` for every bio completion. */
  columns: string[];
  colOf: (task: number) => number;
  rows: Row[];
  spans: Span[];
  focus: Focus;
  taskName: (task: number) => string;
}

/** Events that are the story of a race whatever the bytes: warnings, refusals, broken invariants. */
const NOTABLE = new Set([
  'dio_warn_stale_pagecache',
  'invariant',
  'trap_recursive',
  'writeback:skip_pinned',
  'writeback:fail_pinned',
  'direct_write_fallback',
]);
const ERRNO = /(^|[\s:(])-?E[A-Z]{3,}\b/;

/**
 * A trace event as a row says it, or null for events no row shows. An op's return names its errno
 * and the bytes it saw where the run's op results are given (`ops`, by tag).
 */
export function describeEvent(
  e: TraceEvent,
  ops?: ReadonlyMap<number, OpResult>,
): { cls: RowClass; text: string } | null {
  switch (e.kind) {
    case 'acquire':
      return { cls: 'lock', text: `lock ${e.detail ?? e.site}` };
    case 'release':
      return { cls: 'unlock', text: `unlock ${e.detail ?? e.site}` };
    case 'wait':
      return { cls: 'wait', text: `WAIT ${e.detail ?? ''} @${e.site}` };
    case 'wake':
      return { cls: 'wake', text: `woken (${e.detail ?? ''})` };
    case 'result': {
      const op = e.site === 'op-return' ? ops?.get(e.obj) : undefined;
      return { cls: 'ret', text: `« ${op ? returnText(op) : e.detail}` };
    }
    case 'event':
      return describeModelEvent(e);
    default:
      return null;
  }
}

function describeModelEvent(e: TraceEvent): { cls: RowClass; text: string } {
  if (e.site === 'op') return { cls: 'op', text: `» ${e.detail}` };
  if (e.site === 'op-return') return { cls: 'ret', text: `« ${e.detail}` };
  const text = `${e.site}${e.detail ? ` ${e.detail}` : ''}`;
  const warn = NOTABLE.has(e.site) || ERRNO.test(e.detail ?? '');
  return { cls: warn ? 'warn' : 'event', text };
}

/** One column per task, the interrupt-like bio completions sharing the last one. */
export function taskColumns(tasks: readonly TaskInfo[]): {
  columns: string[];
  colOf: (task: number) => number;
} {
  const own = tasks.filter((t) => !t.isIrq);
  const index = new Map(own.map((t, i) => [t.id, i]));
  return {
    columns: [...own.map((t) => t.name), 'irq/bio'],
    colOf: (task) => index.get(task) ?? own.length,
  };
}

/** `P1's \`load m+72 8\`` → task P1, label `load m+72 8`; a bare label stays as it is. */
function parseOpRef(ref: string): { task: string | null; label: string } {
  const m = /^(\S+)'s `(.+)`$/.exec(ref);
  return m ? { task: m[1], label: m[2] } : { task: null, label: ref };
}

function isOpEvent(e: TraceEvent, label: string): boolean {
  if (e.kind === 'event' && e.site === 'op') return e.detail === label;
  return e.site === 'op-return' && (e.detail?.startsWith(`${label} = `) ?? false);
}

/** The folio names of the pages that hold the finding's bytes: `folio f:0`, ... */
function folioNames(f: Finding, pageSize: number): string[] {
  if (!f.bytes || pageSize <= 0 || f.bytes.end <= f.bytes.start) return [];
  const out: string[] = [];
  const last = Math.floor((f.bytes.end - 1) / pageSize);
  for (let i = Math.floor(f.bytes.start / pageSize); i <= last; i++) out.push(`folio ${f.bytes.region}:${i}`);
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** An op's call or return event: the trace's op events carry the op's provenance tag as obj. */
function isOpInstance(e: TraceEvent, tag: number): boolean {
  return e.obj === tag && ((e.kind === 'event' && e.site === 'op') || e.site === 'op-return');
}

/** The finding's op instances by tag where it has them (`opTags`), else its op labels. */
function opSteps(f: Finding, events: readonly TraceEvent[], taskName: (id: number) => string): number[] {
  if (f.opTags) {
    const tags = f.opTags.filter((t): t is number => t !== null);
    return events.filter((e) => tags.some((t) => isOpInstance(e, t))).map((e) => e.seq);
  }
  const refs = f.ops.map(parseOpRef);
  return events
    .filter((e) =>
      refs.some((r) => isOpEvent(e, r.label) && (r.task === null || r.task === taskName(e.task))),
    )
    .map((e) => e.seq);
}

function pageSteps(f: Finding, events: readonly TraceEvent[], pageSize: number): number[] {
  const names = folioNames(f, pageSize);
  if (!names.length) return [];
  const re = new RegExp(`(${names.map(escapeRe).join('|')})(?![0-9A-Za-z_(:@])`);
  return events
    .filter((e) => e.kind === 'event' && e.site !== 'op' && re.test(e.detail ?? ''))
    .map((e) => e.seq);
}

/** A deadlock report names a hold `holds <lock> (<mode>)`; a span's name is `<lock> <mode>`. */
function namedHold(text: string, name: string): boolean {
  const words = name.split(' ');
  for (let k = 1; k < words.length; k++)
    if (text.includes(`holds ${words.slice(0, k).join(' ')} (${words.slice(k).join(' ')})`)) return true;
  return false;
}

/** Waits never woken; for a deadlock, also the holds its report names that were never released. */
function stuckSteps(f: Finding, spans: readonly Span[]): number[] {
  const text = [f.summary, ...f.details].join('\n');
  return spans
    .filter((s) => s.open && (s.kind === 'wait' || (s.kind === 'lock' && namedHold(text, s.name))))
    .map((s) => s.start);
}

/** Whether an op's return is of the op the finding is about: its first op (instance, where known). */
function isAbout(f: Finding, e: TraceEvent): boolean {
  const tag = f.opTags?.[0];
  if (tag !== undefined) return tag !== null && isOpInstance(e, tag);
  return f.ops[0] !== undefined && isOpEvent(e, parseOpRef(f.ops[0]).label);
}

/** The bad read's return (stale-read), the lost write's return (lost-write), else the last row. */
function anchorStep(f: Finding, events: readonly TraceEvent[], steps: readonly number[]): number {
  const rows = events.filter((e) => describeEvent(e) !== null);
  const last = rows.length ? rows[rows.length - 1].seq : events.length - 1;
  if (f.kind === 'invariant') {
    const inv = rows.filter((e) => e.site === 'invariant').at(-1);
    return inv ? inv.seq : last;
  }
  const ret = rows.find((e) => e.site === 'op-return' && steps.includes(e.seq) && isAbout(f, e));
  return ret ? ret.seq : last;
}

/** The bios the finding's syscalls submitted: their submission and completion. */
function bioSteps(spans: readonly Span[], opStarts: ReadonlySet<number>): number[] {
  const out: number[] = [];
  for (const op of spans) {
    if (op.kind !== 'op' || !opStarts.has(op.start)) continue;
    for (const b of spans) {
      if (b.kind !== 'bio' || b.task !== op.task || b.start < op.start || b.start > op.end) continue;
      out.push(b.start);
      if (!b.open) out.push(b.end);
    }
  }
  return out;
}

export function findingFocus(
  input: ReportInput,
  spans: readonly Span[],
  taskName: (id: number) => string,
): Focus {
  const f = input.finding;
  const events = input.events;
  if (!f || !events.length) return { anchor: -1, keys: new Set() };
  const ops = opSteps(f, events, taskName);
  const keys = new Set([
    ...ops,
    ...bioSteps(spans, new Set(ops)),
    ...pageSteps(f, events, input.pageSize),
    ...events.filter((e) => NOTABLE.has(e.site) || (e.detail ?? '').startsWith('EDEADLK')).map((e) => e.seq),
  ]);
  if (f.kind === 'deadlock' || f.kind === 'no-progress') for (const s of stuckSteps(f, spans)) keys.add(s);
  const anchor = anchorStep(f, events, ops);
  keys.add(anchor);
  return { anchor, keys };
}

export function buildModel(input: ReportInput): ReportModel {
  const names = new Map(input.tasks.map((t) => [t.id, t.name]));
  const taskName = (id: number) => names.get(id) ?? `task ${id}`;
  const { columns, colOf } = taskColumns(input.tasks);
  const spans = allSpans(input.events, input.initialPages);
  const focus = findingFocus(input, spans, taskName);
  const ops = new Map((input.ops ?? []).map((o) => [o.tag, o]));
  const rows: Row[] = [];
  for (const e of input.events) {
    const d = describeEvent(e, ops);
    if (!d) continue;
    rows.push({
      seq: e.seq,
      time: e.time,
      task: e.task,
      col: colOf(e.task),
      ...d,
      key: focus.keys.has(e.seq),
      anchor: focus.anchor === e.seq,
    });
  }
  return { input, columns, colOf, rows, spans, focus, taskName };
}

/** The rows behind the finding, at most `cap` of them (the first and the last halves). */
export function keyRows(m: ReportModel, cap = 16): { rows: Row[]; omitted: number } {
  const rows = m.rows.filter((r) => r.key);
  if (rows.length <= cap) return { rows, omitted: 0 };
  const half = Math.floor(cap / 2);
  return { rows: [...rows.slice(0, half), ...rows.slice(-half)], omitted: rows.length - 2 * half };
}

/** 1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st. */
function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;
}

/**
 * Which instance the finding is about, where its task issues the same op more than once: `the op:
 * P2.2, P2's 2nd \`load m+128 8\``. Null where the label alone says it.
 */
function instanceLine(f: Finding, ops: readonly OpResult[]): string | null {
  const tag = f.opTags?.[0];
  const op = ops.find((o) => o.tag === tag);
  if (!op) return null;
  const same = ops.filter((o) => o.task === op.task && o.label === op.label);
  if (same.length < 2) return null;
  const nth = same.indexOf(op) + 1;
  return `the op: ${op.name}, ${op.task}'s ${ordinal(nth)} \`${op.label}\``;
}

/** The finding as lines: kind and summary, then its details (which bytes, which ops, why). */
export function findingLines(f: Finding, ops: readonly OpResult[] = []): string[] {
  const which = instanceLine(f, ops);
  const out = [`${f.kind}: ${f.summary}`, ...(which ? [which] : []), ...f.details];
  if (f.reported && !f.details.some((d) => d.includes(f.reported ?? ''))) out.push(`reported: ${f.reported}`);
  return out;
}
