/**
 * `pagelab campaign --native`: a concurrency differential fuzzer of the model against Linux. Each
 * generated program of the campaign's selection runs on the running kernel (src/native) and is
 * compared with the outcome set the host's scheme allows, exactly as `pagelab native --compare`
 * does (native/run.ts runAndCompare). One record per program, in program order, then a summary.
 * Deterministic apart from what the kernel does: each program's start delays are seeded by the
 * campaign seed and its index, so a slice or a shard runs a program with the same delays.
 */
import { conflictPairs } from '../gen/conflict.js';
import { litmusText, programKey } from '../gen/space.js';
import { parseLitmus } from '../litmus/parse.js';
import type { ModelSet } from '../native/compare.js';
import { NativeUnsupported } from '../native/program.js';
import { type NativeComparison, runAndCompare } from '../native/run.js';
import type { Scheme } from '../schemes/scheme.js';
import { mixSeed } from '../sim/rng.js';
import { type ProgramSource, programName, type Shard, type Slice, shardPrograms } from './driver.js';

export interface NativeCampaignOptions {
  source: ProgramSource;
  shard: Shard;
  slice?: Slice;
  /** The scheme that models the host (or the one --scheme names). */
  scheme: Scheme;
  iterations: number;
  dir?: string;
  seed: number;
  onRecord: (r: NativeRecord) => void;
}

/** One observed outcome of a program. */
export interface NativeOutcomeRecord {
  count: number;
  /** Finding kinds under the oracles → iterations. */
  kinds: Record<string, number>;
  outcome: string[];
  allowed: boolean;
}

/** What backs the model's set: a complete bounded DFS, or sampled. */
export interface ModelCertificate {
  complete: boolean;
  coverage: string;
  runs: number;
  outcomes: number;
}

/** One line of `campaign --native --json`: one program, run natively and compared. */
export interface NativeRecord {
  type: 'native';
  index: number;
  /** The program in one line (gen/space.ts programKey). */
  program: string;
  /** The program as a litmus scenario: save it as `<name>.litmus` to run it with `pagelab native`. */
  litmus: string;
  conflicts: string[];
  scheme: string;
  /** Why the host or the scheme cannot express it; null when it ran. */
  skipped: string | null;
  seed: number;
  iterations: number;
  elapsed_ms: number;
  /** The iteration the watchdog caught, or null. */
  hung: number | null;
  outcomes: NativeOutcomeRecord[];
  /** Observed outcomes the model does not allow: fidelity bugs, to fix or explain. */
  not_allowed: string[][];
  /** Model outcomes never observed (reported, not an error). */
  unobserved: number;
  model: ModelCertificate | null;
}

function certificate(m: ModelSet): ModelCertificate {
  return { complete: m.complete, coverage: m.coverage, runs: m.runs, outcomes: m.outcomes.size };
}

function ranRecord(base: NativeRecord, c: NativeComparison): NativeRecord {
  const bad = new Set(c.comparison.notAllowed);
  return {
    ...base,
    iterations: c.result.iterations,
    elapsed_ms: Math.round(c.result.elapsedMs),
    hung: c.result.hung,
    outcomes: c.result.rows.map((row) => ({
      count: row.count,
      kinds: Object.fromEntries(row.kinds),
      outcome: row.outcome.lines,
      allowed: !bad.has(row.outcome.key),
    })),
    not_allowed: c.result.rows.filter((r) => bad.has(r.outcome.key)).map((r) => r.outcome.lines),
    unobserved: c.comparison.unobserved.length,
    model: certificate(c.model),
  };
}

/** The reason without the scenario's name in front (so that skips group by reason). */
function reasonOf(e: NativeUnsupported, name: string): string {
  return e.message.startsWith(`${name}: `) ? e.message.slice(name.length + 2) : e.message;
}

/** Whether a record fails the campaign: an outcome the model does not allow, or a hang. */
export function nativeFailed(r: NativeRecord): boolean {
  return r.not_allowed.length > 0 || r.hung !== null;
}

/** Runs the selection natively, one program after the other (the kernel run is the cost). */
export async function runNativeCampaign(o: NativeCampaignOptions): Promise<void> {
  for (const { index, program } of shardPrograms(o.source, o.shard, o.slice)) {
    const name = programName(o.source, index);
    const litmus = litmusText(program, name);
    const seed = mixSeed(o.seed, index) >>> 0;
    const base: NativeRecord = {
      type: 'native',
      index,
      program: programKey(program),
      litmus,
      conflicts: conflictPairs(program),
      scheme: o.scheme.name,
      skipped: null,
      seed,
      iterations: 0,
      elapsed_ms: 0,
      hung: null,
      outcomes: [],
      not_allowed: [],
      unobserved: 0,
      model: null,
    };
    const sc = parseLitmus(litmus, `${name}.litmus`);
    try {
      const c = await runAndCompare(sc, o.scheme, { iterations: o.iterations, dir: o.dir, seed });
      o.onRecord(ranRecord(base, c));
    } catch (e) {
      if (!(e instanceof NativeUnsupported)) throw e;
      o.onRecord({ ...base, skipped: reasonOf(e, name) });
    }
  }
}

/** The last line of `campaign --native --json`, a function of the records alone. */
export interface NativeSummary {
  type: 'native-summary';
  space: string;
  /** The host's filesystem and the scheme compared. */
  fs: string;
  scheme: string;
  programs: number;
  ran: number;
  /** Reason → programs skipped for it, most frequent first. */
  skipped: Record<string, number>;
  iterations: number;
  elapsed_ms: number;
  /** Programs with an observed outcome the model does not allow (or a hang): their indices. */
  not_allowed: number[];
  hung: number[];
  /** Programs whose model set is a complete bounded DFS. */
  model_complete: number;
}

export function summarizeNative(
  space: string,
  fs: string,
  scheme: string,
  rs: readonly NativeRecord[],
): NativeSummary {
  const skipped = new Map<string, number>();
  for (const r of rs) if (r.skipped !== null) skipped.set(r.skipped, (skipped.get(r.skipped) ?? 0) + 1);
  const ran = rs.filter((r) => r.skipped === null);
  return {
    type: 'native-summary',
    space,
    fs,
    scheme,
    programs: rs.length,
    ran: ran.length,
    skipped: Object.fromEntries([...skipped].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))),
    iterations: ran.reduce((n, r) => n + r.iterations, 0),
    elapsed_ms: ran.reduce((n, r) => n + r.elapsed_ms, 0),
    not_allowed: ran.filter((r) => r.not_allowed.length > 0).map((r) => r.index),
    hung: ran.filter((r) => r.hung !== null).map((r) => r.index),
    model_complete: ran.filter((r) => r.model?.complete).length,
  };
}

/** A failing record in text: the program, then each outcome the model does not allow, with its count. */
export function formatNotAllowed(r: NativeRecord): string[] {
  if (!nativeFailed(r)) return [];
  const lines = [
    `program ${r.index} (${r.program}) under ${r.scheme}: observed but NOT allowed by the model:`,
  ];
  for (const o of r.outcomes.filter((x) => !x.allowed)) {
    lines.push(`  ${String(o.count).padStart(6)}  ${Object.keys(o.kinds).join(' ')}`);
    for (const l of o.outcome) lines.push(`          ${l}`);
  }
  return lines;
}

export function formatNativeSummary(s: NativeSummary): string[] {
  const secs = s.elapsed_ms / 1000;
  const lines = [
    `campaign --native: ${s.space}, host ${s.fs}, compared with scheme ${s.scheme}`,
    `  programs ${s.programs}: ran ${s.ran}, skipped ${s.programs - s.ran}`,
    `  iterations ${s.iterations} in ${secs.toFixed(1)} s on the kernel (kernel time)` +
      (secs > 0 ? ` (${(s.ran / secs).toFixed(1)} programs/s)` : ''),
    `  model sets from a complete bounded DFS: ${s.model_complete}/${s.ran} (the rest sampled)`,
  ];
  for (const [why, n] of Object.entries(s.skipped)) lines.push(`  skipped ${String(n).padStart(5)}  ${why}`);
  lines.push(
    `  programs with an outcome the model does NOT allow: ${s.not_allowed.length}` +
      (s.not_allowed.length ? ` (${s.not_allowed.join(', ')})` : ''),
  );
  if (s.hung.length) lines.push(`  programs with a hung iteration: ${s.hung.length} (${s.hung.join(', ')})`);
  return lines;
}
