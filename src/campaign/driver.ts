/**
 * The campaign driver: programs from the exhaustive enumerator (gen/enumerate.ts) or the seeded
 * random generator (gen/random.ts), the shard's share of them, each under every chosen scheme as a
 * cell (cell.ts) on a pool of piscina worker threads. Records come back in program-major, scheme
 * registry order whatever the number of threads, so the output does not depend on --jobs.
 */
import { Piscina } from 'piscina';
import { WORKER_LIMITS } from '../explore/pool.js';
import { conflictPairs } from '../gen/conflict.js';
import { DEFAULT_BOUNDS, type Enumerated, enumerate, type SpaceBounds, spaceSize } from '../gen/enumerate.js';
import { randomPrograms } from '../gen/random.js';
import { litmusText, programKey } from '../gen/space.js';
import type { CampaignCellTask, CellBudget, CellOutcome } from './cell.js';
import { runCampaignCell } from './cell.js';
import type { CampaignRecord } from './summary.js';

/** dist/campaign/worker.js, from src/campaign (tests, after `npm run build`) or dist/campaign. */
const WORKER = new URL('../../dist/campaign/worker.js', import.meta.url).href;

export interface Slice {
  from: number;
  to: number;
}

export interface Shard {
  index: number;
  count: number;
}

export type ProgramSource =
  | { kind: 'exhaustive'; bounds: SpaceBounds }
  | { kind: 'random'; bounds: SpaceBounds; count: number; seed: number };

export const DEFAULT_SOURCE: ProgramSource = { kind: 'exhaustive', bounds: DEFAULT_BOUNDS };

export interface CampaignOptions {
  source: ProgramSource;
  schemes: readonly string[];
  shard: Shard;
  /** Check only programs with from <= index < to (a slice of the space, which shards partition). */
  slice?: Slice;
  budget: CellBudget;
  jobs: number;
  onRecord: (r: CampaignRecord) => void;
  /** Told after every cell: cells done so far. */
  onCell?: (done: number, r: CampaignRecord) => void;
}

/** The space's one-line name, as the summary shows it. */
export function spaceName(src: ProgramSource): string {
  const b = `${src.bounds.tasks}x${src.bounds.ops}`;
  return src.kind === 'exhaustive' ? `exhaustive ${b}` : `random ${b} seed ${src.seed}`;
}

/** Programs in the whole space (random: the programs drawn). */
export function sourceSize(src: ProgramSource): number {
  return src.kind === 'exhaustive' ? spaceSize(src.bounds) : src.count;
}

export function programs(src: ProgramSource): Generator<Enumerated> {
  return src.kind === 'exhaustive' ? enumerate(src.bounds) : randomPrograms(src.bounds, src.count, src.seed);
}

export function programName(src: ProgramSource, index: number): string {
  return src.kind === 'exhaustive' ? `campaign-${index}` : `random-${src.seed}-${index}`;
}

/** The shard's programs: in the slice, and index ≡ shard.index (mod shard.count). */
export function* shardPrograms(src: ProgramSource, shard: Shard, slice?: Slice): Generator<Enumerated> {
  for (const e of programs(src)) {
    if (slice && e.index >= slice.to) return;
    if (slice && e.index < slice.from) continue;
    if (e.index % shard.count === shard.index) yield e;
  }
}

interface Pending {
  task: CampaignCellTask;
  program: string;
  litmus: string;
  conflicts: string[];
}

function* cellsOf(opts: CampaignOptions, progs: Iterable<Enumerated>): Generator<Pending> {
  for (const { index, program } of progs) {
    const name = programName(opts.source, index);
    const text = litmusText(program, name);
    const key = programKey(program);
    const conflicts = conflictPairs(program);
    for (const scheme of opts.schemes) {
      yield {
        task: { index, name, program, scheme, budget: opts.budget },
        program: key,
        litmus: text,
        conflicts,
      };
    }
  }
}

function toRecord(p: Pending, o: CellOutcome): CampaignRecord {
  return {
    type: 'record',
    index: p.task.index,
    program: p.program,
    scheme: p.task.scheme,
    litmus: p.litmus,
    conflicts: p.conflicts,
    ...o,
  };
}

/**
 * Runs cells with at most `window` in flight and hands out records in cell order (a finished cell
 * waits for those before it).
 */
async function runOrdered(
  cells: Iterator<Pending>,
  run: (t: CampaignCellTask) => Promise<CellOutcome>,
  window: number,
  emit: (r: CampaignRecord) => void,
): Promise<void> {
  const done = new Map<number, CampaignRecord>();
  let issued = 0;
  let next = 0;
  let exhausted = false;
  const lane = async (): Promise<void> => {
    for (;;) {
      if (exhausted) return;
      const it = cells.next();
      if (it.done) {
        exhausted = true;
        return;
      }
      const seq = issued++;
      done.set(seq, toRecord(it.value, await run(it.value.task)));
      while (done.has(next)) {
        emit(done.get(next) as CampaignRecord);
        done.delete(next++);
      }
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
}

/** Runs the campaign's cells; records go to `opts.onRecord` in order. */
export async function runCampaign(opts: CampaignOptions, progs?: Iterable<Enumerated>): Promise<void> {
  const cells = cellsOf(opts, progs ?? shardPrograms(opts.source, opts.shard, opts.slice))[Symbol.iterator]();
  let count = 0;
  const emit = (r: CampaignRecord): void => {
    opts.onRecord(r);
    opts.onCell?.(++count, r);
  };
  if (opts.jobs <= 1) {
    await runOrdered(cells, runCampaignCell, 1, emit);
    return;
  }
  const pool = new Piscina<CampaignCellTask, CellOutcome>({
    filename: WORKER,
    minThreads: opts.jobs,
    maxThreads: opts.jobs,
    resourceLimits: WORKER_LIMITS,
  });
  try {
    await runOrdered(cells, (t) => pool.run(t), opts.jobs * 2, emit);
  } finally {
    await pool.destroy();
  }
}
