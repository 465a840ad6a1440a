/**
 * Task: the model's `current`. Every kernel path is an async function taking the task first and
 * awaiting `task.point(...)` wherever the kernel could be preempted, and the scheduler decides
 * at each point who runs next. One task runs at a time.
 */
import { emptyArray } from './alloc.js';
import { ANYTHING, encodeAccess, encodeGroupAccess, objectId, RECORDED_ONLY } from './footprint.js';
import type { Sim } from './sched.js';

/** Anything a task can wait on: a lock, a folio lock bit, a bio, a pin count. */
export interface Waitable {
  /** Instance name, as shown in a deadlock report: `i_rwsem(f)`, `folio f:0`, `bio#3`. */
  readonly name: string;
  /** Lock class for the lockdep-like validator: `i_rwsem`, `folio_lock`, `glock`. */
  readonly lockClass: string;
  /** The tasks whose progress would release a waiter (holders of a lock, the issuer of a bio). */
  holders(): readonly Task[];
  /** Records its own step footprints (src/sync/held.ts then leaves them to it): the range lock. */
  readonly ownFootprint?: boolean;
  /**
   * Its footprint object, where its name is not the same in every run (a bio's completion is
   * named by a device-wide counter); default objectId(name).
   */
  fpObj?: number;
}

/** The footprint object of a lock or wait queue (src/sim/footprint.ts). */
export function waitableObj(w: Waitable): number {
  let id = w.fpObj;
  if (id === undefined) {
    // Remembered on the object: a name is a string built on every call (a range request's).
    id = objectId(w.name);
    w.fpObj = id;
  }
  return id;
}

/** A lock the task holds, with where and when it took it (shown in deadlock reports). */
export interface HeldLock {
  readonly lock: Waitable;
  readonly mode: string;
  readonly site: string;
  readonly time: number;
}

/**
 * Watches lock acquisitions (the lockdep-like validator in src/sync implements it). One observer
 * may watch many runs: that is how it learns lock-class ordering across runs.
 */
export interface LockObserver {
  acquired(t: Task, lock: Waitable, mode: string, site: string): void;
  released(t: Task, lock: Waitable): void;
}

/** A lock context kept in the task (Chinner, seed 004); its content is the filesystem's business. */
export interface TaskLockContext {
  readonly owner: Task;
}

export enum TaskState {
  Runnable = 0,
  Blocked = 1,
  Done = 2,
}

export interface TaskCounters {
  steps: number;
  waits: number;
  waitTicksTotal: number;
  waitTicksMax: number;
}

class Counters implements TaskCounters {
  steps = 0;
  waits = 0;
  waitTicksTotal = 0;
  waitTicksMax = 0;
}

export class Task {
  state: TaskState = TaskState.Runnable;
  /** Virtual time of this task: steps cost time, a wake-up moves it to the waker's time. */
  time: number;
  /** Resolves the promise the task is parked on; null while it runs or before it parks. */
  resume: (() => void) | null = null;
  readonly held: HeldLock[] = emptyArray();
  lockContext: TaskLockContext | null = null;
  /** pagefault_disable() depth: copy_{to,from}_user return short instead of faulting. */
  pagefaultDisabled = 0;
  /** bcachefs's current->faults_disabled_mapping (an address_space or null). */
  faultsDisabledMapping: object | null = null;
  /** bcachefs's bit 0 of faults_disabled_mapping: "the fault handler dropped our locks". */
  faultsDisabledDroppedLocks = false;
  /** The address space (mm_struct) the task's user addresses live in; set by the model. */
  mm: object | null = null;
  /**
   * What the task does after a system call returns, up to its next scheduling point, records its
   * own footprint (the litmus world's op end, src/litmus/world.ts). A read or write path whose
   * scheme's tail records itself too may then say so for the step its last user copy ends in
   * (AfterCopy, src/mm/memory.ts); without it that step may touch anything.
   */
  syscallReturnRecorded = false;
  /** The last scheduling point or wait site the task reached (for no-progress reports). */
  lastSite = '';
  /**
   * The retry loop the task is in (a filesystem's fault-in-and-retry loop: gfs2, btrfs), empty
   * outside one, and how many times it went round: a no-progress report names the loop.
   */
  retryLoop = '';
  retries = 0;
  blockedOn: Waitable | null = null;
  blockedSite = '';
  blockedAt = 0;
  /** The object the task's next step touches (-1: none declared), for partial-order reduction. */
  accessObj = -1;
  accessWrite = false;
  /** Pages [accessFirst, accessEnd) of inode accessObj, or -1: the whole inode (see pointPages). */
  accessFirst = -1;
  accessEnd = -1;
  /**
   * The footprint of the step running now (recorded only when the strategy asks: Sim.recording):
   * the access its scheduling point declared, then every lock, wait queue and completion it
   * touched (encoded by footprint.ts). A task's first step declares nothing: "anything".
   */
  readonly fp: number[] = emptyArray();
  /** A class instance, not a literal: see alloc.ts. */
  readonly counters: TaskCounters = new Counters();
  /** Bios this task submitted (names their completions for footprints: bdev.ts). */
  bios = 0;

  constructor(
    readonly sim: Sim,
    readonly id: number,
    readonly name: string,
    /** Interrupt-like tasks (bio completions) are not user tasks: they hold no locks of their own. */
    readonly isIrq: boolean,
    time: number,
  ) {
    this.time = time;
    this.fp.push(ANYTHING);
  }

  /**
   * A scheduling point: the kernel could be preempted here. `obj`/`write` declare what the next
   * step touches (a cheap pair of field stores) so the explorer can prune independent choices.
   * Returns undefined when the same task keeps running (no promise is allocated then).
   */
  point(site: string, obj = -1, write = false): Promise<void> | undefined {
    this.accessObj = obj;
    this.accessWrite = write;
    this.accessFirst = -1;
    return this.sim.point(this, site);
  }

  /**
   * A scheduling point whose next step declares nothing: everything it touches records itself
   * (page tables, pins, locks, i_size, extents: src/sim/footprint.ts). Only for steps that touch
   * nothing else before the next point.
   */
  pointRecorded(site: string): Promise<void> | undefined {
    this.accessObj = RECORDED_ONLY;
    this.accessFirst = -1;
    return this.sim.point(this, site);
  }

  /**
   * A scheduling point whose next step touches only pages [first, end) of inode `ino` (their page
   * cache slots and folios: reading them, or with `write` changing them), and reads the inode.
   * Any other access of the step (i_size, extents, page tables, locks) is recorded as it happens
   * (src/sim/footprint.ts). A range of more than MAX_GRANULES pages is declared as the whole inode,
   * written (declareStep).
   */
  pointPages(
    site: string,
    ino: number,
    first: number,
    end: number,
    write: boolean,
  ): Promise<void> | undefined {
    this.accessObj = ino;
    this.accessWrite = write;
    this.accessFirst = first;
    this.accessEnd = end;
    return this.sim.point(this, site);
  }

  /** Records that the running step touches `obj` (an objectId), if footprints are recorded. */
  touch(obj: number, write: boolean): void {
    if (this.sim.recording) this.fp.push(encodeAccess(obj, write));
  }

  /**
   * Records that the running step makes a group access of `obj` (an objectId) in `group`: a mode
   * lock's acquisition or release that commutes with any other in the same mode
   * (src/sim/footprint.ts).
   */
  touchGroup(obj: number, group: number): void {
    if (this.sim.recording) this.fp.push(encodeGroupAccess(obj, group));
  }

  /**
   * Says that what the task does from here on depends on `index` and the model's state alone, not
   * on anything its earlier steps left in locals (a litmus task between two ops: the loop's index
   * is all it carries). The stateful search (src/explore/stateful.ts) restarts the task's position
   * here; nothing else looks at it.
   */
  freshContinuation(index: number): void {
    this.sim.strategy.onFreshContinuation?.(this, index);
  }

  /**
   * Is the trace on? A search runs with it off, so a caller builds an event's detail text only
   * when this says so (`if (t.tracing) t.event(...)`): nothing else reads it. The text's parts must
   * not record footprints that the step does not record anyway (an i_size read just after its write
   * is fine: the write covers it).
   */
  get tracing(): boolean {
    return this.sim.trace !== null;
  }

  /** Records a model event (page cache insert, fault, pin, bio...) in the trace, if it is on. */
  event(site: string, detail?: string, obj = -1): void {
    this.sim.traceEvent(this, 'event', site, obj, detail);
  }

  holds(lock: Waitable): boolean {
    for (const h of this.held) if (h.lock === lock) return true;
    return false;
  }

  toString(): string {
    return `${this.name}[${this.id}]`;
  }
}
