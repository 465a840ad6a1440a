/**
 * What the playground's Web Worker does, as plain functions of plain JSON so that Node tests run
 * them too: check a scenario under one scheme (the CLI's `check`), under every scheme (the
 * scenario's matrix row), replay one schedule (the CLI's `replay`), and render a result as the
 * `--html` report. Everything goes through explore's `checkScenario` / `replaySchedule` and
 * report's `reportHtml`: the page has no model and no renderer of its own.
 *
 * No Node module here: the worker bundles this file (src/playground/vite.config.ts).
 */
import { type CheckResult, checkScenario, type StrategyName } from '../explore/check.js';
import { DEFAULTS, defaultSchedules } from '../explore/defaults.js';
import { decisive } from '../explore/judge.js';
import { type RunReport, replaySchedule, replayString } from '../explore/run.js';
import type { UnitResult } from '../explore/units.js';
import type { Scenario } from '../litmus/ast.js';
import { LitmusError } from '../litmus/error.js';
import { parseLitmus } from '../litmus/parse.js';
import { reportHtml } from '../report/html.js';
import { checkProvenance, fromCheck, fromRun } from '../report/input.js';
import { findScheme, SCHEMES, type Scheme } from '../schemes/index.js';
import { decodeSchedule, encodeSchedule } from '../sim/schedule.js';

/** The search the page asks for: the CLI's `check` options. */
export interface SearchRequest {
  strategy: StrategyName;
  /** Schedules (random, pct) or the most runs (dfs); default as the CLI's. */
  schedules?: number;
  seed: number;
  /** PCT depth d. */
  depth?: number;
  /** DFS preemption bound K. */
  preemptions?: number;
}

/** The scenario as the page holds it: its text and the name replay strings give it. */
export interface ScenarioSource {
  text: string;
  /** A built-in scenario's name when the text is that scenario's, else a file name. */
  ref: string;
}

/** One cell of the page's matrix row: what the CLI's matrix shows, and what backs it. */
export interface Cell {
  scheme: string;
  verdict: string;
  schedules: number;
  /** ok: what the search covered; a finding: how it was found; n/a: why. */
  certificate: string;
  /** The finding's one-line summary. */
  summary: string | null;
  replay: string | null;
  /** The shown schedule (encoded), for share URLs. */
  schedule: string | null;
}

/** A parse error where the editor shows it: the parser's own line, column and reason. */
export interface ParseProblem {
  line: number;
  column: number;
  reason: string;
  message: string;
}

/** Parses the page's text; a LitmusError becomes a problem, anything else is rethrown. */
export function parseSource(src: ScenarioSource): { scenario: Scenario } | { problem: ParseProblem } {
  try {
    return { scenario: parseLitmus(src.text, src.ref) };
  } catch (e) {
    if (!(e instanceof LitmusError)) throw e;
    return { problem: { line: e.line, column: e.column, reason: e.reason, message: e.message } };
  }
}

export function schemeNamed(name: string): Scheme {
  const s = findScheme(name);
  if (!s) throw new Error(`unknown scheme '${name}'`);
  return s;
}

export function schemeNames(): string[] {
  return SCHEMES.map((s) => s.name);
}

/** The check the CLI's `pagelab check REF --scheme S ...` makes (one thread: `--jobs 1`). */
export function check(
  scenario: Scenario,
  ref: string,
  scheme: Scheme,
  req: SearchRequest,
  onProgress?: (u: UnitResult) => void,
): Promise<CheckResult> {
  return checkScenario(scenario, scheme, {
    schedules: req.schedules ?? defaultSchedules(req.strategy),
    seed: req.seed,
    scenarioRef: ref,
    strategy: req.strategy,
    depth: req.depth ?? DEFAULTS.depth,
    preemptions: req.preemptions ?? DEFAULTS.preemptions,
    jobs: 1,
    onProgress,
  });
}

/** The schedule part of a replay string. */
function scheduleOf(replay: string | null): string | null {
  return replay ? replay.slice(replay.lastIndexOf(':') + 1) : null;
}

/**
 * A check's cell. Its certificate is the line the `--html` and terminal reports head it with
 * (report/input.ts): what the search covered with its seed (ok), how the finding was found and
 * shrunk; or why the scheme cannot express the scenario (n/a).
 */
export function cellOf(r: CheckResult): Cell {
  const certificate = r.verdict === 'n/a' ? (r.reason ?? 'not applicable') : checkProvenance(r);
  return {
    scheme: r.scheme,
    verdict: r.verdict,
    schedules: r.schedules,
    certificate,
    summary: r.finding?.summary ?? r.reason ?? null,
    replay: r.replay,
    schedule: scheduleOf(r.replay),
  };
}

/** The `--html` report of a check: its failing run, or the default schedule's run when it has none. */
export async function checkHtml(scenario: Scenario, scheme: Scheme, r: CheckResult): Promise<string> {
  const fallback = r.report || r.verdict === 'n/a' ? null : await replaySchedule(scenario, scheme, []);
  return reportHtml(fromCheck(r, fallback));
}

/** A replayed schedule: its verdict and report, as `pagelab replay REF:SCHEME:SCHEDULE` has them. */
export interface Replayed {
  cell: Cell;
  html: string;
  report: RunReport;
}

export async function replay(
  scenario: Scenario,
  ref: string,
  scheme: Scheme,
  schedule: string,
): Promise<Replayed> {
  const ids = decodeSchedule(schedule);
  const report = await replaySchedule(scenario, scheme, ids);
  const f = decisive(report.findings, scenario.forbid);
  const rs = replayString(ref, scheme.name, ids);
  const input = fromRun(report, { scheme: scheme.name, finding: f, replay: rs, provenance: 'replayed' });
  const cell: Cell = {
    scheme: scheme.name,
    verdict: f ? f.kind : 'ok',
    schedules: 1,
    certificate: `replayed schedule ${encodeSchedule(ids)}`,
    summary: f?.summary ?? null,
    replay: rs,
    schedule: encodeSchedule(ids),
  };
  return { cell, html: reportHtml(input), report };
}
