/**
 * What an oracle reports: the kinds of finding (definitions: docs/litmus.md, "Finding kinds") and
 * the finding itself. Defined here, below the litmus language that names the kinds in `forbid` and
 * `expect` (src/litmus/ast.ts re-exports them), so the oracles depend on nothing above them.
 */

/** What an oracle can report. Definitions: docs/litmus.md, "Finding kinds". */
export type FindingKind =
  | 'stale-read'
  | 'lost-write'
  | 'incoherent'
  | 'durability'
  | 'deadlock'
  | 'no-progress'
  | 'invariant';

/** Every finding kind, in the canonical order (also the default `forbid` list). */
export const FINDING_KINDS: readonly FindingKind[] = [
  'stale-read',
  'lost-write',
  'incoherent',
  'durability',
  'deadlock',
  'no-progress',
  'invariant',
];

export interface Finding {
  kind: FindingKind;
  /** One line: what went wrong. */
  summary: string;
  /** Further lines: which bytes, which ops, why. */
  details: string[];
  /** The bytes involved, when the finding is about data. */
  bytes?: { region: string; start: number; end: number };
  /** Labels of the operations involved. */
  ops: string[];
  /**
   * Which op instances `ops` names, entry by entry: the op's provenance tag (OpRecord.tag, the
   * `obj` of its `op` and `op-return` trace events), or null where the entry names no op (initial
   * contents, zeroes). Labels alone cannot tell two identical ops of a task apart
   * (`load m+128 8; load m+128 8`); the tag can. Absent where the finding names no op.
   */
  opTags?: (number | null)[];
  /** The kernel noticed and reported it (errno), which does not undo it. */
  reported?: string;
}

/**
 * What judging one run gives: the findings, and, when the data oracles could not decide part of
 * the history within their budget, why. Findings listed are sound either way (each comes from a
 * part of the history that was decided); an inconclusive run without findings is not "ok".
 */
export interface Judgement {
  findings: Finding[];
  inconclusive?: string;
}
