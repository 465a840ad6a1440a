/**
 * `--html FILE` and `--perfetto FILE` of `pagelab check`, `replay` and `matrix`: gathers what the
 * report needs (re-running a schedule with the trace on where the search ran without it) and
 * writes the files. An unwritable path is bad input (exit 2).
 */
import { writeFileSync } from 'node:fs';
import type { CheckResult } from '../explore/run.js';
import { parseReplayString, replaySchedule } from '../explore/run.js';
import type { Scenario } from '../litmus/ast.js';
import { reportHtml } from '../report/html.js';
import { fromCheck, fromRun, type ReportInput } from '../report/input.js';
import { type MatrixCell, type MatrixPage, matrixHtml } from '../report/matrix.js';
import { perfettoTrace } from '../report/perfetto.js';
import { findScheme, SCHEMES, type Scheme } from '../schemes/index.js';
import { UsageError } from './main.js';

export interface ReportFiles {
  html?: string;
  perfetto?: string;
}

function writeOut(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export function writeReportFiles(input: ReportInput, files: ReportFiles): void {
  if (files.html) writeOut(files.html, reportHtml(input));
  if (files.perfetto) writeOut(files.perfetto, `${JSON.stringify(perfettoTrace(input))}\n`);
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

/** A matrix row as `pagelab matrix --json` has it. */
export interface MatrixRowJson {
  scenario: string;
  scheme: string;
  verdict: string;
  schedules: number;
  replay: string | null;
  summary: string | null;
}

/** A failing cell's run, replayed with the trace on for its embedded report. */
async function cellReport(row: MatrixRowJson, scenarios: readonly Scenario[]): Promise<ReportInput | null> {
  if (!row.replay || row.verdict === 'ok' || row.verdict === 'n/a') return null;
  const scenario = scenarios.find((s) => s.name === row.scenario);
  const scheme = findScheme(row.scheme);
  if (!scenario || !scheme) return null;
  const run = await replaySchedule(scenario, scheme, parseReplayString(row.replay).schedule);
  const finding = run.findings.find((f) => f.kind === row.verdict) ?? null;
  const provenance = `found by random search in ${row.schedules} schedules (matrix cell)`;
  return fromRun(run, { scheme: scheme.name, finding, replay: row.replay, provenance });
}

export async function writeMatrixHtml(
  path: string,
  m: {
    seed: number;
    schedules: number;
    rows: readonly MatrixRowJson[];
    scenarios: readonly Scenario[];
    measures: MatrixPage['measures'];
  },
): Promise<void> {
  const cells: MatrixCell[] = [];
  for (const row of m.rows) cells.push({ ...row, report: await cellReport(row, m.scenarios) });
  const page: MatrixPage = {
    seed: m.seed,
    schedules: m.schedules,
    scenarios: m.scenarios.map((s) => ({ name: s.name, doc: s.doc })),
    schemes: SCHEMES.map((s) => ({ name: s.name, summary: s.summary })),
    cells,
    measures: m.measures,
  };
  writeOut(path, matrixHtml(page));
}
