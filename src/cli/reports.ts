/**
 * `--html FILE` and `--perfetto FILE` of `pagelab check`, `replay` and `matrix`: gathers what the
 * report needs (re-running a schedule with the trace on where the search ran without it) and
 * writes the files. An unwritable path is bad input (exit 2).
 */
import type { Command } from 'commander';
import type { CheckResult } from '../explore/check.js';
import type { Matrix, MatrixRow } from '../explore/matrix.js';
import { parseReplayString, replaySchedule } from '../explore/run.js';
import type { Scenario } from '../litmus/ast.js';
import { reportHtml } from '../report/html.js';
import { fromCheck, fromRun, type ReportInput } from '../report/input.js';
import { type MatrixCell, type MatrixPage, matrixHtml } from '../report/matrix.js';
import { perfettoTrace } from '../report/perfetto.js';
import type { Scheme } from '../schemes/index.js';
import { replayCommand, writeOut } from './common.js';

export interface ReportFiles {
  html?: string;
  perfetto?: string;
}

/** Adds `--html FILE` and `--perfetto FILE`; `prefix` starts each description (fsx: '--tasks: '). */
export function addReportFileOptions(cmd: Command, prefix = ''): Command {
  return cmd
    .option('--html <file>', `${prefix}write the HTML report (timeline, state at each step) to FILE`)
    .option(
      '--perfetto <file>',
      `${prefix}write the trace as Chrome Trace Event JSON (Perfetto UI, chrome://tracing) to FILE`,
    );
}

export function writeReportFiles(report: ReportInput, files: ReportFiles): void {
  const input = withReplayCommand(report);
  if (files.html) writeOut(files.html, reportHtml(input));
  if (files.perfetto) writeOut(files.perfetto, `${JSON.stringify(perfettoTrace(input))}\n`);
}

/** A report that prints the replay command as the terminal does (runnable from here). */
function withReplayCommand(input: ReportInput): ReportInput {
  return input.replay ? { ...input, replayCommand: replayCommand(input.replay) } : input;
}

/**
 * The files of a check. Without a finding the search kept no trace: the report then shows a run
 * of the default (non-preemptive) schedule; an n/a cell has nothing to run.
 */
export async function writeCheckReports(
  r: CheckResult,
  scenario: Scenario,
  scheme: Scheme,
  files: ReportFiles,
  stepBound?: number,
): Promise<void> {
  if (!files.html && !files.perfetto) return;
  const fallback =
    !r.report && r.verdict !== 'n/a' ? await replaySchedule(scenario, scheme, [], stepBound) : null;
  writeReportFiles(fromCheck(r, fallback), files);
}

/** A failing cell's run, replayed with the trace on for its embedded report. */
async function cellReport(row: MatrixRow, m: Matrix): Promise<ReportInput | null> {
  if (!row.replay || row.verdict === 'ok' || row.verdict === 'n/a' || row.verdict === 'inconclusive')
    return null;
  const scenario = m.scenarios.find((s) => s.name === row.scenario);
  const scheme = m.schemes.find((s) => s.name === row.scheme); // a file scheme too: the matrix's own
  if (!scenario || !scheme) return null;
  const run = await replaySchedule(scenario, scheme, parseReplayString(row.replay).schedule);
  const finding = run.findings.find((f) => f.kind === row.verdict) ?? null;
  const how = row.coverage.strategy === 'dfs' ? 'bounded DFS' : `${row.coverage.strategy} search`;
  const provenance = `found by ${how} in ${row.schedules} schedules (matrix cell)`;
  return withReplayCommand(fromRun(run, { scheme: scheme.name, finding, replay: row.replay, provenance }));
}

export async function writeMatrixHtml(path: string, m: Matrix): Promise<void> {
  const cells: MatrixCell[] = [];
  for (const row of m.rows) cells.push({ ...row, report: await cellReport(row, m) });
  const page: MatrixPage = {
    seed: m.seed,
    schedules: m.schedules,
    scenarios: m.scenarios.map((s) => ({ name: s.name, doc: s.doc })),
    schemes: m.schemes.map((s) => ({ name: s.name, summary: s.summary })),
    cells,
    measures: m.measures,
    dfsBudget: m.dfsBudget,
    preemptions: m.preemptions,
    replayCommand,
  };
  writeOut(path, matrixHtml(page));
}
