/**
 * Turns a finished run into findings: the scheduler's own verdicts (deadlock, no-progress, a
 * broken invariant) and, for a run that completed, the data oracles of src/check over the history
 * and the settled state of every file.
 */

import type { Finding, FindingKind, Judgement } from '../check/finding.js';
import { linearize, STATE_BUDGET } from '../check/linearize.js';
import { checkCoherence, checkDurability, checkFinal, checkReads } from '../check/oracles.js';
import type { Region } from '../check/refmodel.js';
import type { Scenario } from '../litmus/ast.js';
import { fileViews, type World } from '../litmus/world.js';
import { errnoName } from '../sim/errno.js';
import type { DeadlockReport, RunResult } from '../sim/sched.js';

/** Lines of a lockdep-style report ("WARNING: possible circular locking dependency detected"). */
export function formatDeadlock(r: DeadlockReport): string[] {
  const lines = [
    `cycle: ${r.cycle.length ? r.cycle.join(' → ') + ' → ' + r.cycle[0] : '(no holder cycle: tasks wait on events nobody will signal)'}`,
  ];
  for (const w of r.waits) {
    lines.push(
      `${w.task} waits for ${w.waitsFor} [${w.lockClass}] at ${w.site}${w.heldBy.length ? `, held by ${w.heldBy.join(', ')}` : ''}`,
    );
  }
  for (const h of r.held) lines.push(`${h.task} holds ${h.lock} (${h.mode}) taken at ${h.site}`);
  return lines;
}

/** The findings of a run, and why the data oracles could not decide part of it, if they could not. */
export function judgeRun(world: World, result: RunResult): Judgement {
  const o = result.outcome;
  if (o.kind === 'deadlock') {
    return {
      findings: [
        {
          kind: 'deadlock',
          summary: `deadlock: ${o.report.cycle.length ? o.report.cycle.join(' ⇄ ') : o.report.waits.map((w) => w.task).join(', ')} can never run again`,
          details: formatDeadlock(o.report),
          ops: [],
        },
      ],
    };
  }
  if (o.kind === 'no-progress') {
    return {
      findings: [
        {
          kind: 'no-progress',
          summary: `no progress after ${o.steps} steps (livelock): ${o.running.map((r) => `${r.task} at ${r.site}`).join('; ')}`,
          details: [],
          ops: [],
        },
      ],
    };
  }
  if (o.kind === 'pruned') return { findings: [] };
  if (o.kind === 'invariant') {
    return {
      findings: [
        { kind: 'invariant', summary: `broken invariant in ${o.task}: ${o.message}`, details: [], ops: [] },
      ],
    };
  }
  return judgeData(world);
}

/**
 * The data oracles. Part of the history the checker could not decide within its budget is not
 * judged, and the judgement says so: findings from the rest stand, and no findings is then
 * "inconclusive", never "ok".
 */
function judgeData(world: World): Judgement {
  const history = world.history;
  const legal = linearize(world.initial, history.ops, stateBudget(world.scenario));
  const findings: Finding[] = [...checkReads(legal, history)];
  const crashed = new Map<string, Region>();
  for (const [name, inode] of world.inodes) {
    const v = fileViews(world, name);
    crashed.set(name, v.crashed);
    const err = inode.mapping.wbErr.err;
    const reported = err ? `${errnoName(err)} for the next fsync (dio_warn_stale_pagecache)` : null;
    const lost = checkFinal(legal, history, name, v.direct, reported);
    if (lost) findings.push(lost);
    // Across nodes, each node's buffered and mmap reads (docs/cluster.md: the glock's promise).
    const nodeViews = (v.perNode ?? []).flatMap((n) => [
      { name: `a buffered read on node ${n.node}`, cells: n.cache.cells },
      { name: `an mmap read on node ${n.node}`, cells: n.mmap.cells },
    ]);
    const inc = checkCoherence(
      name,
      [
        ...(v.perNode
          ? []
          : [
              { name: 'a buffered read', cells: v.cache.cells },
              { name: 'an mmap read', cells: v.mmap.cells },
            ]),
        ...nodeViews,
        { name: 'an O_DIRECT read', cells: v.direct.cells },
      ],
      history,
      world.initial,
    );
    if (inc) findings.push(inc);
  }
  const dur = checkDurability(legal, history, crashed);
  if (dur) findings.push(dur);
  return legal.inconclusive ? { findings, inconclusive: legal.inconclusive } : { findings };
}

/**
 * The checker's budget of states per partition: `option oracle-states=N` in the scenario (to see
 * where the checker gives up, or to give it more room), else STATE_BUDGET.
 */
export function stateBudget(scenario: Scenario): number {
  const opt = scenario.options['oracle-states'];
  if (opt === undefined) return STATE_BUDGET;
  const n = Number(opt);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`option oracle-states=${opt}: must be a positive integer`);
  return n;
}

const PRIORITY: FindingKind[] = [
  'deadlock',
  'no-progress',
  'invariant',
  'stale-read',
  'lost-write',
  'durability',
  'incoherent',
];

/** The finding that decides the verdict: the first forbidden one by priority, or null. */
export function decisive(findings: readonly Finding[], forbid: readonly FindingKind[]): Finding | null {
  for (const kind of PRIORITY) {
    if (!forbid.includes(kind)) continue;
    const f = findings.find((x) => x.kind === kind);
    if (f) return f;
  }
  return null;
}
