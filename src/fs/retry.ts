/**
 * Helpers for the filesystems' fault-in-and-retry loops (gfs2, btrfs): pagefault_disable() around
 * a pass, and the marker that lets a no-progress report name the loop a task is spinning in.
 */
import type { Task } from '../sim/task.js';

/** pagefault_disable() ... pagefault_enable() around `fn`: user copies return short, not fault. */
export async function withPagefaultDisabled(t: Task, fn: () => Promise<number>): Promise<number> {
  t.pagefaultDisabled++;
  try {
    return await fn();
  } finally {
    t.pagefaultDisabled--;
  }
}

/** Runs `body` marked as the task's `fn` retry loop (Task.retryLoop; `t.retries` counts rounds). */
export async function inRetryLoop<T>(t: Task, fn: string, body: () => Promise<T>): Promise<T> {
  t.retryLoop = fn;
  t.retries = 0;
  try {
    return await body();
  } finally {
    t.retryLoop = '';
    t.retries = 0;
  }
}
