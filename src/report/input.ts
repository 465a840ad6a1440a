/**
 * What every face of a report (terminal, Perfetto, HTML) is made from: the verdict, the finding,
 * the replay string and the trace of the run, detached from the live Sim objects.
 */
import type { Finding } from '../check/oracles.js';
import type { CheckResult } from '../explore/check.js';
import type { RunReport } from '../explore/run.js';
import type { Scenario } from '../litmus/ast.js';
import type { TraceEvent } from '../sim/trace.js';
import { type OpResult, opResults } from './ops.js';

/** A task as a report needs it (a Task satisfies it). */
export interface TaskInfo {
  readonly id: number;
  readonly name: string;
  readonly isIrq: boolean;
}

/** A page the scenario puts in the page cache before any task runs (not in the trace). */
export interface InitialPage {
  /** The folio's name as the trace spells it: `folio f:0`. */
  name: string;
  dirty: boolean;
}

export interface ReportInput {
  scenario: string;
  scheme: string;
  /** `ok`, `n/a` or the decisive finding's kind. */
  verdict: string;
  /** One line on how the run was found (strategy, schedule, seed, shrinking); may be ''. */
  provenance: string;
  finding: Finding | null;
  /** The run's other findings. */
  others: Finding[];
  /** `<scenario>:<scheme>:<schedule>` of the run shown, if any. */
  replay: string | null;
  /**
   * The command that replays `replay`, as the CLI prints it (`node ./bin/pagelab.js replay …` in a
   * checkout); absent: `npx pagelab replay …` (replayCommandOf), which runs from an install.
   */
  replayCommand?: string;
  /** Why there is no finding or no trace (n/a reason; "trace of the default schedule"). */
  note: string | null;
  events: TraceEvent[];
  tasks: TaskInfo[];
  pageSize: number;
  initialPages: InitialPage[];
  /** Each op instance's result (errno by name) and the bytes each read returned, by tag. */
  ops?: OpResult[];
}

/**
 * The shell command that replays a replay string: `npx pagelab replay '…'`, the string quoted for a
 * POSIX shell. The string names the scenario's file when it is not built in (explore/run.ts).
 */
export function npxReplayCommand(replay: string): string {
  return `npx pagelab replay '${replay.replaceAll("'", "'\\''")}'`;
}

/** The command a report prints to replay its run, or null without a replay string. */
export function replayCommandOf(input: Pick<ReportInput, 'replay' | 'replayCommand'>): string | null {
  if (!input.replay) return null;
  return input.replayCommand ?? npxReplayCommand(input.replay);
}

/** The folios a scenario's `cached` and `dirty` files start with. */
export function initialPages(s: Scenario): InitialPage[] {
  const out: InitialPage[] = [];
  for (const f of s.files) {
    if (f.init !== 'cached' && f.init !== 'dirty') continue;
    const n = Math.ceil(f.size / s.pageSize);
    for (let i = 0; i < n; i++) out.push({ name: `folio ${f.name}:${i}`, dirty: f.init === 'dirty' });
  }
  return out;
}

function runParts(
  report: RunReport | null,
): Pick<ReportInput, 'events' | 'tasks' | 'pageSize' | 'initialPages' | 'ops'> {
  if (!report) return { events: [], tasks: [], pageSize: 0, initialPages: [], ops: [] };
  const scenario = report.world.scenario;
  return {
    events: report.result.trace?.events() ?? [],
    tasks: report.result.tasks.map((t) => ({ id: t.id, name: t.name, isIrq: t.isIrq })),
    pageSize: scenario.pageSize,
    initialPages: initialPages(scenario),
    ops: opResults(report.world.history),
  };
}

/**
 * `shrunk from 6 to 1 preemption, the fewest: a complete DFS finds no stale-read without
 * preemption`, or `shrunk from 6 to 3 preemptions, minimal not proven (…)`.
 */
function shrunkText(s: NonNullable<CheckResult['shrunk']>): string {
  return `shrunk from ${s.from} to ${s.to} preemption${s.to === 1 ? '' : 's'}, ${s.minimal.text}`;
}

/** The header line's second half for a check: how the finding was found, or what was covered. */
export function checkProvenance(r: CheckResult): string {
  // A DFS has no seed: what it covered depends on the bound alone.
  const seeded = r.coverage.strategy !== 'dfs';
  const seed = seeded ? ` (seed ${r.seed})` : '';
  if (r.inconclusive)
    return `no forbidden finding in ${r.coverage.text}${seed}, but ${r.inconclusive.runs} of them not decided in full: ${r.inconclusive.reason}`;
  if (!r.finding) return `no forbidden finding in ${r.coverage.text}${seed}`;
  const shrunk = r.shrunk ? `; ${shrunkText(r.shrunk)}` : '';
  const where = seeded ? `schedule ${r.schedules}, seed ${r.seed}` : `run ${r.schedules}`;
  return `found by ${r.coverage.strategy} in ${where}${shrunk}`;
}

/**
 * The report of a check. Without a finding there is no failing run; `fallback` (a run of the
 * default schedule, with the trace on) then gives the report something to show.
 */
export function fromCheck(r: CheckResult, fallback: RunReport | null = null): ReportInput {
  const run = r.report ?? fallback;
  let note: string | null = null;
  if (r.verdict === 'n/a') note = r.reason ?? 'not applicable';
  else if (!r.report && fallback) note = 'no finding: the trace is of the default (non-preemptive) schedule';
  return {
    scenario: r.scenario,
    scheme: r.scheme,
    verdict: r.verdict,
    provenance: checkProvenance(r),
    finding: r.finding,
    others: r.findings.filter((f) => f !== r.finding),
    replay: r.replay,
    note,
    ...runParts(run),
  };
}

/** The report of one re-executed schedule (pagelab replay, a matrix cell). */
export function fromRun(
  report: RunReport,
  head: { scheme: string; finding: Finding | null; replay: string; provenance: string },
): ReportInput {
  return {
    scenario: report.world.scenario.name,
    scheme: head.scheme,
    verdict: head.finding ? head.finding.kind : report.inconclusive ? 'inconclusive' : 'ok',
    provenance: head.provenance,
    finding: head.finding,
    others: report.findings.filter((f) => f !== head.finding),
    replay: head.replay,
    note: null,
    ...runParts(report),
  };
}
