/**
 * The oracles: what "wrong" means (DESIGN.md). Each compares what the run did with the legal
 * worlds of the reference model and returns findings that name the bytes, the operations, and why.
 *
 * - stale-read: a read returned, for some byte, a value no real-time-consistent order of the
 *   mutating ops allows at any moment inside the read's interval (this covers "a byte older than a
 *   write W that completed before the read began", and bytes nobody ever wrote).
 * - lost-write: once everything settled and was written back, the file is not what any legal order
 *   of the ops leaves. Reported-is-not-prevented: an EIO from dio_warn_stale_pagecache is noted on
 *   the finding, the finding stays.
 * - incoherent: with nothing in flight, a buffered read, an mmap read and an O_DIRECT read of some
 *   byte disagree.
 * - durability: after a crash (the device's volatile cache dropped), a byte covered by an fsync
 *   that returned 0 does not hold what the ops completed before that fsync left there.
 */
import { cell, cellTag, TAG_GARBAGE, TAG_INIT, TAG_ZERO } from '../block/data.js';
import type { FindingKind } from '../litmus/ast.js';
import type { History, OpRecord } from './history.js';
import { type Exploration, fullMask, type RefState, type Region } from './refmodel.js';

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
  /** The kernel noticed and reported it (errno), which does not undo it. */
  reported?: string;
}

/** Names a provenance tag for a reader: an op's label, or what the zero/init/garbage tags mean. */
export function describeTag(tag: number, history: History): string {
  if (tag === TAG_ZERO) return 'zeroes';
  if (tag === TAG_INIT) return 'the initial contents';
  if (tag === TAG_GARBAGE) return 'stale disk contents no operation wrote (a freed or never-written block)';
  const op = history.ops.find((o) => o.tag === tag);
  return op ? `${op.task}'s \`${op.label}\`` : `op #${tag}`;
}

function indexOfOp(ex: Exploration, op: OpRecord): number {
  return ex.ops.indexOf(op);
}

/** Bytes [start, end) of a region where `bad(b)` holds, as the first maximal run. */
function firstRun(len: number, bad: (b: number) => boolean): { start: number; end: number } | null {
  let b = 0;
  while (b < len && !bad(b)) b++;
  if (b === len) return null;
  let e = b;
  while (e < len && bad(e)) e++;
  return { start: b, end: e };
}

/** What a byte past EOF in some legal states may hold (allowedAt). */
type PastEof = 'zero' | 'any';

/**
 * The values byte `pos` may hold in some state (none: unconstrained, past EOF in every state).
 *
 * `pastEof` says what a byte inside the file in some states and past EOF in others may hold:
 * - 'zero' (reads): also zero. A load of the EOF page sees zeroes past EOF (the fault maps the folio
 *   whose tail iomap_read_folio / truncate_inode_partial_folio zeroed), so a load racing a truncate
 *   down sees the old bytes or zeroes; so may a read that sampled i_size before the truncate and
 *   copies the partial folio after it.
 * - 'any' (durability): anything. In a legal order where the byte is past EOF when the fsync runs,
 *   the fsync promised nothing about it (a write that extends the file over it later is not synced).
 */
function allowedAt(states: RefState[], region: string, pos: number, pastEof: PastEof): Set<number> {
  const out = new Set<number>();
  let past = false;
  for (const s of states) {
    const r = s.get(region) as Region;
    if (pos < r.size) out.add(r.cells[pos]);
    else past = true;
  }
  if (past && out.size > 0) {
    if (pastEof === 'zero') out.add(cell(TAG_ZERO, 0));
    else out.clear();
  }
  return out;
}

/**
 * Is `value` at byte `pos` of `region` outside allowedAt(...)? Decided without building the set:
 * this runs for every byte of every read of every run; allowedAt is for the report.
 */
function disallowed(
  states: RefState[],
  region: string,
  pos: number,
  value: number,
  pastEof: PastEof,
): boolean {
  let constrained = false;
  let past = false;
  for (const s of states) {
    const r = s.get(region) as Region;
    if (pos >= r.size) past = true;
    else if (r.cells[pos] === value) return false;
    else constrained = true;
  }
  if (!constrained) return false;
  if (past && (pastEof === 'any' || value === cell(TAG_ZERO, 0))) return false;
  return true;
}

function tagsOf(set: Set<number>): number[] {
  return [...new Set([...set].map(cellTag))];
}

/** stale-read: checks every completed read against the states legal during its interval. */
export function checkReads(ex: Exploration, history: History): Finding[] {
  const findings: Finding[] = [];
  for (const r of history.ops) {
    if (!r.observed || r.ret === null || r.ret < 0) continue;
    let must = 0;
    let mustNot = 0;
    ex.ops.forEach((w, i) => {
      if (w === r) return;
      if (w.ret !== null && w.end < r.start) must |= 1 << i;
      if (w.start > r.end) mustNot |= 1 << i;
    });
    const self = indexOfOp(ex, r);
    const states = ex.states
      .filter(
        (s) => (s.mask & must) === must && (s.mask & mustNot) === 0 && (self < 0 || !(s.mask & (1 << self))),
      )
      .map((s) => s.state);
    const { region, off, cells } = r.observed;
    const run = firstRun(cells.length, (b) => disallowed(states, region, off + b, cells[b], 'zero'));
    if (!run) continue;
    const got = describeTag(cellTag(cells[run.start]), history);
    const allowed = allowedAt(states, region, off + run.start, 'zero');
    const want = tagsOf(allowed).map((t) => describeTag(t, history));
    const writers = ex.ops.filter((w, i) => must & (1 << i) && w.effects.length > 0).map((w) => w.label);
    findings.push({
      kind: 'stale-read',
      summary: `${r.task}'s \`${r.label}\` read bytes [${off + run.start},${off + run.end}) of ${region} as ${got}`,
      details: [
        `at that point only ${want.join(' or ')} could be there`,
        writers.length
          ? `completed before the read began: ${writers.map((l) => `\`${l}\``).join(', ')}`
          : 'no write had completed before the read began',
      ],
      bytes: { region, start: off + run.start, end: off + run.end },
      ops: [r.label, ...writers],
    });
  }
  return findings;
}

/** lost-write: the settled file must equal what some complete legal order of the ops leaves. */
export function checkFinal(
  ex: Exploration,
  history: History,
  region: string,
  settled: Region,
  reported: string | null,
): Finding | null {
  const full = fullMask(ex);
  const finals = ex.states.filter((s) => s.mask === full).map((s) => s.state.get(region) as Region);
  let best: { diff: number; ref: Region } | null = null;
  for (const ref of finals) {
    let diff = Math.abs(ref.size - settled.size) * 2;
    for (let b = 0; b < Math.min(ref.size, settled.size); b++) if (ref.cells[b] !== settled.cells[b]) diff++;
    if (diff === 0) return null;
    if (!best || diff < best.diff) best = { diff, ref };
  }
  if (!best) return null;
  const ref = best.ref;
  if (ref.size !== settled.size) {
    return {
      kind: 'lost-write',
      summary: `${region} ends ${settled.size} bytes long; every legal order of the operations leaves ${ref.size}`,
      details: [],
      ops: [],
    };
  }
  const run = firstRun(settled.size, (b) => ref.cells[b] !== settled.cells[b]) as {
    start: number;
    end: number;
  };
  const want = describeTag(cellTag(ref.cells[run.start]), history);
  const got = describeTag(cellTag(settled.cells[run.start]), history);
  const f: Finding = {
    kind: 'lost-write',
    summary: `bytes [${run.start},${run.end}) of ${region} hold ${got} after everything settled; the closest legal order leaves ${want} there`,
    details: ['settled = all tasks done, dirty pages written back, read from the device'],
    bytes: { region, start: run.start, end: run.end },
    ops: [want, got],
  };
  if (reported) {
    f.reported = reported;
    f.details.push(`reported, not prevented: ${reported}`);
  }
  return f;
}

/** incoherent: the three views of a quiescent file must agree byte for byte. */
export function checkCoherence(
  region: string,
  views: { name: string; cells: Uint32Array }[],
  history: History,
): Finding | null {
  for (let i = 1; i < views.length; i++) {
    const a = views[0];
    const b = views[i];
    const len = Math.min(a.cells.length, b.cells.length);
    const run = firstRun(len, (x) => a.cells[x] !== b.cells[x]);
    if (!run) continue;
    return {
      kind: 'incoherent',
      summary: `with nothing in flight, ${a.name} and ${b.name} of ${region} disagree on bytes [${run.start},${run.end})`,
      details: [
        `${a.name}: ${describeTag(cellTag(a.cells[run.start]), history)}`,
        `${b.name}: ${describeTag(cellTag(b.cells[run.start]), history)}`,
      ],
      bytes: { region, start: run.start, end: run.end },
      ops: [],
    };
  }
  return null;
}

/** durability: what a successful fsync covered must survive a crash. */
export function checkDurability(
  ex: Exploration,
  history: History,
  crashed: Map<string, Region>,
): Finding | null {
  for (const f of history.ops) {
    if (!f.synced || f.ret !== 0) continue;
    let must = 0;
    ex.ops.forEach((w, i) => {
      if (w.ret !== null && w.end < f.start) must |= 1 << i;
    });
    const states = ex.states.filter((s) => (s.mask & must) === must).map((s) => s.state);
    const synced = f.synced;
    const disk = crashed.get(synced);
    if (!disk) continue;
    const [lo, hi] = f.syncedRange ?? [0, disk.size];
    const covered = (b: number) => b >= lo && b < hi;
    const run = firstRun(disk.size, (b) => covered(b) && disallowed(states, synced, b, disk.cells[b], 'any'));
    if (!run) continue;
    const want = tagsOf(allowedAt(states, synced, run.start, 'any')).map((t) => describeTag(t, history));
    return {
      kind: 'durability',
      summary: `after ${f.task}'s \`${f.label}\` returned 0 and the machine crashed, bytes [${run.start},${run.end}) of ${f.synced} hold ${describeTag(cellTag(disk.cells[run.start]), history)}`,
      details: [`fsync promised ${want.join(' or ')}`],
      bytes: { region: f.synced, start: run.start, end: run.end },
      ops: [f.label],
    };
  }
  return null;
}
