/**
 * The scalability measure (DESIGN.md race 8): N tasks each O_DIRECT-write their own page of one
 * file, run once under the timed strategy (each task as if on its own CPU, bios completing after
 * their latency while others run). speedup(N) = N × T(1) / T(N), where T is the virtual time at
 * which the last writer finishes: N for writers that never wait on each other, 1 for a lock that
 * single-threads them (i_rwsem held exclusive across the I/O).
 */
import { parseLitmus } from '../litmus/parse.js';
import type { Scheme } from '../schemes/scheme.js';
import { TimedStrategy } from '../sim/strategy.js';
import { runOnce } from './run.js';

export interface ScalabilityRow {
  scheme: string;
  writers: number;
  /** Virtual time when the last writer finished. */
  time: number;
  speedup: number;
}

export function disjointWritersScenario(writers: number) {
  const lines = ['litmus dio-writers-disjoint-n', 'page 64', `file f ${writers}p written`];
  for (let i = 0; i < writers; i++) lines.push(`P${i}: pwrite f ${i * 64} 64 direct`);
  return parseLitmus(lines.join('\n'), `<dio-writers-disjoint ×${writers}>`);
}

async function completionTime(scheme: Scheme, writers: number): Promise<number> {
  const run = await runOnce(disjointWritersScenario(writers), scheme, new TimedStrategy());
  if (run.result.outcome.kind !== 'done')
    throw new Error(`${scheme.name}: ${writers} writers ended ${run.result.outcome.kind}`);
  return run.result.time;
}

export async function measureScalability(
  scheme: Scheme,
  counts: readonly number[] = [1, 2, 4, 8],
): Promise<ScalabilityRow[]> {
  const t1 = await completionTime(scheme, 1);
  const rows: ScalabilityRow[] = [];
  for (const n of counts) {
    const time = n === 1 ? t1 : await completionTime(scheme, n);
    rows.push({ scheme: scheme.name, writers: n, time, speedup: Math.round(((n * t1) / time) * 100) / 100 });
  }
  return rows;
}
