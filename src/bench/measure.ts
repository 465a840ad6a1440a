/**
 * Throughput measurement on top of tinybench. A measured function does a batch of `units` units
 * of work per call (a batch of schedules, one whole Sim run of many points), so tinybench's
 * per-call overhead (a timer read and an await) is negligible against the work measured.
 */
import { Bench } from 'tinybench';
import type { BenchContext } from './registry.js';

export interface Rate {
  /** Units per second, from the mean call time (GC pauses included). */
  readonly perSec: number;
  /** Relative margin of error of the mean call time, percent. */
  readonly rme: number;
  /** Measured calls (warm-up excluded). */
  readonly calls: number;
}

export interface RateOptions {
  /** Work units done by one call. */
  readonly units: number;
  /** Measuring time budget in ms (scaled by ctx.timeScale). */
  readonly timeMs: number;
  /** Warm-up time budget in ms (scaled by ctx.timeScale); lets the JIT settle. */
  readonly warmupMs?: number;
}

export async function measureRate(
  ctx: BenchContext,
  name: string,
  fn: () => Promise<void> | void,
  opts: RateOptions,
): Promise<Rate> {
  const bench = new Bench({
    name,
    time: opts.timeMs * ctx.timeScale,
    warmupTime: (opts.warmupMs ?? 500) * ctx.timeScale,
    iterations: 5,
    warmupIterations: 2,
    throws: true,
  });
  bench.add(name, fn);
  const [task] = await bench.run();
  const r = task.result;
  if (r.state !== 'completed') throw new Error(`benchmark '${name}' ended ${r.state}`);
  const rate: Rate = { perSec: (opts.units * 1000) / r.period, rme: r.latency.rme, calls: task.runs };
  ctx.log(`  ${name}: ${fmt(rate.perSec)}/s ±${rate.rme.toFixed(1)}% (${rate.calls} calls of ${opts.units})`);
  return rate;
}

/** 1234567 → "1,234,567"; small values keep two decimals. */
export function fmt(n: number): string {
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return n.toFixed(2);
}
