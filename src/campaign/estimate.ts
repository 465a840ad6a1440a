/**
 * `pagelab campaign --estimate`: samples programs of the shard (uniformly, seeded), runs them as the
 * campaign would, and predicts the campaign's programs, runs and minutes — GenMC's estimation mode
 * (Kokologiannakis et al., "GenMC: a model checker for weak memory models", CAV 2021), so nobody
 * starts a week-long run by accident. Minutes are wall-clock at the same --jobs on this machine.
 */

import type { Enumerated } from '../gen/enumerate.js';
import { Rng } from '../sim/rng.js';
import type { CellBudget, Certificate } from './cell.js';
import {
  type ProgramSource,
  runCampaign,
  type Shard,
  type Slice,
  shardPrograms,
  sourceSize,
  spaceName,
} from './driver.js';
import type { CampaignRecord } from './summary.js';

export interface EstimateOptions {
  source: ProgramSource;
  schemes: readonly string[];
  shard: Shard;
  slice?: Slice;
  budget: CellBudget;
  jobs: number;
  sample: number;
  /** Told after every sampled cell (progress). */
  onCell?: (done: number) => void;
}

export interface Estimate {
  type: 'estimate';
  space: string;
  space_size: number;
  /** Programs of the shard. */
  programs: number;
  schemes: number;
  cells: number;
  sampled_programs: number;
  /** Predicted runs (DFS complete + pruned, PCT schedules, both where a cell ran both) over the shard. */
  runs: number;
  minutes: number;
  jobs: number;
  /** Sampled cells whose DFS certificate completed within the budget. */
  complete_fraction: number;
  /**
   * CPU seconds the shard would take: the sample's process CPU (every thread), scaled. Less
   * sensitive to other load than `minutes`, which is wall-clock.
   */
  cpu_seconds: number;
  /** Two-core shards (`--shard i/N`, `--jobs 2` each) that would check it in 10 minutes. */
  shards_10min: number;
}

/** CPU seconds one two-core machine gives in ten minutes. */
const TEN_MINUTES_TWO_CORES = 2 * 600;

/** Picks `k` positions of [0, n) with a seeded partial Fisher–Yates, in increasing order. */
export function samplePositions(n: number, k: number, seed: number): number[] {
  const rng = new Rng(seed);
  const picked = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < Math.min(k, n); i++) {
    const j = i + rng.below(n - i);
    out.push(picked.get(j) ?? j);
    picked.set(j, picked.get(i) ?? i);
  }
  return out.sort((a, b) => a - b);
}

/** Programs with index in [from, to) and ≡ shard.index (mod shard.count). */
export function shardCount(size: number, shard: Shard, slice?: Slice): number {
  const below = (n: number) => Math.floor(n / shard.count) + (shard.index < n % shard.count ? 1 : 0);
  const to = Math.min(size, slice?.to ?? size);
  const from = Math.min(to, slice?.from ?? 0);
  return below(to) - below(from);
}

function sampled(o: EstimateOptions, programs: number): Enumerated[] {
  const want = new Set(samplePositions(programs, o.sample, o.budget.seed));
  const out: Enumerated[] = [];
  let pos = 0;
  for (const e of shardPrograms(o.source, o.shard, o.slice)) if (want.has(pos++)) out.push(e);
  return out;
}

/** A cell's runs: its certificate's, the PCT schedules a DFS went on after, the DFS runs PCT came after. */
export function cellRuns(c: Certificate): number {
  return c.schedules + c.pruned + (c.sampled ?? 0) + (c.dfsRuns ?? 0);
}

export async function estimateCampaign(o: EstimateOptions): Promise<Estimate> {
  const programs = shardCount(sourceSize(o.source), o.shard, o.slice);
  const picks = sampled(o, programs);
  const records: CampaignRecord[] = [];
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  await runCampaign({ ...o, onRecord: (r) => records.push(r), onCell: (done) => o.onCell?.(done) }, picks);
  const secs = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSecs = (cpu.user + cpu.system) / 1e6;
  const cpuTotal = Math.round((cpuSecs / Math.max(1, records.length)) * programs * o.schemes.length);
  const cells = programs * o.schemes.length;
  const n = Math.max(1, records.length);
  const runs = records.reduce((s, r) => s + cellRuns(r.certificate), 0);
  return {
    type: 'estimate',
    space: spaceName(o.source),
    space_size: sourceSize(o.source),
    programs,
    schemes: o.schemes.length,
    cells,
    sampled_programs: picks.length,
    runs: Math.round((runs / n) * cells),
    minutes: Math.round((((secs / n) * cells) / 60) * 10) / 10,
    jobs: o.jobs,
    complete_fraction: Math.round((records.filter((r) => r.certificate.complete).length / n) * 1000) / 1000,
    cpu_seconds: cpuTotal,
    shards_10min: Math.max(1, Math.ceil(cpuTotal / TEN_MINUTES_TWO_CORES)),
  };
}

export function formatEstimate(e: Estimate): string[] {
  return [
    `campaign estimate: ${e.space}, space_size ${e.space_size}`,
    `  ${e.programs} programs x ${e.schemes} schemes = ${e.cells} cells (from ${e.sampled_programs} sampled programs)`,
    `  ~${e.runs} runs, ~${e.minutes} minutes at --jobs ${e.jobs} on this machine`,
    `  ${(e.complete_fraction * 100).toFixed(1)}% of sampled cells have a complete DFS certificate`,
    `  ~${(e.cpu_seconds / 3600).toFixed(1)} CPU-hours: ${e.shards_10min} two-core shards (--shard i/${e.shards_10min}) for 10 minutes`,
  ];
}
