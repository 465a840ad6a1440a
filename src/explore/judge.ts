/**
 * Turns a finished run into findings: the scheduler's own verdicts (deadlock, no-progress, a
 * broken invariant) and, for a run that completed, the data oracles of src/check over the history
 * and the settled state of every file.
 */

import { checkCoherence, checkDurability, checkFinal, checkReads, type Finding } from '../check/oracles.js';
import { exploreStates, type Region } from '../check/refmodel.js';
import type { FindingKind } from '../litmus/ast.js';
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

export function judge(world: World, result: RunResult): Finding[] {
  const o = result.outcome;
  if (o.kind === 'deadlock') {
    return [
      {
        kind: 'deadlock',
        summary: `deadlock: ${o.report.cycle.length ? o.report.cycle.join(' ⇄ ') : o.report.waits.map((w) => w.task).join(', ')} can never run again`,
        details: formatDeadlock(o.report),
        ops: [],
      },
    ];
  }
  if (o.kind === 'no-progress') {
    return [
      {
        kind: 'no-progress',
        summary: `no progress after ${o.steps} steps (livelock): ${o.running.map((r) => `${r.task} at ${r.site}`).join('; ')}`,
        details: [],
        ops: [],
      },
    ];
  }
  if (o.kind === 'pruned') return [];
  if (o.kind === 'invariant') {
    return [
      { kind: 'invariant', summary: `broken invariant in ${o.task}: ${o.message}`, details: [], ops: [] },
    ];
  }
  return judgeData(world);
}

function judgeData(world: World): Finding[] {
  const history = world.history;
  const ex = exploreStates(world.initial, history.ops);
  if (ex.truncated) return [];
  const findings: Finding[] = [...checkReads(ex, history)];
  const crashed = new Map<string, Region>();
  for (const [name, inode] of world.inodes) {
    const v = fileViews(world, name);
    crashed.set(name, v.crashed);
    const err = inode.mapping.wbErr.err;
    const reported = err ? `${errnoName(err)} for the next fsync (dio_warn_stale_pagecache)` : null;
    const lost = checkFinal(ex, history, name, v.direct, reported);
    if (lost) findings.push(lost);
    const inc = checkCoherence(
      name,
      [
        { name: 'a buffered read', cells: v.cache.cells },
        { name: 'an mmap read', cells: v.mmap.cells },
        { name: 'an O_DIRECT read', cells: v.direct.cells },
      ],
      history,
    );
    if (inc) findings.push(inc);
  }
  const dur = checkDurability(ex, history, crashed);
  if (dur) findings.push(dur);
  return findings;
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
