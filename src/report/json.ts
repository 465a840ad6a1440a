/**
 * The JSON faces of `pagelab check`, `replay` and `matrix` (a contract: fields are added, never
 * renamed): one object on stdout, built here from the explorer's results.
 */
import type { Finding } from '../check/oracles.js';
import type { CheckResult } from '../explore/check.js';
import type { Matrix } from '../explore/matrix.js';
import type { RunReport } from '../explore/run.js';
import { opResults } from './ops.js';

export function findingJson(f: Finding, replay: string | null) {
  return {
    kind: f.kind,
    summary: f.summary,
    details: f.details,
    bytes: f.bytes ?? null,
    ops: f.ops,
    /** `ops` entry by entry: the op instance's tag (the `obj` of its op events in `trace`), or null. */
    opTags: f.opTags ?? null,
    reported: f.reported ?? null,
    replay,
  };
}

export function checkJson(r: CheckResult) {
  return {
    scenario: r.scenario,
    scheme: r.scheme,
    seed: r.seed,
    schedules: r.schedules,
    verdict: r.verdict,
    ...(r.reason ? { reason: r.reason } : {}),
    coverage: r.coverage,
    ...(r.shrunk ? { shrunk: r.shrunk } : {}),
    ...(r.inconclusive ? { inconclusive: r.inconclusive } : {}),
    findings: r.findings.map((f) => findingJson(f, r.replay)),
  };
}

/** `pagelab replay --json`: the verdict of one schedule, its findings and the whole trace. */
export function replayJson(
  scenario: string,
  scheme: string,
  replay: string,
  report: RunReport,
  decisive: Finding | null,
) {
  return {
    scenario,
    scheme,
    schedule: replay,
    verdict: decisive ? decisive.kind : report.inconclusive ? 'inconclusive' : 'ok',
    ...(!decisive && report.inconclusive ? { inconclusive: report.inconclusive } : {}),
    findings: report.findings.map((x) => findingJson(x, replay)),
    /** Each op instance: `name` (P1.2), `ret`, `errno` by name, `saw` (a read's bytes by source). */
    ops: opResults(report.world.history),
    trace: report.result.trace?.events() ?? [],
  };
}

export function matrixJson(m: Matrix) {
  return { seed: m.seed, schedules: m.schedules, rows: m.rows, measures: m.measures };
}
