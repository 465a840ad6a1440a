/**
 * Reports of real runs for the report tests: a check's failing run, a replayed schedule, or a
 * report built by hand around hostile strings.
 */
import type { Finding } from '../check/oracles.js';
import { findBuiltin } from '../explore/builtin.js';
import { checkScenario } from '../explore/check.js';
import { decisive } from '../explore/judge.js';
import { replaySchedule, runOnce } from '../explore/run.js';
import { findScheme } from '../schemes/index.js';
import { RandomStrategy } from '../sim/strategy.js';
import type { TraceEvent } from '../sim/trace.js';
import { fromCheck, fromRun, type ReportInput } from './input.js';

function builtin(scenario: string, scheme: string) {
  const s = findBuiltin(scenario);
  const k = findScheme(scheme);
  if (!s || !k) throw new Error(`no ${scenario} or ${scheme}`);
  return { s, k };
}

/** The report of `pagelab check <scenario> --scheme <scheme>` (seed 1). */
export async function checkReport(scenario: string, scheme: string, schedules = 1000): Promise<ReportInput> {
  const { s, k } = builtin(scenario, scheme);
  const r = await checkScenario(s, k, { schedules, seed: 1, scenarioRef: scenario });
  return fromCheck(r);
}

/** The report of one schedule replayed (`[]`: the default, non-preemptive one). */
export async function replayReport(
  scenario: string,
  scheme: string,
  schedule: number[],
): Promise<ReportInput> {
  const { s, k } = builtin(scenario, scheme);
  const run = await replaySchedule(s, k, schedule);
  const finding = decisive(run.findings, s.forbid);
  return fromRun(run, { scheme, finding, replay: `${scenario}:${scheme}:-`, provenance: 'replayed' });
}

/** The report of one random schedule (any verdict). */
export async function randomReport(scenario: string, scheme: string, seed: number): Promise<ReportInput> {
  const { s, k } = builtin(scenario, scheme);
  const run = await runOnce(s, k, new RandomStrategy(seed), { trace: true });
  const finding = run.findings[0] ?? null;
  return fromRun(run, {
    scheme: scheme,
    finding,
    replay: `${scenario}:${scheme}:?`,
    provenance: `seed ${seed}`,
  });
}

/** A hand-made report whose every string is hostile HTML. */
export function hostileReport(): ReportInput {
  const evil = '<script>window.__pwned = 1</script>';
  const ev = (
    seq: number,
    task: number,
    kind: TraceEvent['kind'],
    site: string,
    detail?: string,
  ): TraceEvent => ({
    seq,
    time: seq,
    task,
    kind,
    site,
    obj: -1,
    ...(detail === undefined ? {} : { detail }),
  });
  const finding: Finding = {
    kind: 'stale-read',
    summary: `P0's \`load ${evil}\` read bytes [0,8) of f as </script><img src=x onerror="window.__pwned=2">`,
    details: [`why: ${evil}`, '"quotes" & \'apostrophes\''],
    bytes: { region: 'f', start: 0, end: 8 },
    ops: [`P0's \`load ${evil}\``],
  };
  return {
    scenario: evil,
    scheme: '<b>scheme</b>',
    verdict: 'stale-read',
    provenance: `found <i>somehow</i> ${evil}`,
    finding,
    others: [],
    replay: `${evil}:x:0`,
    note: null,
    events: [
      ev(0, 0, 'spawn', 'P0'),
      ev(1, 0, 'event', 'op', `load ${evil}`),
      ev(2, 0, 'acquire', 'site<script>', 'lock</script><script>window.__pwned=3</script> excl'),
      ev(3, 0, 'event', 'filemap_add_folio', 'folio f:0'),
      ev(4, 0, 'release', 'unlock', 'lock</script><script>window.__pwned=3</script> excl'),
      ev(5, 0, 'result', 'op-return', `load ${evil} = 8`),
      ev(6, 0, 'exit', 'exit'),
    ],
    tasks: [{ id: 0, name: '<img src=x onerror="window.__pwned=4">', isIrq: false }],
    pageSize: 64,
    initialPages: [],
  };
}
