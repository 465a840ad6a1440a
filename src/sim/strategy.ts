/**
 * Scheduling strategies. A strategy only chooses among runnable tasks; it never sees model state,
 * so the model cannot tell it is being searched. Later strategies (PCT, bounded DFS with POR) live
 * in src/explore and implement the same interface.
 */
import { Rng } from './rng.js';
import type { Sim, Strategy } from './sched.js';
import type { Task } from './task.js';

/** Uniformly random choice at every decision (a random walk; hard to beat on shallow bugs). */
export class RandomStrategy implements Strategy {
  readonly name = 'random';
  private readonly rng: Rng;

  constructor(readonly seed: number) {
    this.rng = new Rng(seed);
  }

  pick(runnable: readonly Task[]): Task {
    return runnable[this.rng.below(runnable.length)];
  }
}

/**
 * Replays a recorded schedule: at decision k it runs task `ids[k]`. Past the end of the schedule,
 * or where the recorded task is not runnable (a shortened schedule), it keeps the current task
 * running if it can and otherwise runs the lowest-id runnable task: the non-preemptive default.
 */
export class ReplayStrategy implements Strategy {
  readonly name = 'replay';
  private k = 0;
  /** Decisions where the recorded task could not run (0 for an exact replay). */
  divergences = 0;

  constructor(readonly ids: readonly number[]) {}

  pick(runnable: readonly Task[], current: Task): Task {
    if (this.k < this.ids.length) {
      const want = this.ids[this.k++];
      for (const t of runnable) if (t.id === want) return t;
      this.divergences++;
    }
    return defaultPick(runnable, current);
  }
}

/** The non-preemptive choice: keep the current task if it can run, else the lowest id. */
export function defaultPick(runnable: readonly Task[], current: Task): Task {
  return runnable.includes(current) ? current : runnable[0];
}

/**
 * Discrete-event simulation: the task with the earliest virtual clock goes next (ties: lowest id).
 * Each task behaves as if it had its own CPU; a task waiting on I/O or a lock is not runnable until
 * the completion or release, whose time it inherits. Used to measure throughput and wait times.
 */
export class TimedStrategy implements Strategy {
  readonly name = 'timed';

  pick(runnable: readonly Task[]): Task {
    let best = runnable[0];
    for (let i = 1; i < runnable.length; i++) if (runnable[i].time < best.time) best = runnable[i];
    return best;
  }
}

export type { Sim, Strategy };
