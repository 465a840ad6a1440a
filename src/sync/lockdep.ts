/**
 * A lockdep-like validator (kernel/locking/lockdep.c). Passed as `new Sim({ lockObserver })` to
 * many runs, it learns the order of lock *classes* (edge A -> B when B is taken while A is held,
 * with the two acquisition sites, modes and the task) and reports a possible circular dependency
 * even when no run deadlocked: a run taking A then B and another taking B then A are enough.
 *
 * What it mirrors, and how shared acquisitions are treated (Boqun Feng's recursive-read deadlock
 * detection, lockdep since 5.10): each acquisition is exclusive (read 0), shared non-recursive
 * (read 1: rwsem readers, which queue behind a waiting writer; range readers; two-state with a
 * deadline) or recursive-read (read 2: two-state without a deadline, which never waits while its
 * state is held). At every lock X of a cycle, the task of the incoming edge asks for X while the
 * task of the outgoing edge holds X. The cycle is a possible deadlock only if *every* such meeting
 * can block; a meeting cannot block when the request is recursive-read and the holder holds X
 * shared in the same group (lockdep's rule that a -(*R)-> edge may not be followed by a -(S*)->
 * edge, extended with groups because two-state "add" and "block" are both shared yet exclude each
 * other). Hence: a cycle of rwsem down_read()s *is* reported, as lockdep does, because a queued
 * writer turns it into a real deadlock; a cycle made only of "add" acquisitions of an original
 * two-state lock is not, since those never hand off to anyone.
 *
 * Other rules, as in lockdep: a trylock adds no edge into the lock it takes (it cannot wait), but
 * what it took is a held lock for later acquisitions; taking a lock of the class one already
 * holds is not a cycle (nested same-class locking; lockdep would want a subclass annotation).
 * Departures: edges are added from every held lock, not only the most recent one (lockdep relies
 * on transitivity; direct edges give shorter, clearer chains); range locks are classes like any
 * other, their byte ranges are ignored (conservative, as lockdep would be); no irq-context
 * (hardirq/softirq safe/unsafe) analysis, because the model has no interrupt-disabled sections.
 */
import type { HeldLock, LockObserver, Task, Waitable } from '../sim/task.js';
import { heldAttrs, type LockAttrs } from './held.js';

/** One learned dependency: `to` was taken while `from` was held. */
export interface LockdepEdge {
  readonly from: string;
  readonly to: string;
  readonly fromMode: string;
  readonly toMode: string;
  /** Where the held lock had been taken. */
  readonly fromSite: string;
  /** Where the new lock was taken. */
  readonly toSite: string;
  readonly fromAttrs: LockAttrs;
  readonly toAttrs: LockAttrs;
  /** The task that first established it, and in which run (1-based, counted by this validator). */
  readonly task: string;
  readonly run: number;
  /** Order of discovery (0-based). */
  readonly order: number;
  /** How many times it was seen. */
  count: number;
}

/** A circular dependency: cycle[i].to === cycle[i+1].from, and the last edge closes it. */
export interface LockdepReport {
  readonly cycle: readonly LockdepEdge[];
  /** Runs observed when the report was made. */
  readonly runs: number;
}

function attrKey(a: LockAttrs): string {
  return `${a.read}:${a.group}`;
}

/** Can a task asking for X with `req` block on a task holding X with `held`? */
function meetingBlocks(req: LockAttrs, held: LockAttrs): boolean {
  return !(req.read === 2 && held.read !== 0 && req.group === held.group);
}

export class Lockdep implements LockObserver {
  private readonly edgeList: LockdepEdge[] = [];
  private readonly byKey = new Map<string, LockdepEdge>();
  private readonly out = new Map<string, LockdepEdge[]>();
  private lastSim: object | null = null;
  runs = 0;
  acquisitions = 0;

  acquired(t: Task, lock: Waitable, _mode: string, _site: string): void {
    if (t.sim !== this.lastSim) {
      this.lastSim = t.sim;
      this.runs++;
    }
    this.acquisitions++;
    const held = t.held;
    const now = held[held.length - 1];
    if (!now || now.lock !== lock) return; // not recorded through src/sync/held.ts
    const to = heldAttrs(now);
    if (to.trylock) return;
    for (let i = 0; i < held.length - 1; i++) this.addEdge(t, held[i], now);
  }

  released(_t: Task, _lock: Waitable): void {
    // Nothing to learn: the task's held stack is the truth and is read at each acquisition.
  }

  edges(): readonly LockdepEdge[] {
    return this.edgeList;
  }

  /** The shortest possible circular dependency learned so far, or null. */
  check(): LockdepReport | null {
    let best: LockdepEdge[] | null = null;
    for (const e0 of this.edgeList) {
      const c = this.shortestCycleThrough(e0);
      if (c && (!best || c.length < best.length)) best = c;
    }
    if (!best) return null;
    // Rotate so that the most recently learned edge closes the cycle: it plays the part of the
    // acquisition lockdep would have been validating when it fired.
    let k = 0;
    for (let i = 1; i < best.length; i++) if (best[i].order > best[k].order) k = i;
    const cycle = [...best.slice(k + 1), ...best.slice(0, k + 1)];
    return { cycle, runs: this.runs };
  }

  /** Forgets everything learned. */
  reset(): void {
    this.edgeList.length = 0;
    this.byKey.clear();
    this.out.clear();
    this.lastSim = null;
    this.runs = 0;
    this.acquisitions = 0;
  }

  /** The report in the shape of the kernel's "possible circular locking dependency" splat. */
  format(report: LockdepReport): string {
    return formatLockdepReport(report);
  }

  private addEdge(t: Task, fromHeld: HeldLock, toHeld: HeldLock): void {
    const from = fromHeld.lock.lockClass;
    const to = toHeld.lock.lockClass;
    if (from === to) return;
    const fa = heldAttrs(fromHeld);
    const ta = heldAttrs(toHeld);
    const key = `${from}\u0000${to}\u0000${attrKey(fa)}\u0000${attrKey(ta)}`;
    const old = this.byKey.get(key);
    if (old) {
      old.count++;
      return;
    }
    const e: LockdepEdge = {
      from,
      to,
      fromMode: fromHeld.mode,
      toMode: toHeld.mode,
      fromSite: fromHeld.site,
      toSite: toHeld.site,
      fromAttrs: fa,
      toAttrs: ta,
      task: t.toString(),
      run: this.runs,
      order: this.edgeList.length,
      count: 1,
    };
    this.byKey.set(key, e);
    this.edgeList.push(e);
    const list = this.out.get(from);
    if (list) list.push(e);
    else this.out.set(from, [e]);
  }

  /** BFS over edges (edge -> edge where the meeting at the shared lock can block) back to e0. */
  private shortestCycleThrough(e0: LockdepEdge): LockdepEdge[] | null {
    const parent = new Map<LockdepEdge, LockdepEdge | null>([[e0, null]]);
    let frontier = [e0];
    while (frontier.length > 0) {
      const next: LockdepEdge[] = [];
      for (const e of frontier) {
        if (e.to === e0.from && meetingBlocks(e.toAttrs, e0.fromAttrs)) return unwind(parent, e);
        for (const f of this.out.get(e.to) ?? []) {
          if (parent.has(f) || !meetingBlocks(e.toAttrs, f.fromAttrs)) continue;
          parent.set(f, e);
          next.push(f);
        }
      }
      frontier = next;
    }
    return null;
  }
}

function unwind(parent: Map<LockdepEdge, LockdepEdge | null>, last: LockdepEdge): LockdepEdge[] {
  const path: LockdepEdge[] = [];
  for (let e: LockdepEdge | null = last; e; e = parent.get(e) ?? null) path.push(e);
  return path.reverse();
}

function lockName(cls: string, mode: string): string {
  return `(${cls}){${mode}}`;
}

function lockVerb(a: LockAttrs, cls: string): string {
  return `${a.read ? 'rlock' : 'lock'}(${cls})`;
}

/** Formats a report like kernel/locking/lockdep.c print_circular_bug(). */
export function formatLockdepReport(report: LockdepReport): string {
  const c = report.cycle;
  const n = c.length;
  const last = c[n - 1];
  const L: string[] = [];
  L.push('======================================================');
  L.push('WARNING: possible circular locking dependency detected');
  L.push(`pagelab lockdep: learned from ${report.runs} run(s); no run needs to have deadlocked`);
  L.push('------------------------------------------------------');
  L.push(`${last.task} is trying to acquire lock:`);
  L.push(`  ${lockName(last.to, last.toMode)}, at: ${last.toSite}`);
  L.push('');
  L.push('but task is already holding lock:');
  L.push(`  ${lockName(last.from, last.fromMode)}, at: ${last.fromSite}`);
  L.push('');
  L.push('which lock already depends on the new lock.');
  L.push('');
  L.push('');
  L.push('the existing dependency chain (in reverse order) is:');
  for (let k = n - 1; k >= 0; k--) {
    // #k is lock C_k of the cycle; C_0 is the lock being acquired. C_k (k >= 1) was taken
    // in edge c[k-1] while C_{k-1} was held; C_0 is taken now, in the closing edge.
    const e = k === 0 ? last : c[k - 1];
    L.push('');
    L.push(`-> #${k} ${lockName(e.to, e.toMode)}:`);
    L.push(`       ${e.toSite}`);
    L.push(
      `       (${e.task}, run ${e.run}, holding ${lockName(e.from, e.fromMode)} taken at ${e.fromSite})`,
    );
  }
  L.push('');
  L.push('other info that might help us debug this:');
  L.push('');
  const source = last.to;
  const target = last.from;
  const prev = c[n - 2] ?? last;
  if (n > 2) {
    L.push('Chain exists of:');
    L.push(`  ${c.map((e) => e.from).join(' --> ')} --> ${source}`);
    L.push('');
  }
  L.push(' Possible unsafe locking scenario:');
  L.push('');
  L.push('       CPU0                    CPU1');
  L.push('       ----                    ----');
  L.push(`  ${lockVerb(last.fromAttrs, target)};`);
  L.push(`                               ${lockVerb(prev.fromAttrs, prev.from)};`);
  L.push(`                               ${lockVerb(prev.toAttrs, target)};`);
  L.push(`  ${lockVerb(last.toAttrs, source)};`);
  L.push('');
  L.push(' *** DEADLOCK ***');
  return L.join('\n');
}
