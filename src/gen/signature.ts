/**
 * A finding's signature, for deduplication: the scheme, the kind, and its shape — for a deadlock
 * the lock classes and sites of the wait-for cycle (the task names and lock instances dropped), for
 * anything else the ops of the minimised program with files, pages and ranges dropped (what kind of
 * op, O_DIRECT or not, through which kind of buffer). Two findings with one signature are one bug
 * to a kernel engineer; the campaign keeps the first (lowest program index) as its example.
 */
import type { GenOp, Program } from './space.js';

export function opShape(op: GenOp): string {
  const buf = (m: { shared: boolean } | null) => (m ? (m.shared ? ' buf=shared' : ' buf=private') : '');
  switch (op.kind) {
    case 'pread':
    case 'pwrite':
      return `${op.kind}${op.direct ? '-direct' : ''}${buf(op.buf)}`;
    case 'load':
    case 'store':
      return `${op.kind} ${op.map.shared ? 'shared' : 'private'}`;
    case 'fallocate':
      return `fallocate-${op.mode}${op.keepSize ? '-keep' : ''}`;
    case 'truncate':
      return `truncate-${op.dir}`;
    default:
      return op.kind;
  }
}

/** The shape of the ops: each task's op shapes, tasks sorted. */
export function opsShape(p: Program): string {
  return p.tasks
    .map((ops) => ops.map(opShape).join('; '))
    .sort()
    .join(' || ');
}

/**
 * The shape of a lockdep-style deadlock report (explore/judge.ts formatDeadlock): its "waits for"
 * lines as `[lock class] at site`, sorted.
 */
export function deadlockShape(details: readonly string[]): string {
  const waits = details
    .map((line) => / waits for .*? (\[[^\]]*\]) at ([^,]+)/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]} at ${m[2].trim()}`);
  return [...new Set(waits)].sort().join(' + ');
}

export function signature(
  scheme: string,
  kind: string,
  minimised: Program,
  details: readonly string[],
): string {
  const shape = kind === 'deadlock' ? deadlockShape(details) || opsShape(minimised) : opsShape(minimised);
  return `${scheme} | ${kind} | ${shape}`;
}
