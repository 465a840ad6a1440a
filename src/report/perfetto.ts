/**
 * The run as Chrome Trace Event Format JSON (the JSON Object Format), which the Perfetto UI and
 * chrome://tracing open. One process, one thread track per task (thread_name metadata); syscalls,
 * lock holds and waits are duration slices (B/E) on the task's track; every bio is an async slice
 * (b/e with an id) from its submission to its completion, which may be on another task; model
 * events (page cache, faults, pins, PTEs, warnings) are thread-scoped instants; the finding is a
 * global instant whose args carry its explanation.
 *
 * Time base: the model's steps. `ts` is the trace seq in microseconds (one step of execution per
 * µs), so the timeline shows the interleaving exactly as it ran; each task's virtual time (ticks)
 * is in args.vt. Duration slices on one track must nest (the spec); a task whose holds do not
 * nest (lock A, lock B, unlock A) gets a second track for the overlapping ones.
 */
import type { Finding } from '../check/oracles.js';
import { type ReportInput, replayCommandOf } from './input.js';
import { buildModel, type ReportModel } from './model.js';
import type { Span } from './state.js';

export type Phase = 'B' | 'E' | 'i' | 'b' | 'e' | 'M';
export type ArgValue = string | number | boolean | string[] | number[] | null;

export interface ChromeTraceEvent {
  name: string;
  cat: string;
  ph: Phase;
  /** Microseconds. */
  ts: number;
  pid: number;
  tid: number;
  /** Async events: the bio. */
  id?: string;
  /** Instant events: g(lobal), p(rocess) or t(hread). */
  s?: 'g' | 'p' | 't';
  args?: Record<string, ArgValue>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: 'ms' | 'ns';
  otherData: Record<string, string>;
}

export const PID = 1;
/** Track ids: lane 0 of task k is tid k+1; lane n > 0 is tid n·LANE_TID + k + 1. */
const LANE_TID = 10_000;
const PHASE_RANK: Record<Phase, number> = { M: 0, E: 1, e: 2, B: 3, b: 4, i: 5 };

function tidOf(task: number, lane = 0): number {
  return lane * LANE_TID + task + 1;
}

/**
 * Spreads one task's spans over lanes so that on each lane they nest (every span either ends
 * before the next starts or contains it). Spans must be sorted by start.
 */
export function assignLanes(spans: readonly Span[]): number[] {
  const stacks: Span[][] = [];
  return spans.map((s) => {
    for (const [lane, stack] of stacks.entries()) {
      while (stack.length && stack[stack.length - 1].end <= s.start) stack.pop();
      const top = stack[stack.length - 1];
      if (!top || top.end >= s.end) {
        stack.push(s);
        return lane;
      }
    }
    stacks.push([s]);
    return stacks.length - 1;
  });
}

/**
 * Spans the run ended inside get distinct ends past the last step, later starts ending first, so
 * that on a track they still nest and no two ends share a timestamp.
 */
function closeOpenSpans(spans: readonly Span[], last: number): Span[] {
  const open = spans.filter((s) => s.open).sort((a, b) => b.start - a.start);
  const end = new Map(open.map((s, i) => [s, last + 1 + i]));
  return spans.map((s) => (s.open ? { ...s, end: end.get(s) ?? s.end } : s));
}

function sliceArgs(s: Span, m: ReportModel): Record<string, ArgValue> {
  const args: Record<string, ArgValue> = { step: s.start, vt: s.startTime, site: s.site };
  if (s.open) args.ended = 'still open when the run ended';
  else {
    args.end_step = s.end;
    args.end_vt = s.endTime;
    args.end_site = s.endSite;
    if (s.endTask !== s.task) args.ended_by = m.taskName(s.endTask);
  }
  if (s.ret !== undefined) args.ret = s.ret;
  return args;
}

const SLICE_CAT: Record<Span['kind'], string> = { op: 'syscall', lock: 'lock', wait: 'wait', bio: 'bio' };

function sliceName(s: Span): string {
  if (s.kind === 'wait') return `wait: ${s.name}`;
  return s.kind === 'lock' ? `hold ${s.name}` : s.name;
}

/** B/E slices for syscalls, holds and waits, lane by lane; returns the lanes each task used. */
function durationSlices(
  m: ReportModel,
  spans: readonly Span[],
  out: ChromeTraceEvent[],
): Map<number, number> {
  const lanesUsed = new Map<number, number>();
  for (const t of m.input.tasks) {
    const mine = spans.filter((s) => s.task === t.id && s.kind !== 'bio');
    const lanes = assignLanes(mine);
    mine.forEach((s, i) => {
      const tid = tidOf(t.id, lanes[i]);
      const base = { name: sliceName(s), cat: SLICE_CAT[s.kind], pid: PID, tid };
      out.push({ ...base, ph: 'B', ts: s.start, args: sliceArgs(s, m) });
      out.push({ ...base, ph: 'E', ts: s.end });
    });
    lanesUsed.set(t.id, Math.max(1, ...lanes.map((l) => l + 1)));
  }
  return lanesUsed;
}

/** b/e async slices, one per bio, from the submitter's track to the completion's. */
function bioSlices(m: ReportModel, spans: readonly Span[], out: ChromeTraceEvent[]): void {
  for (const s of spans) {
    if (s.kind !== 'bio') continue;
    const id = `0x${Number(/^bio#(\d+)/.exec(s.name)?.[1] ?? s.start).toString(16)}`;
    const base = { name: s.name, cat: 'bio', pid: PID, id };
    out.push({ ...base, ph: 'b', ts: s.start, tid: tidOf(s.task), args: sliceArgs(s, m) });
    out.push({ ...base, ph: 'e', ts: s.end, tid: tidOf(s.open ? s.task : s.endTask) });
  }
}

function eventCat(site: string): string {
  if (site === 'submit_bio' || site === 'bio_endio') return 'block';
  if (site.startsWith('jbd2')) return 'jbd2';
  if (site.startsWith('dax')) return 'dax';
  return 'mm';
}

/** Model events (page cache, faults, pins, PTEs, bios, warnings) as thread-scoped instants. */
function instants(m: ReportModel, out: ChromeTraceEvent[]): void {
  for (const r of m.rows) {
    const e = m.input.events[r.seq];
    if (e.kind !== 'event' || e.site === 'op') continue;
    const args: Record<string, ArgValue> = { detail: e.detail ?? '', step: e.seq, vt: e.time };
    if (r.key) args.behind_the_finding = true;
    out.push({
      name: e.site,
      cat: r.cls === 'warn' ? 'warning' : eventCat(e.site),
      ph: 'i',
      s: 't',
      ts: e.seq,
      pid: PID,
      tid: tidOf(e.task),
      args,
    });
  }
}

function findingInstant(m: ReportModel, f: Finding, at: number): ChromeTraceEvent {
  const anchor = m.rows.find((r) => r.seq === m.focus.anchor);
  return {
    name: `${f.kind}: ${f.summary}`,
    cat: 'finding',
    ph: 'i',
    s: 'g',
    ts: at,
    pid: PID,
    tid: tidOf(anchor ? anchor.task : 0),
    args: {
      kind: f.kind,
      summary: f.summary,
      details: f.details,
      bytes: f.bytes ? `[${f.bytes.start},${f.bytes.end}) of ${f.bytes.region}` : null,
      ops: f.ops,
      reported: f.reported ?? null,
      replay: replayCommandOf(m.input),
      steps_behind_it: [...m.focus.keys].sort((a, b) => a - b),
    },
  };
}

function metadata(m: ReportModel, lanesUsed: Map<number, number>): ChromeTraceEvent[] {
  const meta = (name: string, tid: number, args: Record<string, ArgValue>): ChromeTraceEvent => ({
    name,
    cat: '__metadata',
    ph: 'M',
    ts: 0,
    pid: PID,
    tid,
    args,
  });
  const out = [meta('process_name', 0, { name: `pagelab: ${m.input.scenario} under ${m.input.scheme}` })];
  for (const t of m.input.tasks) {
    for (let lane = 0; lane < (lanesUsed.get(t.id) ?? 1); lane++) {
      const tid = tidOf(t.id, lane);
      const name = lane ? `${t.name} (holds that overlap, ${lane + 1})` : t.name;
      out.push(meta('thread_name', tid, { name }));
      out.push(meta('thread_sort_index', tid, { sort_index: t.id * 10 + lane }));
    }
  }
  return out;
}

/** The Perfetto / chrome://tracing JSON of a report. */
export function perfettoTrace(input: ReportInput): ChromeTrace {
  const m = buildModel(input);
  const last = input.events.length ? input.events.length - 1 : 0;
  const spans = closeOpenSpans(m.spans, last);
  const events: ChromeTraceEvent[] = [];
  const lanesUsed = durationSlices(m, spans, events);
  bioSlices(m, spans, events);
  instants(m, events);
  if (input.finding)
    events.push(findingInstant(m, input.finding, m.focus.anchor >= 0 ? m.focus.anchor : last));
  events.sort((a, b) => a.ts - b.ts || PHASE_RANK[a.ph] - PHASE_RANK[b.ph]);
  return {
    traceEvents: [...metadata(m, lanesUsed), ...events],
    displayTimeUnit: 'ms',
    otherData: {
      scenario: input.scenario,
      scheme: input.scheme,
      verdict: input.verdict,
      replay: input.replay ?? '',
      timebase:
        "1 µs = 1 step of the model (trace seq, the order of execution); args.vt = the task's virtual time in ticks",
    },
  };
}
