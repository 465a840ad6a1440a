/**
 * The benchmark registry. A benchmark module calls `register(...)` at import time; `main.ts`
 * imports every module, runs the registered benchmarks in registration order and prints their
 * figures as one table and (with --json) one JSON object keyed by figure name.
 *
 * Figure names are `<group>.<name>` (`sched.points_per_sec`, later `explore.*`). A benchmark
 * returns all its figures at once, so a ratio is always computed from two rates measured in the
 * same process, one right after the other.
 */

export interface Figure {
  /** JSON key, `<group>.<name>`; unique across all benchmarks. */
  readonly key: string;
  readonly value: number;
  /** `points/s`, `schedules/s`, `x` (a ratio)... */
  readonly unit: string;
  /** One-line description for the table. */
  readonly label: string;
  /** Relative margin of error of the mean, in percent (95% confidence), if measured. */
  readonly rme?: number;
  /** The figure must be at least this (shown as a pass/miss column; never fails the run). */
  readonly target?: number;
  /** The target is a ceiling instead: the figure must be at most it (seconds, say). */
  readonly lowerIsBetter?: boolean;
}

export interface BenchContext {
  /** Multiply every time budget by this (`--quick` uses a small factor to smoke-test the bench). */
  readonly timeScale: number;
  /** Progress messages go to stderr so that stdout stays table + JSON. */
  log(message: string): void;
}

export interface Benchmark {
  /** Group name: the prefix of its figure keys. */
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): Promise<Figure[]>;
}

const benchmarks: Benchmark[] = [];

export function register(
  name: string,
  description: string,
  run: (ctx: BenchContext) => Promise<Figure[]>,
): void {
  if (benchmarks.some((b) => b.name === name)) throw new Error(`benchmark '${name}' registered twice`);
  benchmarks.push({ name, description, run });
}

export function registered(): readonly Benchmark[] {
  return benchmarks;
}
