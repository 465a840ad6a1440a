/**
 * A wait queue (wait_queue_head_t): tasks sleep on it and are woken in FIFO order. Primitives in
 * src/sync build their own hand-off rules on top; the queue itself only parks and wakes.
 */
import type { Task, Waitable } from './task.js';

export class WaitQueue {
  private readonly waiters: Task[] = [];

  get length(): number {
    return this.waiters.length;
  }

  get first(): Task | undefined {
    return this.waiters[0];
  }

  tasks(): readonly Task[] {
    return this.waiters;
  }

  /** Sleeps until woken. Context: `on` names what the task waits for in deadlock reports. */
  wait(t: Task, on: Waitable, site: string): Promise<void> {
    this.waiters.push(t);
    return t.sim.block(t, on, site);
  }

  /** Wakes the first waiter (wake_up with an exclusive waiter). */
  wakeOne(): Task | undefined {
    const t = this.waiters.shift();
    if (t) t.sim.wake(t);
    return t;
  }

  /** Wakes every waiter (wake_up_all). */
  wakeAll(): void {
    const ws = this.waiters.splice(0);
    for (const t of ws) t.sim.wake(t);
  }

  /** Wakes a particular waiter (the primitive decided the hand-off). */
  wakeTask(t: Task): void {
    const i = this.waiters.indexOf(t);
    if (i < 0) return;
    this.waiters.splice(i, 1);
    t.sim.wake(t);
  }
}
