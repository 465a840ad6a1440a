/**
 * Turns a finished run into findings: the scheduler's own verdicts (deadlock, no-progress, a
 * broken invariant) and, for a run that completed, the data oracles of src/check over the history
 * and the settled state of every file.
 */

import { ContentMemo } from '../check/contentkey.js';
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

/**
 * Judgements of completed runs by everything the data oracles read (judgeKey), for the runs of one
 * search of one scenario: a DFS reaches the same op results, reads and settled files by many
 * interleavings, and the linearizability check dominated a run's cost.
 */
export class JudgeMemo extends ContentMemo<Judgement> {}

/** The findings of a run, and why the data oracles could not decide part of it, if they could not. */
export function judgeRun(world: World, result: RunResult, memo?: JudgeMemo): Judgement {
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
  return judgeData(world, memo);
}

type Views = ReturnType<typeof fileViews>;

/**
 * Everything judgeData reads besides the scenario (fixed for a memo's search): the whole history
 * (each op's clock, result, effects, observation), every file's four views, and its wb_err.
 * Exact, never a hash alone (src/check/contentkey.ts): two runs share a judgement only when the
 * oracles see the same inputs. Generic, so a field the history grows is keyed too; two equal
 * values built with their fields in another order only miss the memo.
 */
function judgeKey(world: World, views: Map<string, Views>): unknown[] {
  const errs: number[] = [];
  for (const inode of world.inodes.values()) errs.push(inode.mapping.wbErr.err);
  return [world.history.ops, views, errs];
}

function judgeData(world: World, memo?: JudgeMemo): Judgement {
  const views = new Map<string, Views>();
  for (const name of world.inodes.keys()) views.set(name, fileViews(world, name));
  return memo ? memo.get(judgeKey(world, views), () => judgeFresh(world, views)) : judgeFresh(world, views);
}

function judgeFresh(world: World, views: Map<string, Views>): Judgement {
  const history = world.history;
  const legal = linearize(world.initial, history.ops, stateBudget(world.scenario));
  const findings: Finding[] = [...checkReads(legal, history)];
  const crashed = new Map<string, Region>();
  for (const [name, inode] of world.inodes) {
    const v = views.get(name) as Views;
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
