/**
 * The campaign's records and its summary. The summary is a function of the records alone (and of
 * the space they come from), in a fixed order — schemes in registry order, kinds in FINDING_KINDS
 * order — so shards merged (`pagelab campaign merge`) give byte for byte the summary one run gives.
 */

import { possibleConflictPairs } from '../gen/conflict.js';
import { FINDING_KINDS, type FindingKind } from '../litmus/ast.js';
import { SCHEMES } from '../schemes/index.js';
import type { CellOutcome } from './cell.js';

/** One line of the campaign's JSON Lines: one program under one scheme. */
export interface CampaignRecord extends CellOutcome {
  type: 'record';
  index: number;
  /** The program in one line (gen/space.ts programKey). */
  program: string;
  scheme: string;
  /** The program as a litmus scenario: save it as `<name>.litmus` to replay. */
  litmus: string;
  /** Its conflicting op pairs (gen/conflict.ts), for the coverage figure. */
  conflicts: string[];
}

export interface SchemeSummary {
  scheme: string;
  programs: number;
  ok: number;
  na: number;
  /** Cells with nothing forbidden found whose data the oracles could not judge in full (never ok). */
  inconclusive: number;
  findings: Record<FindingKind, number>;
  /** Cells backed by a complete DFS certificate. */
  complete: number;
  /** Cells where the DFS found the finding. */
  dfsFound: number;
  /** Cells where the DFS budget ran out and PCT sampled. */
  pct: number;
}

/** One distinct finding: the cells that share a signature, and the first (lowest index) as example. */
export interface DistinctFinding {
  signature: string;
  scheme: string;
  kind: FindingKind;
  /** Cells with this signature. */
  cells: number;
  /** The lowest program index among them. */
  first: number;
  /** The minimised example's program and replay string. */
  program: string;
  replay: string;
}

export interface CampaignSummary {
  type: 'summary';
  /** What was enumerated: "exhaustive 2x1" or "random 3x2 seed 1". */
  space: string;
  /** Programs in the whole space (a random campaign: programs drawn). */
  space_size: number;
  /** Distinct programs checked. */
  programs: number;
  schemes: SchemeSummary[];
  /** Findings deduplicated by signature (gen/signature.ts), by scheme, kind and signature. */
  distinct: DistinctFinding[];
  coverage: Coverage;
}

/**
 * Conflicting op pairs (gen/conflict.ts): those the vocabulary can form, those some checked program
 * holds, and those seen in both orders — held by a program whose cell under some scheme has a
 * complete DFS certificate, which ran both orders of every dependent pair of steps within the bound.
 */
export interface Coverage {
  possible: number;
  seen: number;
  both_orders: number;
}

function coverage(records: readonly CampaignRecord[]): Coverage {
  const seen = new Set<string>();
  const both = new Set<string>();
  for (const r of records) {
    for (const c of r.conflicts) {
      seen.add(c);
      if (r.certificate.method === 'dfs' && r.certificate.complete) both.add(c);
    }
  }
  return { possible: possibleConflictPairs(), seen: seen.size, both_orders: both.size };
}

function emptyKinds(): Record<FindingKind, number> {
  return Object.fromEntries(FINDING_KINDS.map((k) => [k, 0])) as Record<FindingKind, number>;
}

function schemeRank(name: string): number {
  const i = SCHEMES.findIndex((s) => s.name === name);
  return i < 0 ? SCHEMES.length : i;
}

function byKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The records that carry a finding, one per signature: the one of the lowest program index. */
export function firstBySignature(
  records: Iterable<CampaignRecord>,
): Map<string, { record: CampaignRecord; cells: number }> {
  const out = new Map<string, { record: CampaignRecord; cells: number }>();
  for (const r of records) {
    if (!r.signature || !r.minimised) continue;
    const seen = out.get(r.signature);
    if (!seen) out.set(r.signature, { record: r, cells: 1 });
    else {
      seen.cells++;
      if (r.index < seen.record.index) seen.record = r;
    }
  }
  return out;
}

function distinctFindings(records: readonly CampaignRecord[]): DistinctFinding[] {
  return [...firstBySignature(records).entries()]
    .map(([signature, { record, cells }]) => ({
      signature,
      scheme: record.scheme,
      kind: record.verdict as FindingKind,
      cells,
      first: record.index,
      program: record.minimised?.program ?? '',
      replay: record.minimised?.replay ?? '',
    }))
    .sort(
      (a, b) =>
        schemeRank(a.scheme) - schemeRank(b.scheme) ||
        FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind) ||
        byKey(a.signature, b.signature),
    );
}

export function summarize(
  space: string,
  spaceSize: number,
  records: Iterable<CampaignRecord>,
): CampaignSummary {
  const all = [...records];
  const byScheme = new Map<string, SchemeSummary>();
  const programs = new Set<number>();
  for (const r of all) {
    programs.add(r.index);
    let s = byScheme.get(r.scheme);
    if (!s) {
      s = {
        scheme: r.scheme,
        programs: 0,
        ok: 0,
        na: 0,
        inconclusive: 0,
        findings: emptyKinds(),
        complete: 0,
        dfsFound: 0,
        pct: 0,
      };
      byScheme.set(r.scheme, s);
    }
    s.programs++;
    if (r.verdict === 'ok') s.ok++;
    else if (r.verdict === 'n/a') s.na++;
    else if (r.verdict === 'inconclusive') s.inconclusive++;
    else s.findings[r.verdict]++;
    if (r.certificate.method === 'pct') s.pct++;
    else if (r.certificate.complete) s.complete++;
    else if (r.certificate.method === 'dfs') s.dfsFound++;
  }
  const schemes = [...byScheme.values()].sort(
    (a, b) => schemeRank(a.scheme) - schemeRank(b.scheme) || byKey(a.scheme, b.scheme),
  );
  return {
    type: 'summary',
    space,
    space_size: spaceSize,
    programs: programs.size,
    schemes,
    distinct: distinctFindings(all),
    coverage: coverage(all),
  };
}

/**
 * A minimised finding's replay string with its scenario part under `dir` (`--litmus-dir`), where
 * the .litmus is written: the command runs as printed from where the campaign ran.
 */
export function replayIn(dir: string, replay: string): string {
  return `${dir.replace(/\/+$/, '')}/${replay}`;
}

/** The summary as a table, one row per scheme; replay lines name the files under `litmusDir`. */
export function formatSummary(s: CampaignSummary, litmusDir?: string): string[] {
  const replay = (r: string) =>
    litmusDir
      ? `npx pagelab replay '${replayIn(litmusDir, r)}'`
      : `npx pagelab replay '${r}' (write the .litmus with --litmus-dir DIR)`;
  const kinds = FINDING_KINDS;
  // The inconclusive column only where some cell is: the table of a campaign without one is unchanged.
  const inc = s.schemes.some((r) => (r.inconclusive ?? 0) > 0);
  const head = ['scheme', 'programs', 'ok', 'n/a', ...(inc ? ['inconclusive'] : []), ...kinds];
  head.push('dfs-complete', 'dfs-found', 'pct');
  const rows = s.schemes.map((r) => [
    r.scheme,
    String(r.programs),
    String(r.ok),
    String(r.na),
    ...(inc ? [String(r.inconclusive ?? 0)] : []),
    ...kinds.map((k) => String(r.findings[k])),
    String(r.complete),
    String(r.dfsFound),
    String(r.pct),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    `campaign: ${s.space}, space_size ${s.space_size}, ${s.programs} programs checked`,
    `coverage: ${s.coverage.both_orders} of ${s.coverage.possible} conflicting op pairs seen in both orders (${s.coverage.seen} seen)`,
    line(head),
    ...rows.map(line),
    ...(s.distinct.length ? ['', `${s.distinct.length} distinct findings (deduplicated by signature):`] : []),
    ...s.distinct.map(
      (d) =>
        `  ${d.scheme} ${d.kind} x${d.cells}: ${d.program}\n    signature: ${d.signature}\n    ${replay(d.replay)}`,
    ),
  ];
}
