/**
 * The terminal report: the verdict, the finding's explanation, and the trace of the failing run
 * as per-task columns (one row per step that matters: locks, waits, page cache and fault events,
 * bios, op calls and returns), with the virtual time, and the one command that replays it.
 */
import type { Finding } from '../check/oracles.js';
import type { CheckResult } from '../explore/run.js';
import type { Task } from '../sim/task.js';
import type { Trace, TraceEvent } from '../sim/trace.js';

const COL = 34;

function clip(s: string, n: number): string {
  return s.length <= n ? s.padEnd(n) : `${s.slice(0, n - 1)}…`;
}

function describeEvent(e: TraceEvent): string | null {
  switch (e.kind) {
    case 'acquire':
      return `lock ${e.detail ?? e.site}`;
    case 'release':
      return `unlock ${e.detail ?? e.site}`;
    case 'wait':
      return `WAIT ${e.detail ?? ''} @${e.site}`;
    case 'wake':
      return `woken (${e.detail ?? ''})`;
    case 'result':
      return `« ${e.detail}`;
    case 'event':
      if (e.site === 'op') return `» ${e.detail}`;
      if (e.site === 'op-return') return `« ${e.detail}`;
      return `${e.site}${e.detail ? ` ${e.detail}` : ''}`;
    default:
      return null;
  }
}

/** Per-task columns; bio completions share one "irq" column. */
export function formatTraceColumns(trace: Trace, tasks: readonly Task[], maxRows = 400): string[] {
  const userTasks = tasks.filter((t) => !t.isIrq);
  const colOf = new Map<number, number>();
  for (const [i, t] of userTasks.entries()) colOf.set(t.id, i);
  const irqCol = userTasks.length;
  const headers = [...userTasks.map((t) => t.name), 'irq/bio'];
  const lines = [`${'time'.padStart(6)}  ${headers.map((h) => clip(h, COL)).join(' ')}`];
  lines.push(`${'-'.repeat(6)}  ${headers.map(() => '-'.repeat(COL)).join(' ')}`);
  let rows = 0;
  for (const e of trace.events()) {
    const text = describeEvent(e);
    if (text === null) continue;
    if (++rows > maxRows) {
      lines.push(`  … ${trace.length} events in all; see --json for the full trace`);
      break;
    }
    const col = colOf.get(e.task) ?? irqCol;
    const cells = headers.map((_, i) => (i === col ? clip(text, COL) : ' '.repeat(COL)));
    lines.push(`${String(e.time).padStart(6)}  ${cells.join(' ')}`.trimEnd());
  }
  return lines;
}

export function formatFinding(f: Finding): string[] {
  const out = [`${f.kind}: ${f.summary}`];
  for (const d of f.details) out.push(`  ${d}`);
  return out;
}

/** The whole text report of `pagelab check`. */
export function formatCheck(r: CheckResult, replayCommand: string | null): string {
  const out: string[] = [];
  if (!r.finding) {
    out.push(
      `${r.scenario} under ${r.scheme}: ok — no forbidden finding in ${r.coverage.text} (seed ${r.seed})`,
    );
    return out.join('\n');
  }
  out.push(
    `${r.scenario} under ${r.scheme}: ${r.verdict} (found by ${r.coverage.strategy} in schedule ${r.schedules}, seed ${r.seed}${r.shrunk ? `; shrunk from ${r.shrunk.from} to ${r.shrunk.to} context switches` : ''})`,
  );
  out.push('');
  out.push(...formatFinding(r.finding));
  for (const other of r.findings.slice(1)) out.push(`  also: ${other.kind}: ${other.summary}`);
  if (r.report?.result.trace) {
    out.push('', 'trace of the failing run:');
    out.push(...formatTraceColumns(r.report.result.trace, r.report.result.tasks));
  }
  if (replayCommand) out.push('', `replay: ${replayCommand}`);
  return out.join('\n');
}
