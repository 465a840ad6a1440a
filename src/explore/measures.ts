/**
 * The fairness measure (DESIGN.md race 7; seed 000, Jan Kara: "if someone is e.g. heavily faulting
 * pages on a file, direct IO to that file can be starved indefinitely"). The fault-storm-vs-dio
 * scenario with a given storm length — FAULT_STORM_TASKS tasks each faulting `storm` pages of one
 * file through a shared mapping, a page read each, while one task issues an O_DIRECT write to
 * another page of the file — runs once under the timed strategy (each task as if on its own CPU,
 * virtual time). dio_wait_max is the O_DIRECT task's longest single sleep (Task.counters
 * .waitTicksMax: on a lock, its own bios...). A lock that lets the storm starve the write makes it
 * grow with the storm; a fair one keeps it bounded whatever the storm's length.
 *
 * The storm tasks start half a fault apart (a few loads of an anonymous buffer first) so that at
 * every moment one of them holds what a fault takes: started together they would fault in
 * lockstep, and the lock would fall free between two rounds of faults — a timed-strategy artifact,
 * not the seed's heavy faulting. The O_DIRECT task arrives once the storm is on (after an fsync:
 * one bio latency). Every page is faulted once: a mapped page cannot be evicted
 * (mapping_evict_folio refuses a mapped folio, as POSIX_FADV_DONTNEED does), so a re-fault of the
 * same page needs a new page, not a loop.
 */
import type { Scenario } from '../litmus/ast.js';
import { parseLitmus } from '../litmus/parse.js';
import { type Scheme, scenarioNotApplicable } from '../schemes/scheme.js';
import { TimedStrategy } from '../sim/strategy.js';
import { runOnce } from './run.js';

/** Tasks faulting at once in the storm. */
export const FAULT_STORM_TASKS = 3;
/** Loads of the anonymous buffer between the starts of two storm tasks (≈ half a fault's hold). */
const STAGGER = 4;
/** The name of the O_DIRECT task. */
export const FAULT_STORM_DIO_TASK = 'D';

export interface FairnessRow {
  scheme: string;
  storm: number;
  /** Virtual ticks; null if the run did not complete (deadlock, no progress). */
  dio_wait_max: number | null;
}

/**
 * The fault-storm-vs-dio scenario as litmus text. `arrival` delays the O_DIRECT write by that many
 * more anonymous loads (0: the built-in scenario), so a test can try every phase of a fault.
 */
export function faultStormText(storm: number, arrival = 0, nodes = false): string {
  const pages = 1 + FAULT_STORM_TASKS * storm;
  const lines = [
    nodes ? 'litmus two-nodes-fault-storm-vs-dio' : 'litmus fault-storm-vs-dio',
    nodes
      ? 'doc "a storm of read faults on node A vs an O_DIRECT write on node B: fairness across nodes"'
      : 'doc "a storm of read faults on a file vs an O_DIRECT write to it: starvation (seed 000)"',
    'page 64',
    `option storm=${storm}`,
    `file f ${pages}p written`,
    `map m f 0 ${pages}p shared`,
    'buf b 8',
    '',
  ];
  for (let k = 0; k < FAULT_STORM_TASKS; k++) {
    if (k > 0) lines.push(`F${k}: loop ${k * STAGGER} load b 1`);
    const loads: string[] = [];
    for (let i = 0; i < storm; i++) loads.push(`load m+${1 + k + i * FAULT_STORM_TASKS}p 8`);
    lines.push(`F${k}: ${loads.join('; ')}`);
  }
  lines.push(`${FAULT_STORM_DIO_TASK}: fsync f`);
  if (arrival > 0) lines.push(`${FAULT_STORM_DIO_TASK}: loop ${arrival} load b 1`);
  lines.push(`${FAULT_STORM_DIO_TASK}: pwrite f 0 1p direct; load m+0 8`);
  // Issue 19: the storm on one node, the O_DIRECT write on another (docs/cluster.md).
  if (nodes) {
    const storm = Array.from({ length: FAULT_STORM_TASKS }, (_, k) => `F${k}`).join(' ');
    lines.push(`node A: ${storm}`, `node B: ${FAULT_STORM_DIO_TASK}`);
  }
  lines.push('', 'expect ok');
  return `${lines.join('\n')}\n`;
}

export function faultStormScenario(storm: number, arrival = 0, nodes = false): Scenario {
  if (!Number.isInteger(storm) || storm < 1 || storm > 1024)
    throw new Error(`storm ${storm}: must be 1..1024`);
  const name = nodes ? 'two-nodes-fault-storm-vs-dio' : 'fault-storm-vs-dio';
  return parseLitmus(faultStormText(storm, arrival, nodes), `<${name} storm=${storm}>`);
}

/**
 * One run of fault-storm-vs-dio under the timed strategy. `seed` picks the phase of a fault at
 * which the O_DIRECT write arrives (seed mod 32 more anonymous loads; 0 or none: the built-in
 * scenario's); the timed strategy itself draws nothing. `nodes`: the storm on node A, the write on
 * node B (a cluster scheme): D's longest wait then includes the DLM round trips and the storm
 * node's demotion (go_sync, go_inval) it waits for.
 */
export async function measureFairness(
  scheme: Scheme,
  storm: number,
  seed = 0,
  nodes = false,
): Promise<FairnessRow> {
  const run = await runOnce(faultStormScenario(storm, seed % 32, nodes), scheme, new TimedStrategy());
  const dio = run.result.tasks.find((t) => t.name === FAULT_STORM_DIO_TASK);
  const done = run.result.outcome.kind === 'done' && dio !== undefined;
  return { scheme: scheme.name, storm, dio_wait_max: done ? dio.counters.waitTicksMax : null };
}

/** The storm lengths of the matrix's fairness measures. */
export const FAIRNESS_STORMS: readonly number[] = [4, 8, 16, 32];

/**
 * The fairness rows of `schemes` × `storms` (schemes for which the scenario is n/a are skipped).
 * `nodes`: the measure across nodes (two-nodes-fault-storm-vs-dio), which only a cluster scheme
 * (gfs2 and its variants) can run; for the others it is n/a (scenarioNotApplicable), no row.
 */
export async function fairnessTable(
  schemes: readonly Scheme[],
  storms: readonly number[] = FAIRNESS_STORMS,
  nodes = false,
): Promise<FairnessRow[]> {
  const rows: FairnessRow[] = [];
  const probe = faultStormScenario(1, 0, nodes);
  for (const scheme of schemes) {
    if (scenarioNotApplicable(scheme, probe) !== null) continue;
    for (const storm of storms) rows.push(await measureFairness(scheme, storm, 0, nodes));
  }
  return rows;
}
