/**
 * The scheduler. Tasks are async functions parked on promises; exactly one is unparked at a time.
 * At every scheduling point the running task calls into `switchFrom`, which asks the strategy who
 * runs next and unparks it. Everything happens on the microtask queue of one thread, so a run is
 * a pure function of the scenario and the strategy's choices: same seed, same trace, byte for byte.
 *
 * Verdicts produced here: `done`, `deadlock` (unfinished tasks, none runnable: the wait-for cycle
 * is reported in the spirit of lockdep), `no-progress` (the step bound was exceeded: a livelock,
 * distinct from a deadlock), and `invariant` (model code threw an InvariantError).
 */
import { emptyArray } from './alloc.js';
import { InvariantError } from './assert.js';
import { declareStep, setRecordingTask } from './footprint.js';
import { type HeldLock, type LockObserver, Task, TaskState, type Waitable, waitableObj } from './task.js';
import { Trace, type TraceKind } from './trace.js';

export interface Strategy {
  readonly name: string;
  /**
   * Picks who runs next. `runnable` is sorted by task id and has at least two entries; `current`
   * is the task at the scheduling point (in `runnable` unless it just blocked or exited).
   */
  pick(runnable: readonly Task[], current: Task, sim: Sim): Task | null;
  /**
   * Told of every step as it ends (optional: the DPOR search). A step is what a task did between
   * two scheduling points, a point and a wait, or a wake-up and the next point; `fp` is its
   * footprint (see Task.touch). The array is the task's and is reused after the call.
   */
  onStep?(t: Task, fp: readonly number[]): void;
  /** Told of a task created by `parent` (null: before the run) — a happens-before edge. */
  onSpawn?(t: Task, parent: Task | null): void;
  /** Told that `by`'s current step made `t` runnable — a happens-before edge. */
  onWake?(t: Task, by: Task | null): void;
  /**
   * Told that `t`'s continuation is now a function of `index` and the model's state alone (a litmus
   * task about to start its op `index`: Task.freshContinuation) — the stateful search's positions.
   */
  onFreshContinuation?(t: Task, index: number): void;
  /**
   * Told that `t`'s step broke an invariant and ended the run, `runnable` (t among them) still
   * runnable: the step stopped them all, so it depends on every step they were about to take.
   */
  onStop?(t: Task, runnable: readonly Task[]): void;
}

/**
 * Steps after which an unfinished run is declared `no-progress` unless the caller says otherwise:
 * the one step bound (explore/defaults.ts passes it on to the CLI). The longest built-in scenario
 * takes a few thousand steps.
 */
export const STEP_BOUND_DEFAULT = 20_000;

export interface SimOptions {
  strategy: Strategy;
  /** Scheduling steps after which an unfinished run is declared `no-progress`. */
  stepBound?: number;
  /** Record the full trace (off while searching, on to show a finding). */
  trace?: boolean;
  /** Virtual ticks one step costs the task that takes it. */
  stepCost?: number;
  /** Told of every lock acquisition and release (the lockdep-like validator). */
  lockObserver?: LockObserver | null;
}

export interface WaitEdge {
  task: string;
  waitsFor: string;
  lockClass: string;
  site: string;
  since: number;
  heldBy: string[];
}

export interface HeldReport {
  task: string;
  lock: string;
  mode: string;
  site: string;
  time: number;
}

export interface DeadlockReport {
  /** The tasks of the wait-for cycle, in cycle order (empty if the blocked tasks wait on no holder). */
  cycle: string[];
  waits: WaitEdge[];
  held: HeldReport[];
}

export type Outcome =
  | { kind: 'done' }
  | { kind: 'deadlock'; report: DeadlockReport }
  | { kind: 'no-progress'; steps: number; running: { task: string; site: string }[] }
  | { kind: 'invariant'; task: string; message: string }
  /** The strategy abandoned the run (a search that knows the rest is equivalent to a run it did). */
  | { kind: 'pruned' };

export interface RunResult {
  outcome: Outcome;
  steps: number;
  /** The task id chosen at every decision (a point where two or more tasks could run). */
  schedule: number[];
  /** Decisions at which a runnable current task was switched away from. */
  preemptions: number;
  /** Virtual time when the run ended: the latest task clock. */
  time: number;
  tasks: Task[];
  trace: Trace | null;
}

/**
 * A promise that never settles, for a task the run has ended under (pruned, deadlocked, over the
 * step bound). A fresh one each time: one shared pending promise would collect a reaction per
 * parked task and keep every such task, and with it its whole Sim, alive for ever (measured:
 * ~3.6 KB per pruned run, heap +370 MB per 100,000 runs and 30x slower runs).
 */
function never(): Promise<void> {
  return new Promise<void>(() => {});
}

/**
 * A RunResult built by a class, not an object literal: a pretenured literal site would put dead
 * results in the old generation, keeping each run's young tasks alive (see alloc.ts).
 */
class Result implements RunResult {
  constructor(
    public outcome: Outcome,
    public steps: number,
    public schedule: number[],
    public preemptions: number,
    public time: number,
    public tasks: Task[],
    public trace: Trace | null,
  ) {}
}

export class Sim {
  readonly tasks: Task[] = emptyArray();
  readonly trace: Trace | null;
  readonly strategy: Strategy;
  readonly stepBound: number;
  readonly stepCost: number;
  readonly lockObserver: LockObserver | null;
  /** Steps' footprints are recorded (the strategy wants them: Strategy.onStep). */
  readonly recording: boolean;
  readonly schedule: number[] = emptyArray();
  preemptions = 0;
  steps = 0;
  /** The task that is running now (null before start and after the end). */
  current: Task | null = null;
  private readonly runq: Task[] = emptyArray();
  private outcome: Outcome | null = null;
  private finishRun: ((r: RunResult) => void) | null = null;
  private failRun: ((err: unknown) => void) | null = null;

  constructor(options: SimOptions) {
    this.strategy = options.strategy;
    this.stepBound = options.stepBound ?? STEP_BOUND_DEFAULT;
    this.stepCost = options.stepCost ?? 1;
    this.lockObserver = options.lockObserver ?? null;
    this.trace = options.trace ? new Trace() : null;
    this.recording = this.strategy.onStep !== undefined;
  }

  /** Virtual time of the running task. */
  get now(): number {
    return this.current ? this.current.time : 0;
  }

  get finished(): boolean {
    return this.outcome !== null;
  }

  /**
   * Creates a task. It becomes runnable at once; its body starts when the strategy first picks it.
   * `time` sets its virtual start time (a bio completion is spawned at submit time + latency).
   */
  spawn(
    name: string,
    body: (t: Task) => Promise<unknown>,
    opts: { irq?: boolean; time?: number } = {},
  ): Task {
    const t = new Task(this, this.tasks.length, name, opts.irq ?? false, opts.time ?? this.now);
    this.tasks.push(t);
    if (this.recording) this.strategy.onSpawn?.(t, this.current);
    t.resume = () => this.start(t, body);
    this.enqueue(t);
    this.traceEvent(t, 'spawn', name);
    return t;
  }

  /** Runs until every task is done, or a deadlock, livelock or broken invariant ends the run. */
  run(): Promise<RunResult> {
    if (this.finishRun) throw new Error('Sim.run() called twice');
    const done = new Promise<RunResult>((resolve, reject) => {
      this.finishRun = resolve;
      this.failRun = reject;
    });
    if (this.runq.length === 0) {
      this.finish({ kind: 'done' });
    } else {
      const first = this.runq.length > 1 ? this.decide(this.runq[0], false) : this.runq[0];
      if (first === null) this.finish({ kind: 'pruned' });
      else this.unpark(first);
    }
    return done;
  }

  /** See Task.point. */
  point(t: Task, site: string): Promise<void> | undefined {
    if (this.trace) this.traceEvent(t, 'point', site, t.accessObj);
    t.lastSite = site;
    return this.switchFrom(t);
  }

  /**
   * Parks `t` until someone wakes it. Context: the caller has queued `t` on `on`'s wait list.
   * The wait counts in the task's wait statistics and in the deadlock wait-for graph.
   */
  block(t: Task, on: Waitable, site: string): Promise<void> {
    if (t.state !== TaskState.Runnable) throw new InvariantError(`${t} blocks while not running`);
    t.state = TaskState.Blocked;
    t.blockedOn = on;
    t.blockedSite = site;
    t.blockedAt = t.time;
    t.counters.waits++;
    if (this.recording) t.touch(waitableObj(on), true);
    this.dequeue(t);
    if (this.trace) this.traceEvent(t, 'wait', site, -1, on.name);
    t.lastSite = site;
    return this.switchFrom(t) ?? never();
  }

  /** Makes a blocked task runnable again; its clock moves to the waker's (causality). */
  wake(t: Task, by: Task | null = this.current): void {
    if (t.state !== TaskState.Blocked) return;
    const at = by ? by.time : t.time;
    if (at > t.time) t.time = at;
    const waited = t.time - t.blockedAt;
    t.counters.waitTicksTotal += waited;
    if (waited > t.counters.waitTicksMax) t.counters.waitTicksMax = waited;
    t.state = TaskState.Runnable;
    if (this.trace) this.traceEvent(t, 'wake', t.blockedSite, -1, t.blockedOn?.name);
    if (this.recording) {
      if (by && t.blockedOn) by.touch(waitableObj(t.blockedOn), true);
      this.strategy.onWake?.(t, by);
    }
    t.blockedOn = null;
    this.enqueue(t);
  }

  traceEvent(t: Task, kind: TraceKind, site: string, obj = -1, detail?: string): void {
    if (this.trace) this.trace.record(t.time, t.id, kind, site, obj, detail);
  }

  // --- internals ---

  private start(t: Task, body: (t: Task) => Promise<unknown>): void {
    body(t).then(
      () => this.exit(t),
      (err: unknown) => this.crash(t, err),
    );
  }

  private exit(t: Task): void {
    if (this.outcome) return;
    t.state = TaskState.Done;
    this.dequeue(t);
    this.traceEvent(t, 'exit', 'exit');
    this.switchFrom(t);
  }

  private crash(t: Task, err: unknown): void {
    if (this.outcome) return;
    if (!(err instanceof InvariantError)) {
      // A bug in the model itself, not a finding about a scheme: surface it loudly.
      this.outcome = { kind: 'invariant', task: t.toString(), message: String(err) };
      const fail = this.failRun;
      this.finishRun = null;
      this.failRun = null;
      fail?.(err);
      return;
    }
    this.traceEvent(t, 'event', 'invariant', -1, err.message);
    if (this.recording) this.strategy.onStop?.(t, this.runq);
    this.finish({ kind: 'invariant', task: t.toString(), message: err.message });
  }

  /**
   * The heart of the scheduler. `cur` is at a point (runnable), blocked, or done. Returns undefined
   * if `cur` keeps the CPU, else a promise that parks `cur` until it is picked again.
   */
  private switchFrom(cur: Task): Promise<void> | undefined {
    if (this.outcome) return never();
    if (this.recording) this.endStep(cur);
    cur.time += this.stepCost;
    cur.counters.steps++;
    if (++this.steps > this.stepBound) {
      this.finish({ kind: 'no-progress', steps: this.steps, running: this.unfinished() });
      return never();
    }
    const n = this.runq.length;
    if (n === 0) {
      let allDone = true;
      for (const t of this.tasks) if (t.state !== TaskState.Done) allDone = false;
      this.finish(allDone ? { kind: 'done' } : this.deadlock());
      return never();
    }
    const curRunnable = cur.state === TaskState.Runnable;
    const next = n === 1 ? this.runq[0] : this.decide(cur, curRunnable);
    if (next === null) {
      this.finish({ kind: 'pruned' });
      return never();
    }
    if (next === cur) return undefined;
    // A task that just blocked parks too: wake() makes it runnable and unpark() resumes it here.
    let parked: Promise<void> | undefined;
    if (cur.state !== TaskState.Done) parked = new Promise<void>((resolve) => (cur.resume = resolve));
    this.unpark(next);
    return parked;
  }

  /** Hands the step `cur` just ended to the strategy; the next one starts with its declaration. */
  private endStep(cur: Task): void {
    this.strategy.onStep?.(cur, cur.fp);
    cur.fp.length = 0;
    declareStep(cur);
  }

  private decide(cur: Task, curRunnable: boolean): Task | null {
    const next = this.strategy.pick(this.runq, cur, this);
    if (next === null) return null;
    this.schedule.push(next.id);
    if (curRunnable && next !== cur) this.preemptions++;
    return next;
  }

  private unpark(next: Task): void {
    this.current = next;
    setRecordingTask(this.recording ? next : null);
    const resume = next.resume;
    next.resume = null;
    if (!resume) throw new Error(`scheduler: ${next} is runnable but not parked`);
    resume();
  }

  private enqueue(t: Task): void {
    // Kept sorted by id: strategies see a canonical order, which replay depends on.
    // Insertion by hand, not splice(), which allocates an array of the removed elements.
    const q = this.runq;
    let i = q.length;
    q.push(t);
    for (; i > 0 && q[i - 1].id > t.id; i--) q[i] = q[i - 1];
    q[i] = t;
  }

  private dequeue(t: Task): void {
    const q = this.runq;
    const i = q.indexOf(t);
    if (i < 0) return;
    for (let j = i + 1; j < q.length; j++) q[j - 1] = q[j];
    q.pop();
  }

  private finish(outcome: Outcome): void {
    this.outcome = outcome;
    this.current = null;
    if (this.recording) setRecordingTask(null);
    const resolve = this.finishRun;
    this.finishRun = null;
    if (resolve) {
      let time = 0;
      for (const t of this.tasks) if (t.time > time) time = t.time;
      resolve(new Result(outcome, this.steps, this.schedule, this.preemptions, time, this.tasks, this.trace));
    }
  }

  private unfinished(): { task: string; site: string }[] {
    return this.tasks
      .filter((t) => t.state !== TaskState.Done)
      .map((t) => ({ task: t.toString(), site: unfinishedSite(t) }));
  }

  /** Builds the lockdep-style report: who waits for what, who holds it, and the wait-for cycle. */
  private deadlock(): Outcome {
    const blocked = this.tasks.filter((t) => t.state === TaskState.Blocked);
    const waits: WaitEdge[] = blocked.map((t) => {
      const on = t.blockedOn as Waitable;
      return {
        task: t.toString(),
        waitsFor: on.name,
        lockClass: on.lockClass,
        site: t.blockedSite,
        since: t.blockedAt,
        heldBy: on.holders().map(String),
      };
    });
    const held: HeldReport[] = [];
    for (const t of this.tasks) {
      for (const h of t.held as HeldLock[]) {
        held.push({ task: t.toString(), lock: h.lock.name, mode: h.mode, site: h.site, time: h.time });
      }
    }
    return { kind: 'deadlock', report: { cycle: findCycle(blocked).map(String), waits, held } };
  }
}

/** Where an unfinished task is: its last site, and the retry loop it is spinning in, if any. */
function unfinishedSite(t: Task): string {
  const site = t.lastSite || '(not started)';
  return t.retryLoop ? `${site}, in the ${t.retryLoop} retry loop (${t.retries} retries)` : site;
}

/** A cycle in the wait-for graph (task → holders of what it waits on), or [] if there is none. */
function findCycle(blocked: Task[]): Task[] {
  const color = new Map<Task, number>();
  const stack: Task[] = [];
  const visit = (t: Task): Task[] | null => {
    color.set(t, 1);
    stack.push(t);
    for (const h of t.blockedOn?.holders() ?? []) {
      if (h.state !== TaskState.Blocked) continue;
      const c = color.get(h) ?? 0;
      if (c === 1) return stack.slice(stack.indexOf(h));
      if (c === 0) {
        const found = visit(h);
        if (found) return found;
      }
    }
    stack.pop();
    color.set(t, 2);
    return null;
  };
  for (const t of blocked) {
    if ((color.get(t) ?? 0) === 0) {
      const found = visit(t);
      if (found) return found;
    }
  }
  return [];
}
