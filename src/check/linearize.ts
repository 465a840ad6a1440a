/**
 * The checker: which states of the reference model (refmodel.ts) a real run may be compared
 * against. A state is legal at a moment when some order of the mutating ops consistent with real
 * time (a before b when a completed before b was issued) puts it there. The oracles ask only
 * through `Legal`: the legal states during an op, after the ops completed before an op, or at the
 * end, and whether a value is allowed at a byte among them.
 *
 * How it scales, after Porcupine (anishathalye/porcupine, checker.go) and Horn & Kroening's
 * P-compositionality (arXiv 1504.00204):
 * - Partition. Ops whose footprints (refmodel.ts, effectSpans) share no byte commute and never
 *   read each other's bytes, so the legal states of the whole history are the products of the
 *   legal states of each partition, and a question about one byte is a question about the one
 *   partition that owns it. Real time is an interval order, so any order of one partition's ops
 *   consistent with real time, inside a window (must have happened / must not have), extends to
 *   a global one in the same window (Herlihy and Wing's locality argument). A file whose size may
 *   change (a write past its initial size, truncate, collapse, insert, an extending fallocate) is
 *   one footprint as a whole: every byte's meaning depends on the size.
 * - Memoise. Each partition is searched depth-first over (applied set, state), each pair once
 *   (Porcupine's cache of linearized bitset + state), with the set as a bitset of any length.
 * - Prune with real time. An op may be applied next only if every op that completed before it was
 *   issued is applied: only ops issued before the earliest end among the unapplied ones.
 * - Reuse. Random schedules of a scenario often give a history equal in content to one met
 *   before (always, for one task): its view is taken from a small cache (RecentHistories), and a
 *   region's hash is computed once per region object, not once per state holding it.
 * There is no limit on the number of ops. A partition whose states exceed the budget is not
 * decided: its bytes are not judged and `inconclusive` says so (never a silent "ok").
 */
import { allocCells, cell, TAG_ZERO } from '../block/data.js';
import { allEffects, completedBefore, concurrent, type Effect, type OpRecord } from './history.js';
import { type Footprint, footprints, overlap, type Quiet, quietFor, userReads, userWrites } from './quiet.js';
import {
  applyEffect,
  effectSpans,
  mayResize,
  pagePieces,
  pagesBehind,
  type RefState,
  type Region,
  type Span,
} from './refmodel.js';

/** States per partition before the checker gives up on it. */
export const STATE_BUDGET = 50_000;

/** What a byte past EOF in some legal states (and inside in others) may hold. */
export type PastEof = 'zero' | 'any';

/** A set of legal states, asked one byte at a time. */
export interface Window {
  /**
   * Is `value` at byte `pos` of `region` allowed by some state? A byte past EOF in every state is
   * unconstrained. `pastEof` says what a byte inside the file in some states and past EOF in
   * others may hold:
   * - 'zero' (reads): also zero. A load of the EOF page sees zeroes past EOF (the fault maps the
   *   folio whose tail iomap_read_folio / truncate_inode_partial_folio zeroed), so a load racing a
   *   truncate down sees the old bytes or zeroes; so may a read that sampled i_size before the
   *   truncate and copies the partial folio after it.
   * - 'any' (durability): anything. In a legal order where the byte is past EOF when the fsync
   *   runs, the fsync promised nothing about it.
   * A byte of an undecided partition is allowed (the verdict says inconclusive).
   */
  allowed(region: string, pos: number, value: number, pastEof: PastEof): boolean;
  /** The values allowed at a byte (for the report); empty: unconstrained or undecided. */
  values(region: string, pos: number, pastEof: PastEof): Set<number>;
}

export interface Legal {
  /** The initial state (Porcupine's Init): what the reports name the initial contents by. */
  readonly initial: RefState;
  /** The ops with effects, in scenario order (tags). */
  readonly ops: readonly OpRecord[];
  /** States legal while `op` ran, before its own effect: the window a read saw. */
  during(op: OpRecord): Window;
  /** States where every op completed before `op` was issued is applied (what an fsync covers). */
  after(op: OpRecord): Window;
  /**
   * States legal as `op` returned: its own effect applied, with the ops completed before it was
   * issued, and none issued after it returned (what a read's user buffer may hold then).
   */
  returned(op: OpRecord): Window;
  /**
   * The legal final state closest to `settled` on `region` (fewest differing bytes, a size
   * difference counting double), or null when some legal final state matches it exactly or the
   * region is not decided.
   */
  closestFinal(region: string, settled: Region): Region | null;
  /** Why part of the history was not decided, or undefined when all of it was. */
  readonly inconclusive?: string;
  /** What the search ordered and kept, over all partitions (a decided partition's states). */
  readonly cost: { events: number; states: number };
}

/**
 * A set of applied events as a bitset of 32-bit words, kept as int32 (what `|` gives): a plain
 * array, cheaper to copy than a typed array for the one or two words most histories need.
 */
type Mask = number[];

interface Node {
  mask: Mask;
  state: RefState;
}

/**
 * What the search orders: an op, or one step of an op that reads a user buffer at one moment and
 * changes its destination at another, so that other ops may come in between:
 * - an O_DIRECT write from a buffer: the DMA reads the pinned pages bio by bio, the file changes
 *   when they complete (a snap per bio, then the put); an O_DIRECT read likewise reads the file as
 *   it is when its bios are built (or as the flush before them left it: a dirty page cached after
 *   kiocb_write_and_wait is not read) and lands in the buffer at completion;
 * - a buffered copy through a buffer, a page of the file at a time (iomap_write_iter,
 *   filemap_read): each page is an event of its own, in ascending order; a read's page is two,
 *   the folio's bytes read (snap) and the store into the buffer (put), since copy_to_user may fault
 *   and sleep in between while the reader keeps its folio (filemap_read takes a batch of folios,
 *   with i_size, before copying any: every snap may come before the first put). The snaps are
 *   not ordered among themselves: an op the read races (a punch zeroing the head block and then
 *   the tail block, a write going a page at a time) changes the pages one after another too, so
 *   the read may see its page 0 after that op and its page 1 before it.
 */
interface Event {
  op: OpRecord;
  /** The effect lists it may have: one applies (a failed op may also apply none). */
  choices: Effect[][];
  /** The events that must come first (the buffer's read before its write-out, earlier pages). */
  after: number[];
}

/** A partition: ops whose footprints overlap (transitively), and the states they reach. */
interface Part {
  ops: OpRecord[];
  /** The ops as the search orders them (an op with a dma copy is two events). */
  events: Event[];
  /** The regions its ops touch: its states hold only these. */
  regions: string[];
  nodes: Node[];
  /** Its nodes with every event applied, once asked for. */
  finals?: Node[];
  complete: boolean;
  /** Where its footprint lies, for the inconclusive reason. */
  where: string;
}

/**
 * Builds the checker's view of a history: partitions, each explored up to the budget. A history
 * equal in content to a recent one (recentHistories) gets that one's view, bound to its own ops.
 */
export function linearize(initial: RefState, history: readonly OpRecord[], budget = STATE_BUDGET): Legal {
  const ops = history.filter((o) => o.effects.length > 0).sort((a, b) => a.tag - b.tag);
  const h = contentHash(initial, ops, budget);
  const seen = recentHistories.find(h, initial, ops, budget);
  if (seen) return seen.boundTo(initial, ops);
  const legal = search(initial, ops, budget);
  recentHistories.remember(h, initial, ops, budget, legal);
  return legal;
}

/**
 * linearize without the cache of recent histories: the general path, always searched. `fold`
 * false makes every moment of a copy an event of its own, quiet or not (dmaEvents): the reference
 * the folding is tested against.
 */
export function linearizeUncached(
  initial: RefState,
  history: readonly OpRecord[],
  budget = STATE_BUDGET,
  fold = true,
  defer = fold,
): Legal {
  return search(
    initial,
    history.filter((o) => o.effects.length > 0).sort((a, b) => a.tag - b.tag),
    budget,
    fold,
    defer,
  );
}

function search(initial: RefState, ops: OpRecord[], budget: number, fold = true, defer = fold): LegalStates {
  const { parts, owners } = partition(initial, ops);
  for (const p of parts) explore(p, initial, budget, fold, defer);
  const undecided = parts.filter((p) => !p.complete);
  const reason = undecided.length
    ? `the reference model's ${budget} states did not cover ${undecided.length === 1 ? 'the ops' : `${undecided.length} groups of ops`} on ${undecided.map((p) => p.where).join('; ')} (${undecided.reduce((n, p) => n + p.ops.length, 0)} ops): those bytes are not judged`
    : undefined;
  return new LegalStates(initial, ops, parts, owners, reason);
}

/** Per region, which partition owns which bytes: disjoint segments sorted by start. */
type Owners = Map<string, { start: number; end: number; part: number }[]>;

/**
 * Histories up to this many ops are searched as one partition owning every region it touches:
 * exact as well (partitioning only splits the search), and cheaper than building the partitions
 * for the handful of ops most runs have.
 */
const ONE_PARTITION_OPS = 6;

/** Every op in one partition, owning the whole of every region an op touches. */
function onePartition(initial: RefState, ops: OpRecord[]): { parts: Part[]; owners: Owners } {
  const regions: string[] = [];
  for (const o of ops)
    for (const e of allEffects(o))
      for (const s of effectSpans(initial, e)) if (!regions.includes(s.region)) regions.push(s.region);
  const part: Part = { ops, events: [], regions, nodes: [], complete: true, where: regions.join(', ') };
  const owners: Owners = new Map(
    regions.map((r) => [r, [{ start: 0, end: Number.POSITIVE_INFINITY, part: 0 }]]),
  );
  return { parts: ops.length ? [part] : [], owners };
}

function partition(initial: RefState, ops: OpRecord[]): { parts: Part[]; owners: Owners } {
  if (ops.length <= ONE_PARTITION_OPS) return onePartition(initial, ops);
  const whole = new Set<string>();
  for (const o of ops)
    for (const e of allEffects(o)) {
      const r = mayResize(initial, e);
      if (r) whole.add(r);
    }
  const spans: { span: Span; op: number }[] = [];
  ops.forEach((o, i) => {
    for (const e of allEffects(o)) {
      for (const s of effectSpans(initial, e)) {
        const span = whole.has(s.region) ? { region: s.region, start: 0, end: Number.POSITIVE_INFINITY } : s;
        if (span.end > span.start) spans.push({ span, op: i });
      }
    }
  });
  const uf = ops.map((_, i) => i);
  const find = (i: number): number => {
    while (uf[i] !== i) {
      uf[i] = uf[uf[i]];
      i = uf[i];
    }
    return i;
  };
  // Sweep each region's spans by start; overlapping ones join one partition.
  const byRegion = new Map<string, { span: Span; op: number }[]>();
  for (const s of spans) {
    const l = byRegion.get(s.span.region) ?? [];
    l.push(s);
    byRegion.set(s.span.region, l);
  }
  const merged = new Map<string, { start: number; end: number; op: number }[]>();
  for (const [region, l] of byRegion) {
    l.sort((a, b) => a.span.start - b.span.start || a.op - b.op);
    const segs: { start: number; end: number; op: number }[] = [];
    for (const { span, op } of l) {
      const last = segs[segs.length - 1];
      if (last && span.start < last.end) {
        last.end = Math.max(last.end, span.end);
        uf[find(op)] = find(last.op);
      } else segs.push({ start: span.start, end: span.end, op });
    }
    merged.set(region, segs);
  }
  // Partitions in the order of their first op (scenario order): deterministic.
  const index = new Map<number, number>();
  const parts: Part[] = [];
  ops.forEach((o, i) => {
    const root = find(i);
    let k = index.get(root);
    if (k === undefined) {
      k = parts.length;
      index.set(root, k);
      parts.push({ ops: [], events: [], regions: [], nodes: [], complete: true, where: '' });
    }
    parts[k].ops.push(o);
  });
  const owners: Owners = new Map();
  for (const [region, segs] of merged) {
    owners.set(
      region,
      segs.map((s) => ({ start: s.start, end: s.end, part: index.get(find(s.op)) as number })),
    );
    for (const s of segs) {
      const p = parts[index.get(find(s.op)) as number];
      if (!p.regions.includes(region)) p.regions.push(region);
      const range =
        s.end === Number.POSITIVE_INFINITY ? `${region} (whole)` : `${region}[${s.start},${s.end})`;
      p.where = p.where ? `${p.where}, ${range}` : range;
    }
  }
  return { parts, owners };
}

function maskHas(m: Mask, i: number): boolean {
  return (m[i >>> 5] & (1 << (i & 31))) !== 0;
}

function maskWith(m: Mask, i: number): Mask {
  const out = m.slice();
  out[i >>> 5] |= 1 << (i & 31);
  return out;
}

/** An op's events: one, a dma copy's two halves, or a buffered copy's pages (Event). */
function eventsOf(
  op: OpRecord,
  first: number,
  privFiles: ReadonlySet<string>,
  initial: RefState,
  quiet: Quiet,
  /** Quiet against the concurrent ops other than its i_rwsem peers (rwsemPeers). */
  quietOfOthers: Quiet,
  dio: readonly DioSpan[] = [],
): Event[] {
  const lists = op.alternatives ? [op.effects, ...op.alternatives] : [op.effects];
  // The device's transfers: an O_DIRECT write's (dma) and an O_DIRECT read's (a copy into the
  // buffer that is not a page-by-page one).
  const dma = op.effects.find((e) => e.k === 'copy' && (e.dma || (e.dstIsStore && !e.pieces)));
  if (dma?.k === 'copy') return dmaEvents(op, dma, lists, first, initial, quiet, dio);
  const c = op.effects[0];
  if (
    !op.alternatives &&
    op.effects.length === 1 &&
    (c.k === 'collapse' || c.k === 'insert') &&
    privFiles.has(c.region)
  )
    return shiftEvents(op, c, first);
  if (!op.alternatives && op.effects.length === 1 && c.k === 'write' && c.pieces)
    return writeEvents(op, c, first, quietOfOthers);
  if (!op.alternatives && op.effects.length === 1 && c.k === 'truncate' && c.block)
    return truncateEvents(op, c, first, quiet);
  if (op.alternatives || op.effects.length !== 1 || c.k !== 'copy' || !c.pieces)
    return [{ op, choices: lists, after: [] }];
  // A buffered write from a buffer: a page at a time, unless nothing but its i_rwsem peers (which
  // never come between two of its pages: explore's locks) touches its bytes.
  if (!c.dstIsStore && quietCopy(c, initial, quietOfOthers)) return [{ op, choices: [[c]], after: [] }];
  const pages = copyPages(c);
  if (!c.dstIsStore) return bufferedCopyEvents(op, pages, first, initial, dio);
  // A read: per page a snap (unless quiet: then folded into its put, as in dmaEvents) and a put,
  // after its snap and the previous page's put. The read's own puts are writes its later snaps may
  // read (a buffer mapping the file ahead of the copy).
  const ownWrites = userWrites(c.dst, c.dstOff, c.len);
  const out: Event[] = [];
  let lastPut = -1;
  for (const [k, e] of pages.entries()) {
    const latch = `#${op.tag}.${k}`;
    const snap: Effect = { k: 'snap', src: e.src, srcOff: e.srcOff, len: e.len, latch };
    const put: Effect = { k: 'put', latch, dst: e.dst, dstOff: e.dstOff, dstIsStore: true };
    const src = userReads(initial, e.src, e.srcOff, e.len, false);
    const after = lastPut >= 0 ? [lastPut] : [];
    if (quiet.toRead(src) && !overlap(src, ownWrites)) out.push({ op, choices: [[snap, put]], after });
    else {
      // The page's bytes read at one moment, or, where an O_DIRECT write of them is in flight, a
      // moment per part the device may tear (tornFill); the store into the buffer after them all.
      const units = tornFill(initial, e.src, e.srcOff, e.len, dio);
      const snaps = units.map(
        (u, j): Effect => ({ ...snap, srcOff: e.srcOff + u.off, len: u.len, latch: `${latch}.${j}` }),
      );
      const puts = units.map(
        (u, j): Effect => ({ ...put, latch: `${latch}.${j}`, dstOff: e.dstOff + u.off }),
      );
      const at = first + out.length;
      for (const sn of units.length > 1 ? snaps : [snap]) out.push({ op, choices: [[sn]], after: [] });
      const deps = units.length > 1 ? units.map((_, j) => at + j) : [at];
      out.push({ op, choices: [units.length > 1 ? puts : [put]], after: [...deps, ...after] });
    }
    lastPut = first + out.length - 1;
  }
  return out;
}

/**
 * A buffered write from a user buffer: a page of the file at a time, ascending, each page read
 * from the buffer as the earlier pages left it (iomap_write_iter, generic_perform_write). A page
 * whose source a concurrent O_DIRECT write of the file behind the buffer is writing may have been
 * faulted in torn (fault_in_iov_iter_readable → filemap_fault → ->read_folio, tornFill): its
 * parts are read each at its own moment (after the previous page), then copied (campaign 98212:
 * `pwrite f 64 64 buf=pg1`, `pg1` private over g's page 1, racing `pwrite g 64 64 direct`).
 */
function bufferedCopyEvents(
  op: OpRecord,
  pages: Extract<Effect, { k: 'copy' }>[],
  first: number,
  initial: RefState,
  dio: readonly DioSpan[],
): Event[] {
  const out: Event[] = [];
  for (const [k, e] of pages.entries()) {
    const after = k ? [first + out.length - 1] : [];
    const units = tornFill(initial, e.src, e.srcOff, e.len, dio);
    if (units.length === 1) {
      out.push({ op, choices: [[e]], after });
      continue;
    }
    const at = first + out.length;
    const latch = (j: number) => `#${op.tag}.${k}.${j}`;
    for (const [j, u] of units.entries())
      out.push({
        op,
        choices: [[{ k: 'snap', src: e.src, srcOff: e.srcOff + u.off, len: u.len, latch: latch(j) }]],
        after,
      });
    const puts = units.map(
      (u, j): Effect => ({
        k: 'put',
        latch: latch(j),
        dst: e.dst,
        dstOff: e.dstOff + u.off,
        dstIsStore: false,
      }),
    );
    out.push({ op, choices: [puts], after: units.map((_, j) => at + j) });
  }
  return out;
}

/**
 * A buffered write (no user buffer of a file): a page of the file at a time, ascending, as
 * iomap_write_iter and generic_perform_write go (each folio locked, filled, unlocked before the
 * next), so an op that takes no i_rwsem (a buffered read on ext4, filemap_read; a store or a
 * fault through a mapping) may come between two pages and carry the half-done write elsewhere: a
 * read of f[0,64) into a shared mapping of f's page 1 copies page 0 after the write's page 0 and
 * before its page 1 (campaign-50674). An op that takes the file's i_rwsem (rwsemPeers) never comes
 * between two pages (explore's locks). One step when no other concurrent op touches its bytes
 * (`quiet`, of the ops other than those peers: no one could tell).
 */
function writeEvents(op: OpRecord, w: Extract<Effect, { k: 'write' }>, first: number, quiet: Quiet): Event[] {
  const ps = w.pieces as number;
  const len = w.cells.length;
  if (
    quiet.toWrite(userWrites(w.region, w.off, len)) ||
    Math.floor(w.off / ps) === Math.floor((w.off + len - 1) / ps)
  )
    return [{ op, choices: [[w]], after: [] }];
  return pagePieces(w.off, len, ps).map(({ at, len: n }, i): Event => {
    const piece: Effect = {
      k: 'write',
      region: w.region,
      off: w.off + at,
      cells: w.cells.subarray(at, at + n),
    };
    return { op, choices: [[piece]], after: i ? [first + i - 1] : [] };
  });
}

/**
 * A truncate down to a size inside a block: two steps, the rest of the new EOF block zeroed with
 * i_size unchanged, then the truncate (xfs_setattr_size: xfs_truncate_page → iomap_truncate_page,
 * which zeroes [size, block end) through the page cache, then truncate_setsize, whose
 * truncate_inode_partial_folio zeroes the rest of the EOF folio). Nothing orders a load or a
 * user copy through a present PTE of the EOF page against either, so a buffered write from a
 * MAP_PRIVATE mapping of the EOF page may copy the block's tail zeroed and the rest of the page
 * not yet (campaign-98307). Its range may hold no data (an extended or shorter file at that
 * moment): the zero keeps the size and clips to it, so it then changes nothing. One step when
 * nothing concurrent reads or writes those bytes.
 */
function truncateEvents(
  op: OpRecord,
  t: Extract<Effect, { k: 'truncate' }>,
  first: number,
  quiet: Quiet,
): Event[] {
  const bs = t.block as number;
  const end = Math.ceil(t.size / bs) * bs;
  if (end === t.size || quiet.toWrite([{ region: t.region, start: t.size, end }]))
    return [{ op, choices: [[t]], after: [] }];
  const zero: Effect = { k: 'zero', region: t.region, off: t.size, len: end - t.size, keepSize: true };
  return [
    { op, choices: [[zero]], after: [] },
    { op, choices: [[t]], after: [first] },
  ];
}

/**
 * An O_DIRECT transfer's events (docs/litmus.md, "When the buffer is read"). Each bio's DMA reads
 * its part of the source at its own moment, in any order (a snap per part); an O_DIRECT write's
 * file changes after the last (one put, so a fallback or a prefix stays one choice); an O_DIRECT
 * read lands in its buffer bio by bio (iomap_dio_bio_end_io: a put per part, after its snap), and
 * into a MAP_PRIVATE buffer only after GUP's FOLL_WRITE pin broke COW (wp_page_copy: a cowbreak
 * before every put, holding the file's page as it was then).
 *
 * Each of those moments is an event of its own only where some op could tell (`quiet`: no op
 * that may run at the same time touches the bytes, nor the op itself in an order the events
 * allow); the others are folded, which leaves every legal outcome and adds none:
 * - A quiet snap reads bytes that nothing can change while the op runs: only events of ops
 *   concurrent with it come between its events (real time orders the others wholly before or
 *   after), and none of them, nor the op's own writes, touch those bytes. It reads the same
 *   wherever it goes, so it goes with the put that consumes it. A snap changes only its latch,
 *   which no query reads.
 * - Quiet puts land on bytes no concurrent op reads or writes, and the op's own snaps do not read:
 *   each commutes with every event that could come between it and the others, so any order of
 *   the split events is, swap by swap, an order of the merged ones with the same state; the
 *   states of the search differ only where the read is partly landed, and the oracles ask those
 *   byte by byte, where a byte of a quiet part holds its landed value in the state with all of them
 *   landed and its old value in the state with none. A read that failed keeps a put per part
 *   (each may have landed or not).
 * - A quiet cowbreak: no concurrent op changes the file's pages behind the buffer, so the copy made
 *   at the pin and the copy made as the first put lands (storePrivate) hold the same bytes, and
 *   what the mapping shows in between is the same.
 * quiet.test.ts holds the folded checker to the one that makes every moment an event
 * (linearizeUncached's `fold`), answer for answer, on the histories of random 3 × 2 programs; the
 * seed-8 false alarms (linearize.test.ts), whose other op touches the buffer, stay no finding.
 */
function dmaEvents(
  op: OpRecord,
  dma: Extract<Effect, { k: 'copy' }>,
  lists: Effect[][],
  first: number,
  initial: RefState,
  quiet: Quiet,
  dio: readonly DioSpan[],
): Event[] {
  // An O_DIRECT write from a buffer that maps a file: GUP may fault the buffer's page in while an
  // O_DIRECT write of that file is in flight, and the fill may be torn (tornFill), at the file's
  // block boundaries, which need not be the destination's. (An O_DIRECT read's parts are cut at its
  // file's blocks already, where the model's O_DIRECT bios end: an extent per bio.)
  const parts = dma.dstIsStore
    ? dmaParts(dma)
    : dmaParts(dma).flatMap((p) =>
        tornFill(initial, dma.src, dma.srcOff + p.off, p.len, dio).map((u) => ({
          off: p.off + u.off,
          len: u.len,
        })),
      );
  const latch = (k: number) => `#${op.tag}.${k}`;
  const srcSpans = parts.map((p) => userReads(initial, dma.src, dma.srcOff + p.off, p.len, false));
  // What the op itself writes that one of its snaps could read after: a read's buffer (its puts,
  // a zero-filled tail). A write changes the file after its last snap.
  const ownWrites = dma.dstIsStore ? userWrites(dma.dst, dma.dstOff, dma.len) : [];
  const quietSnap = srcSpans.map((s) => quiet.toRead(s) && !overlap(s, ownWrites));
  const pinAt = pinnedParts(op, dma, parts, initial, quiet, quietSnap);
  const snapOf = (k: number): Effect => ({
    k: 'snap',
    src: dma.src,
    srcOff: dma.srcOff + parts[k].off,
    len: parts[k].len,
    latch: latch(k),
  });
  const putOf = (k: number): Effect => ({
    k: 'put',
    latch: latch(k),
    dst: dma.dst,
    dstOff: dma.dstOff + parts[k].off,
    dstIsStore: dma.dstIsStore,
  });
  const ks = parts.map((_, k) => k);
  if (dma.dstIsStore && lists.length === 1 && lists[0].length === 1)
    return landingEvents(op, dma, first, initial, quiet, {
      ks,
      snapOf,
      putOf,
      srcSpans,
      dstSpans: parts.map((p) => userWrites(dma.dst, dma.dstOff + p.off, p.len)),
      quietSnap,
    });
  // One put after the snaps, each quiet snap folded into it. A part whose page's pin matters
  // (pinnedParts) reads through the mapping, or the file behind if its page's pin found the file's
  // folio: one pin per page, anywhere before the put, which releases it.
  const loud = ks.filter((k) => !quietSnap[k]);
  const pins = [...new Map(pinAt.flatMap((p) => (p ? [[p.latch, p] as const] : []))).values()];
  const releases: Effect[] = pins.map((p) => ({ ...p, release: true }));
  const puts = [...ks.filter((k) => quietSnap[k]).map(snapOf), ...ks.map(putOf)];
  const snaps: Event[] = [
    ...pins.map((p): Event => ({ op, choices: [[p]], after: [] })),
    ...loud.map((k): Event => {
      const pin = pinAt[k];
      return {
        op,
        choices: pin ? [[snapOf(k)], [{ ...snapOf(k), pinned: pin.latch } as Effect]] : [[snapOf(k)]],
        after: [],
      };
    }),
  ];
  const snapIdx = snaps.map((_, i) => first + i);
  const fallback = lists.length === 2 && lists[1].length === 1 ? lists[1][0] : undefined;
  if (
    !dma.dstIsStore &&
    fallback?.k === 'copy' &&
    fallback.pieces &&
    copyPages(fallback).length > 1 &&
    !quietCopy(fallback, initial, quiet)
  )
    return fallbackEvents(op, snaps, snapIdx, puts, releases, fallback, first);
  // A read's zero-filled tail past EOF (zeroTails in src/litmus/world.ts) is a CPU store made
  // when iomap reaches the hole (iomap_dio_hole_iter), before the bios complete: an event of its
  // own, anywhere in the op, choosing how far it went (or not at all).
  const isTail = (e: Effect) => dma.dstIsStore && e.k === 'store';
  const tails = lists.map((l) => l.filter(isTail));
  const put: Event = {
    op,
    choices: dedupe(
      lists.map((l) => l.filter((e) => !isTail(e)).flatMap((e) => (e === dma ? puts : [e]))),
    ).map((l) => [...l, ...releases]),
    after: snapIdx,
  };
  if (!tails.some((l) => l.length > 0)) return [...snaps, put];
  return [...snaps, put, { op, choices: tails, after: [] }];
}

/**
 * Per part of an O_DIRECT write, the pin of its source page when GUP pins that page, in a
 * MAP_PRIVATE mapping, at a moment of its own (a pin event before the part's snap): where the
 * part's read is not quiet and some op that may run at the same time may change whether that page
 * is copied (a store or a read into any byte of it copies it, wp_page_copy; a truncate, collapse
 * or insert drops copies). Elsewhere undefined: the page the pin took shows the same bytes as the
 * mapping when the DMA reads it. Parts on one page get equal pins (one latch per page).
 */
function pinnedParts(
  op: OpRecord,
  dma: Extract<Effect, { k: 'copy' }>,
  parts: readonly { off: number; len: number }[],
  initial: RefState,
  quiet: Quiet,
  quietSnap: readonly boolean[],
): (Extract<Effect, { k: 'pin' }> | undefined)[] {
  const priv = dma.dstIsStore ? undefined : initial.get(dma.src)?.priv;
  return parts.map((p, k) => {
    if (!priv || quietSnap[k]) return undefined;
    const page = Math.floor((dma.srcOff + p.off) / priv.pageSize);
    const start = page * priv.pageSize;
    if (quiet.toRead([{ region: dma.src, start, end: start + priv.pageSize }])) return undefined;
    return { k: 'pin', region: dma.src, off: start, latch: `#${op.tag}.pin${page}` };
  });
}

/**
 * Does no op that may run concurrently touch a buffered write's bytes (its buffer, the file range
 * it writes)? Then nothing can come between two of its pages that would tell, and it may be one
 * step (its pieces applied in order: refmodel.ts, copyPieces).
 */
function quietCopy(c: Extract<Effect, { k: 'copy' }>, initial: RefState, quiet: Quiet): boolean {
  return (
    quiet.toRead(userReads(initial, c.src, c.srcOff, c.len, false)) &&
    quiet.toWrite(userWrites(c.dst, c.dstOff, c.len))
  );
}

/**
 * An O_DIRECT write that may be done as a buffered one (world.ts, fallbackEffect: iomap_dio_rw's
 * -ENOTBLK, direct_write_fallback): either its DMA (the snaps, then the put) or the buffered copy,
 * which goes a folio at a time (iomap_write_iter), each page an event of its own as a buffered
 * write's are, so another op may come between two pages. A claim on the op's latch keeps the two
 * ways apart: each event does its part of the way first claimed, and nothing of the other. Only
 * for a copy of two pages or more, some of whose bytes a concurrent op touches (quietCopy);
 * otherwise the fallback stays one choice of the put, as before (one page: the put may come at
 * any moment of the op, as that page would).
 */
function fallbackEvents(
  op: OpRecord,
  snaps: Event[],
  snapIdx: number[],
  puts: Effect[],
  releases: Effect[],
  fallback: Extract<Effect, { k: 'copy' }>,
  first: number,
): Event[] {
  const latch = `#${op.tag}.way`;
  const dio: Effect = { k: 'claim', latch, way: 1 };
  const buffered: Effect = { k: 'claim', latch, way: 2 };
  const put: Event = {
    op,
    choices: [
      [dio, ...puts, ...releases],
      [buffered, ...releases],
    ],
    after: snapIdx,
  };
  const at = first + snaps.length + 1;
  const pages = copyPages(fallback).map(
    (e, k): Event => ({ op, choices: [[buffered, e], [dio]], after: k ? [at + k - 1] : [] }),
  );
  return [...snaps, put, ...pages];
}

/**
 * An O_DIRECT read whose one outcome is its transfer: [cowbreak], the snaps that are not quiet,
 * a put per part that is not quiet (with its snap if that one is), and one event for the quiet
 * parts' puts (with their quiet snaps), each put after its snap and the cowbreak (dmaEvents).
 */
function landingEvents(
  op: OpRecord,
  dma: Extract<Effect, { k: 'copy' }>,
  first: number,
  initial: RefState,
  quiet: Quiet,
  t: {
    ks: number[];
    snapOf: (k: number) => Effect;
    putOf: (k: number) => Effect;
    srcSpans: Span[][];
    dstSpans: Span[][];
    quietSnap: boolean[];
  },
): Event[] {
  const done = op.ret !== null && op.ret >= 0;
  const priv = initial.get(dma.dst)?.priv;
  const cow = priv !== undefined && !(done && quiet.toRead([pagesBehind(priv, dma.dstOff, dma.len)]));
  const allSrc = t.srcSpans.flat();
  const quietPut = t.dstSpans.map((d) => done && quiet.toWrite(d) && !overlap(d, allSrc));
  const out: Event[] = [];
  if (cow)
    out.push({
      op,
      choices: [[{ k: 'cowbreak', region: dma.dst, off: dma.dstOff, len: dma.len }]],
      after: [],
    });
  const snapAt = new Map<number, number>();
  for (const k of t.ks)
    if (!t.quietSnap[k]) {
      snapAt.set(k, first + out.length);
      out.push({ op, choices: [[t.snapOf(k)]], after: [] });
    }
  const deps = (ks: number[]) => [
    ...(cow ? [first] : []),
    ...ks.flatMap((k) => (snapAt.has(k) ? [snapAt.get(k) as number] : [])),
  ];
  const landing = (ks: number[]): Event => ({
    op,
    choices: [[...ks.filter((k) => t.quietSnap[k]).map(t.snapOf), ...ks.map(t.putOf)]],
    after: deps(ks),
  });
  for (const k of t.ks) if (!quietPut[k]) out.push(landing([k]));
  const merged = t.ks.filter((k) => quietPut[k]);
  if (merged.length) out.push(landing(merged));
  return out;
}

/**
 * Collapse and insert of a file some private mapping maps: Linux keeps or drops the mapping's COW
 * copies depending on the filesystem (refmodel.ts, shiftCows). ext4 (and the model) drops them
 * twice: truncate_pagecache unmaps them, truncates the page cache, and unmaps again, so a store
 * fault in between copies the unshifted folio, dropped again by the second unmap. Two steps, then:
 * the first unmap (or nothing), and the shift with its drop (ext4) or keeping them (XFS, possible
 * only when the first step did nothing: the latch says).
 */
function shiftEvents(op: OpRecord, e: Extract<Effect, { k: 'collapse' | 'insert' }>, first: number): Event[] {
  const latch = `#${op.tag}.unmap`;
  return [
    { op, choices: [[{ k: 'unmapcows', region: e.region, off: e.off, latch }], []], after: [] },
    { op, choices: [[{ ...e, latch }], [{ ...e, keepCows: true, latch }]], after: [first] },
  ];
}

/**
 * The ops that may run concurrently with a buffered write `op` and take the i_rwsem of the file it
 * writes: a write of it (buffered or O_DIRECT, from any buffer), a truncate, a fallocate. Not an
 * O_DIRECT read: ext4_dio_read_iter and xfs_file_dio_read take it shared, but bcachefs's
 * bch2_direct_IO_read takes no inode lock (it flushes the range and reads), and the oracle is the
 * same for every scheme, so it must allow what any of them may do. A buffered write
 * holds it exclusive across its whole copy, every page of it, whether the bytes come from a private
 * buffer or through a mapping of a file (ext4_buffered_write_iter: inode_lock, then
 * generic_perform_write, whose copy_folio_from_iter_atomic reads the user page; xfs_file_buffered_
 * write: XFS_IOLOCK_EXCL around iomap_file_buffered_write), so none of those ops has a step between
 * two of its pages, nor it between two of theirs. A user access through a mapping, and a buffered
 * read (ext4's filemap_read takes no lock), are not such ops. Empty for an op that is no buffered
 * write (an effect with `pieces` that is no read).
 */
function rwsemPeers(op: OpRecord, ops: readonly OpRecord[]): OpRecord[] {
  const files = new Set(
    op.effects.flatMap((e) =>
      e.k === 'write' && e.pieces ? [e.region] : e.k === 'copy' && !e.dstIsStore && e.pieces ? [e.dst] : [],
    ),
  );
  if (files.size === 0) return [];
  return ops.filter(
    (b) =>
      concurrent(op, b) &&
      allEffects(b).some((e) => {
        switch (e.k) {
          case 'write':
          case 'truncate':
          case 'punch':
          case 'zero':
          case 'alloc':
          case 'collapse':
          case 'insert':
            return files.has(e.region);
          case 'copy':
            // Into a file, not into a user buffer (an O_DIRECT read of the file is no peer).
            return !e.dstIsStore && files.has(e.dst);
          default:
            return false;
        }
      }),
  );
}

/**
 * An O_DIRECT write that may run concurrently with an op: the file range it writes, and the file
 * offsets inside it where the device may tear it against a page cache fill (tornFill).
 */
interface DioSpan {
  region: string;
  start: number;
  end: number;
  cuts: number[];
}

/**
 * The O_DIRECT writes (effects with `bios` and no `pieces`: a write from a private buffer, or a
 * dma copy) of ops that may run concurrently with `op`, as DioSpans: cut inside their range at the
 * file's block boundaries (where a fill's bios may end: iomap_read_folio builds one per
 * device-contiguous run of a mapping, so a fill of a folio over several extents is several bios
 * (iomapReadFolioSync); the cuts stay at every block, whatever the layout, so the oracle does not
 * depend on the model's allocator) and where the write's bios may end (dmaParts:
 * the file's block boundaries, the buffer's page boundaries; a private buffer is page-aligned).
 * Not at its ends: a part that holds one sees the bytes the write changes landed or not as one,
 * and the rest never change.
 */
function concurrentDio(op: OpRecord, ops: readonly OpRecord[]): DioSpan[] {
  const out: DioSpan[] = [];
  for (const b of ops) {
    if (!concurrent(op, b)) continue;
    // Its effects, not its alternatives: a failed write's sector prefixes land as one put each,
    // within the whole's parts (a part a prefix ends inside sees its bytes landed or not), and a
    // buffered fallback is no device write.
    for (const e of b.effects) {
      if (!('bios' in e) || !e.bios || e.pieces) continue;
      if (e.k === 'copy' && e.dstIsStore) continue;
      const w =
        e.k === 'write'
          ? { region: e.region, start: e.off, len: e.cells.length, bufOff: 0 }
          : { region: e.dst, start: e.dstOff, len: e.len, bufOff: e.srcOff };
      const cuts = bioCuts(w.start, w.bufOff, w.len, e.bios).map((x) => w.start + x);
      out.push({ region: w.region, start: w.start, end: w.start + w.len, cuts });
    }
  }
  return out;
}

/**
 * The parts of a buffered read's page [off, off+len) of `file` that may each be read before or
 * after a concurrent O_DIRECT write of them, independently: one part (the whole page) when no
 * such write overlaps it. A page cache fill (filemap_create_folio → filemap_read_folio →
 * ->read_folio) and an aligned O_DIRECT write of the same blocks run together: xfs takes
 * XFS_IOLOCK_SHARED for both (xfs_file_buffered_read, xfs_file_dio_write_aligned), ext4's
 * buffered read takes no i_rwsem and its overwrite DIO takes it shared (ext4_dio_write_iter), the
 * fill holds invalidate_lock shared, which the DIO write never takes, and kiocb_invalidate_pages
 * runs before the folio is added. The block layer orders no two bios in flight, and a device
 * promises no more than a logical block atomic (NVMe AWUN; more only for REQ_ATOMIC): Linux lets
 * each sector of the fill see the write or not. The parts are coarser, cut where the model's
 * device can tear (a bio is one transfer at its completion, bdev.ts: a fill's bios, which end at
 * blocks, the write's bios), so every tear the model makes is allowed and none Linux forbids is;
 * the filled folio is then copied out whole (filemap_read, copy_folio_to_iter), and a folio
 * removed by the write's kiocb_invalidate_post_direct_write meanwhile is still the reader's to
 * copy.
 */
function tornFill(
  initial: RefState,
  src: string,
  srcOff: number,
  len: number,
  dio: readonly DioSpan[],
): { off: number; len: number }[] {
  // The file bytes the source shows: a file (pread's, or behind a shared mapping), or the file
  // behind a private mapping (a page already the mapping's own reads no file: its parts then all
  // read the same copy, whatever their moments).
  const priv = initial.get(src)?.priv;
  const file = priv ? priv.file : src;
  const off = priv ? priv.fileOff + srcOff : srcOff;
  const end = off + len;
  const cuts = new Set<number>();
  for (const d of dio) {
    if (d.region !== file || d.end <= off || end <= d.start) continue;
    for (const x of d.cuts) if (x > off && x < end) cuts.add(x);
  }
  const rel = [...cuts].sort((a, b) => a - b).map((x) => x - off);
  return partsAt(rel, len);
}

/** The files some private mapping maps. */
function privatelyMapped(initial: RefState): Set<string> {
  const out = new Set<string>();
  for (const r of initial.values()) if (r.priv) out.add(r.priv.file);
  return out;
}

/**
 * Offsets in (0, len) of an O_DIRECT transfer where a bio may end: the file's block boundaries
 * (iomap hands out an extent at a time) and the buffer's page boundaries (a segment per pinned
 * page). `fileOff` and `bufOff` are where the transfer starts in each.
 */
function bioCuts(
  fileOff: number,
  bufOff: number,
  len: number,
  bios: { block: number; page: number },
): number[] {
  const out: number[] = [];
  for (let x = 1; x < len; x++)
    if ((fileOff + x) % bios.block === 0 || (bufOff + x) % bios.page === 0) out.push(x);
  return out;
}

/** [0, len) cut at `cuts` (ascending, each in (0, len)): each part's offset and length. */
function partsAt(cuts: readonly number[], len: number): { off: number; len: number }[] {
  const points = [0, ...cuts, len];
  return points.slice(1).map((x, i) => ({ off: points[i], len: x - points[i] }));
}

/**
 * A DMA's transfer cut where a bio may end (Effect's `bios`, bioCuts). Offsets into the copy, and
 * lengths.
 */
function dmaParts(c: Extract<Effect, { k: 'copy' }>): { off: number; len: number }[] {
  const fileOff = c.dstIsStore ? c.srcOff : c.dstOff;
  const bufOff = c.dstIsStore ? c.dstOff : c.srcOff;
  if (c.len === 0) return [];
  return partsAt(c.bios ? bioCuts(fileOff, bufOff, c.len, c.bios) : [], c.len);
}

/** The effect lists, each once (by identity of their effects). */
function dedupe(lists: Effect[][]): Effect[][] {
  const out: Effect[][] = [];
  for (const l of lists)
    if (!out.some((o) => o.length === l.length && o.every((e, i) => e === l[i]))) out.push(l);
  return out;
}

/** A buffered copy cut at the file's page boundaries (refmodel.ts, copyPieces): one copy per page. */
function copyPages(c: Extract<Effect, { k: 'copy' }>): Extract<Effect, { k: 'copy' }>[] {
  const fileOff = c.dstIsStore ? c.srcOff : c.dstOff;
  return pagePieces(fileOff, c.len, c.pieces as number).map(({ at, len }) => ({
    ...c,
    srcOff: c.srcOff + at,
    dstOff: c.dstOff + at,
    len,
    pieces: undefined,
  }));
}

/** Nothing is quiet: every moment an event (linearizeUncached's `fold` false). */
const LOUD: Quiet = { toRead: () => false, toWrite: () => false };

/** Every state of the partition reachable by a real-time-consistent order, up to the budget. */
function explore(p: Part, initial: RefState, budget: number, fold: boolean, defer: boolean): void {
  const privFiles = privatelyMapped(initial);
  const prints = footprints(initial, p.ops);
  const peers = new Map<OpRecord, OpRecord[]>();
  const spans = new Map<OpRecord, [number, number]>();
  for (const op of p.ops) {
    const quiet = fold ? quietFor(op, p.ops, prints) : LOUD;
    const mine = rwsemPeers(op, p.ops);
    peers.set(op, mine);
    const others =
      fold && mine.length
        ? quietFor(
            op,
            p.ops.filter((o) => !mine.includes(o)),
            prints,
          )
        : quiet;
    const dio = concurrentDio(op, p.ops);
    const first = p.events.length;
    p.events.push(...eventsOf(op, first, privFiles, initial, quiet, others, dio));
    spans.set(op, [first, p.events.length]);
  }
  const events = p.events;
  const n = events.length;
  const locks = rwsemLocks(n, peers, spans);
  // Events that change nothing but latches: snaps and pins.
  const snapOnly = events.map((ev) =>
    ev.choices.every((c) => c.length > 0 && c.every((e) => e.k === 'snap' || e.k === 'pin')),
  );
  const deferred = defer ? deferrals(events, snapOnly, initial, prints) : new Array<Deferral | undefined>(n);
  const start: RefState = new Map();
  for (const r of p.regions) start.set(r, initial.get(r) as Region);
  for (const ev of events)
    for (const e of ev.choices[0])
      if (e.k === 'snap') start.set(e.latch, { size: e.len, cells: allocCells(e.len) });
      else if (e.k === 'unmapcows' || e.k === 'claim' || e.k === 'pin')
        start.set(e.latch, { size: 0, cells: allocCells(0) });
  const seen = new SeenStates();
  const stack: Node[] = [{ mask: new Array<number>((n + 31) >>> 5).fill(0), state: start }];
  while (stack.length > 0) {
    const cur = stack.pop() as Node;
    if (!seen.add(cur)) continue;
    p.nodes.push(cur);
    if (p.nodes.length > budget) {
      p.complete = false;
      p.nodes.length = 0;
      return;
    }
    // Real-time pruning: nothing issued after the earliest end among the unapplied ops.
    let minEnd = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const o = events[i].op;
      if (o.ret !== null && o.end < minEnd && !maskHas(cur.mask, i)) minEnd = o.end;
    }
    const stable = (i: number) => settled(deferred[i], cur.mask);
    for (let i = n - 1; i >= 0; i--) {
      const ev = events[i];
      const op = ev.op;
      if (maskHas(cur.mask, i) || op.start > minEnd || stable(i)) continue;
      // Its snaps (and their pins) not applied yet but settled go with it, each after its own.
      const folded = foldable(events, i, cur.mask, stable);
      if (!folded) continue;
      if (locks[i]?.some(([from, to]) => halfDone(cur.mask, from, to))) continue;
      let mask = maskWith(cur.mask, i);
      let base: RefState = cur.state;
      for (const a of folded) {
        mask = maskWith(mask, a);
        for (const e of events[a].choices[0]) base = applyEffect(base, e) as RefState;
      }
      for (const effects of ev.choices) {
        let s: RefState | null = base;
        for (const e of effects) {
          s = applyEffect(s, e);
          if (!s) break;
        }
        if (s) stack.push({ mask, state: s });
      }
      // A failed or unfinished op may have done nothing at all. Not a snap: it changes only its
      // latch, and skipped it would let the put write the latch's zeroes, which no op wrote.
      if ((op.ret === null || op.ret < 0) && !snapOnly[i]) stack.push({ mask, state: base });
    }
  }
}

/**
 * The events `i` waits for that are not applied, each settled (`settled`), with theirs, in an
 * order that applies each after what it waits for; null when one of them is not settled.
 */
function foldable(
  events: readonly Event[],
  i: number,
  m: Mask,
  stable: (j: number) => boolean,
): number[] | null {
  const out: number[] = [];
  for (const a of events[i].after) {
    if (maskHas(m, a)) continue;
    if (!stable(a)) return null;
    const mine = foldable(events, a, m, stable);
    if (!mine) return null;
    out.push(...mine, a);
  }
  return out;
}

/**
 * A snap the search may leave for its one consumer to apply once nothing can change what it
 * reads: the consumer (the event whose `after` names it, of the same op), and the events that may
 * write its source bytes (every event of an op whose footprint writes them, but snaps, which
 * write only latches, and the consumer itself).
 */
interface Deferral {
  consumer: number;
  writers: number[];
}

/**
 * Which snaps wait for their consumer (`explore`). A snap changes nothing but its latch, which
 * only its consumer reads; once every event that may write its source is applied (`settled`), it
 * reads the same bytes wherever it goes before its consumer, so the search applies it with the
 * consumer rather than alone. That drops states, never an outcome: any order that applies such a
 * snap earlier becomes, by moving the snap past events that do not write its source (they commute
 * with it), an order the search takes, ending in the same state; the states in between differ
 * only in the latch and in the snap's bit, which no query reads (a window constrains whole ops:
 * an op that must be applied has its consumer applied, hence the snap; one that must not has
 * neither; and a free op may have either). A snap of a consumer that is skipped (a failed op that
 * did nothing) is marked applied with its latch unread: nothing reads that latch. The same
 * argument as the folding of quiet moments (dmaEvents), made per state: there "nothing concurrent
 * writes the source", here "nothing left unapplied does".
 */
function deferrals(
  events: readonly Event[],
  snapOnly: readonly boolean[],
  initial: RefState,
  prints: ReadonlyMap<OpRecord, Footprint>,
): (Deferral | undefined)[] {
  const consumers = events.map(() => [] as number[]);
  events.forEach((ev, j) => {
    for (const a of ev.after) consumers[a].push(j);
  });
  const latchLen = new Map<string, number>();
  for (const ev of events)
    for (const e of ev.choices.flat()) if (e.k === 'snap') latchLen.set(e.latch, e.len);
  const writes = events.map((ev) => eventWrites(ev, latchLen, prints.get(ev.op) as Footprint));
  return events.map((ev, i) => {
    const [consumer] = consumers[i];
    if (!snapOnly[i] || ev.choices.length !== 1 || consumers[i].length !== 1) return undefined;
    if (events[consumer].op !== ev.op) return undefined;
    const reads = ev.choices[0].flatMap((e) => latchReads(initial, e));
    const writers: number[] = [];
    events.forEach((_, j) => {
      if (j !== i && j !== consumer && !snapOnly[j] && overlap(reads, writes[j])) writers.push(j);
    });
    return { consumer, writers };
  });
}

/**
 * The bytes an event may change, for `deferrals`: its op's footprint (quiet.ts), but for an event
 * made of the checker's steps, what those steps write: a put its destination's bytes (and wherever
 * its op may grow a file), a snap or a claim nothing but a latch, a COW break nothing a user sees
 * (the copy holds the file's bytes as they are then: quiet.ts, footprint).
 */
function eventWrites(ev: Event, latchLen: ReadonlyMap<string, number>, print: Footprint): Span[] {
  const grows = print.writes.filter((w) => w.end === Number.POSITIVE_INFINITY);
  const out: Span[] = [];
  for (const e of ev.choices.flat())
    switch (e.k) {
      case 'snap':
      case 'pin':
      case 'claim':
      case 'cowbreak':
        break;
      case 'put':
        out.push(...userWrites(e.dst, e.dstOff, latchLen.get(e.latch) as number), ...grows);
        break;
      default:
        return print.writes;
    }
  return out;
}

/**
 * What a snap or a pin reads: a snap its source (through a private mapping, the file's bytes behind
 * too); a pin whether its page of the private mapping is copied, which a write of any byte of that
 * page changes (the first store copies it), and a truncate, collapse or insert (which drop copies:
 * their footprints write the whole mapping).
 */
function latchReads(initial: RefState, e: Effect): Span[] {
  if (e.k === 'snap') return userReads(initial, e.src, e.srcOff, e.len, false);
  if (e.k !== 'pin') return [];
  // A pin's offset is its page's start (pinnedParts).
  const ps = (initial.get(e.region) as Region).priv?.pageSize ?? 1;
  return [{ region: e.region, start: e.off, end: e.off + ps }];
}

/** Is a deferrable snap settled in this state: every event that may write its source applied? */
function settled(d: Deferral | undefined, m: Mask): boolean {
  return d?.writers.every((j) => maskHas(m, j)) === true;
}

/**
 * i_rwsem as the search sees it: per event, the event ranges of other ops it may not come inside
 * (a buffered write and each of its rwsemPeers: neither has a step between two of the other's,
 * since both hold the file's i_rwsem across all their steps and the write holds it exclusive).
 * Only ranges of more than one event matter. Undefined where an event has none.
 */
function rwsemLocks(
  n: number,
  peers: ReadonlyMap<OpRecord, OpRecord[]>,
  spans: ReadonlyMap<OpRecord, [number, number]>,
): ([number, number][] | undefined)[] {
  const locks: ([number, number][] | undefined)[] = new Array(n);
  const lock = (inside: [number, number], of: [number, number]) => {
    if (of[1] - of[0] < 2) return;
    for (let i = inside[0]; i < inside[1]; i++) {
      const l = locks[i] ?? [];
      l.push(of);
      locks[i] = l;
    }
  };
  for (const [a, bs] of peers)
    for (const b of bs) {
      const sa = spans.get(a) as [number, number];
      const sb = spans.get(b) as [number, number];
      lock(sb, sa);
      lock(sa, sb);
    }
  return locks;
}

/** Are some but not all of the events [from, to) applied? */
function halfDone(m: Mask, from: number, to: number): boolean {
  let k = 0;
  for (let i = from; i < to; i++) if (maskHas(m, i)) k++;
  return k > 0 && k < to - from;
}

/** A hash of a region: its size, cells and private copies. */
function regionHash(r: Region): number {
  let h = Math.imul(0x811c9dc5 ^ r.size, 0x01000193);
  const cells = r.cells;
  const n = Math.min(r.size, cells.length);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ cells[i], 0x01000193);
  if (r.priv) for (const c of r.priv.cow) h = Math.imul(h ^ c, 0x01000193);
  return h;
}

function sameRegion(a: Region, b: Region): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  const n = Math.min(a.size, a.cells.length);
  if (n !== Math.min(b.size, b.cells.length)) return false;
  if (a.cells !== b.cells) for (let i = 0; i < n; i++) if (a.cells[i] !== b.cells[i]) return false;
  if (a.priv && b.priv) return a.priv.cow.every((c, i) => c === (b.priv as { cow: Uint8Array }).cow[i]);
  return !a.priv && !b.priv;
}

function sameNode(a: Node, b: Node): boolean {
  for (let i = 0; i < a.mask.length; i++) if (a.mask[i] !== b.mask[i]) return false;
  for (const [name, r] of a.state) if (!sameRegion(r, b.state.get(name) as Region)) return false;
  return true;
}

/**
 * The nodes seen so far, exactly: bucketed by hash, compared in full within a bucket (building a
 * string key of every cell was the oracle's hottest spot).
 */
class SeenStates {
  private readonly buckets = new Map<number, Node[]>();
  /**
   * Each region's hash, by object: an effect changes one or two regions and the new state shares
   * the others with its parent (refmodel.ts never changes a region in place), so a node's hash costs
   * the regions its last effect made, not every cell of every region again.
   */
  private readonly regionHashes = new Map<Region, number>();

  /** A hash of a node: its mask and its regions' hashes, in the state's (fixed) key order. */
  private hash(node: Node): number {
    let h = 0x811c9dc5;
    for (const w of node.mask) h = Math.imul(h ^ w, 0x01000193);
    for (const r of node.state.values()) {
      let rh = this.regionHashes.get(r);
      if (rh === undefined) {
        rh = regionHash(r);
        this.regionHashes.set(r, rh);
      }
      h = Math.imul(h ^ rh, 0x01000193);
    }
    return h;
  }

  /** Adds the node unless it was seen; returns whether it was new. */
  add(node: Node): boolean {
    const h = this.hash(node);
    const bucket = this.buckets.get(h);
    if (!bucket) {
      this.buckets.set(h, [node]);
      return true;
    }
    for (const o of bucket) if (sameNode(o, node)) return false;
    bucket.push(node);
    return true;
  }
}

/**
 * The legal states of recent histories, by content. A view depends only on the initial state, the
 * ops with effects (tag, interval, result, effects, alternatives) and the budget, and random
 * schedules of a scenario give the same history again and again (a one-task scenario always; the
 * history's clock ticks only for contended ops), so the search is done once per distinct history,
 * not once per run. A hit is exact: equal hash, then equal content (sameContent), never the hash
 * alone. Only small searches are kept (the runs whose search costs about as much as the model), and
 * the cache is emptied when full: whether a view was found or searched, it is the same view.
 * Histories are complete when judged (world.ts writes an op's record only while the op runs).
 */
class RecentHistories {
  /** Most histories kept before the cache is emptied. */
  static readonly CAPACITY = 64;
  /**
   * Only histories of at most this many ops with effects, and searches of at most MAX_NODES states
   * (the seed scenarios' runs have 1 or 2 ops and at most 31 states): CAPACITY × MAX_NODES states
   * is what the cache may hold, a few MB at most for the files scenarios have.
   */
  static readonly MAX_OPS = 16;
  static readonly MAX_NODES = 256;

  private readonly byHash = new Map<
    number,
    { initial: RefState; ops: OpRecord[]; budget: number; legal: LegalStates }[]
  >();
  private size = 0;
  /** Views found here instead of searched (for tests and the bench). */
  hits = 0;

  find(h: number, initial: RefState, ops: OpRecord[], budget: number): LegalStates | undefined {
    for (const e of this.byHash.get(h) ?? [])
      if (e.budget === budget && sameContent(e.initial, initial) && sameOps(e.ops, ops)) {
        this.hits++;
        return e.legal;
      }
    return undefined;
  }

  remember(h: number, initial: RefState, ops: OpRecord[], budget: number, legal: LegalStates): void {
    if (ops.length > RecentHistories.MAX_OPS || legal.nodeCount() > RecentHistories.MAX_NODES) return;
    if (this.size >= RecentHistories.CAPACITY) this.clear();
    const l = this.byHash.get(h) ?? [];
    l.push({ initial, ops, budget, legal });
    this.byHash.set(h, l);
    this.size++;
  }

  /** Histories held now (a search too large to keep is not one of them). */
  get entries(): number {
    return this.size;
  }

  clear(): void {
    this.byHash.clear();
    this.size = 0;
  }
}

export const recentHistories = new RecentHistories();

/**
 * What a read returned is no input of the search (the oracles compare it with the view): two runs
 * whose reads saw different bytes share a view. Every other field of an op counts.
 */
const NOT_INPUT = 'observed';

function contentHash(initial: RefState, ops: readonly OpRecord[], budget: number): number {
  let h = hashValue(Math.imul(0x811c9dc5 ^ budget, 0x01000193), initial);
  for (const o of ops)
    for (const k in o)
      if (k !== NOT_INPUT) h = hashValue(hashString(h, k), (o as unknown as Record<string, unknown>)[k]);
  return h;
}

function sameOps(a: readonly OpRecord[], b: readonly OpRecord[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as unknown as Record<string, unknown>;
    const y = b[i] as unknown as Record<string, unknown>;
    let n = 0;
    for (const k in x) {
      if (k === NOT_INPUT) continue;
      n++;
      if (!(k in y) || !sameContent(x[k], y[k])) return false;
    }
    for (const k in y) if (k !== NOT_INPUT) n--;
    if (n !== 0) return false;
  }
  return true;
}

function hashString(h: number, s: string): number {
  h = Math.imul(h ^ s.length, 0x01000193);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** A hash of a value made of numbers, strings, arrays, typed arrays, Maps and plain objects. */
function hashValue(h: number, v: unknown): number {
  if (typeof v === 'number') return Math.imul(h ^ (v | 0), 0x01000193);
  if (typeof v === 'string') return hashString(h, v);
  if (v === null || typeof v !== 'object') return Math.imul(h ^ (v === true ? 1 : 2), 0x01000193);
  if (ArrayBuffer.isView(v)) {
    // A sample of the cells: a hit compares them all (sameContent), so the hash only sorts.
    const a = v as Uint32Array;
    h = Math.imul(h ^ a.length, 0x01000193);
    const step = Math.max(1, a.length >>> 4);
    for (let i = 0; i < a.length; i += step) h = Math.imul(h ^ a[i], 0x01000193);
    return h;
  }
  if (Array.isArray(v)) {
    h = Math.imul(h ^ v.length, 0x01000193);
    for (const x of v) h = hashValue(h, x);
    return h;
  }
  if (v instanceof Map) {
    for (const [k, x] of v) h = hashValue(hashValue(h, k), x);
    return h;
  }
  for (const k in v) h = hashValue(hashString(h, k), (v as Record<string, unknown>)[k]);
  return h;
}

/** Deep equality of such values (typed arrays by element, Maps by entry). */
function sameContent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || a.constructor !== b.constructor) return false;
    const x = a as Uint32Array;
    const y = b as Uint32Array;
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameContent(a[i], b[i])) return false;
    return true;
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map) || !(b instanceof Map) || a.size !== b.size) return false;
    for (const [k, x] of a) if (!b.has(k) || !sameContent(x, b.get(k))) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let n = 0;
  for (const k in x) {
    n++;
    if (!(k in y) || !sameContent(x[k], y[k])) return false;
  }
  for (const _ in y) n--;
  return n === 0;
}

/** Which ops of a partition a window requires applied (must), forbids (mustNot, self). */
type Constraint = (op: OpRecord) => 'must' | 'not' | 'free';

const ZERO = cell(TAG_ZERO, 0);

class LegalStates implements Legal {
  constructor(
    readonly initial: RefState,
    readonly ops: readonly OpRecord[],
    private readonly parts: Part[],
    private readonly owners: Owners,
    readonly inconclusive: string | undefined,
  ) {}

  /** States kept over all partitions (what the cache of recent histories holds). */
  nodeCount(): number {
    return this.parts.reduce((n, p) => n + p.nodes.length, 0);
  }

  get cost(): { events: number; states: number } {
    return { events: this.parts.reduce((n, p) => n + p.events.length, 0), states: this.nodeCount() };
  }

  /**
   * This view for another run's history of equal content: its own initial state and ops, and
   * each of its ops asked about as the op at the same place here (windows tell ops apart by
   * identity; an op without effects, a plain read, is compared by its interval only).
   */
  boundTo(initial: RefState, ops: readonly OpRecord[]): Legal {
    const here = (op: OpRecord): OpRecord => {
      const i = ops.indexOf(op);
      return i < 0 ? op : this.ops[i];
    };
    return {
      initial,
      ops,
      inconclusive: this.inconclusive,
      cost: this.cost,
      during: (op) => this.during(here(op)),
      after: (op) => this.after(here(op)),
      returned: (op) => this.returned(here(op)),
      closestFinal: (region, settled) => this.closestFinal(region, settled),
    };
  }

  during(r: OpRecord): Window {
    return this.window((w) => {
      if (w === r || w.start > r.end) return 'not';
      return completedBefore(w, r) ? 'must' : 'free';
    });
  }

  after(f: OpRecord): Window {
    return this.window((w) => (completedBefore(w, f) ? 'must' : 'free'));
  }

  returned(r: OpRecord): Window {
    return this.window((w) => {
      if (w === r) return 'must';
      if (w.start > r.end) return 'not';
      return completedBefore(w, r) ? 'must' : 'free';
    });
  }

  closestFinal(region: string, settled: Region): Region | null {
    const init = this.initial.get(region) as Region;
    const segs = this.owners.get(region) ?? [];
    const whole = segs.length === 1 && segs[0].start === 0 && segs[0].end === Number.POSITIVE_INFINITY;
    if (whole) return this.closestWhole(this.parts[segs[0].part], region, settled);
    // The size never changes: unowned bytes keep their initial value, owned ones come from the
    // partition's final state closest to what settled on its bytes.
    const best = new Map<number, Region>();
    let differs = settled.size !== init.size || unownedDiffer(init, settled, segs);
    for (const s of segs) {
      const p = this.parts[s.part];
      if (!p.complete || best.has(s.part)) continue;
      const mine = segs.filter((x) => x.part === s.part);
      let min = Number.POSITIVE_INFINITY;
      for (const n of this.finals(p)) {
        const r = n.state.get(region) as Region;
        let diff = 0;
        for (const m of mine) diff += diffRange(r, settled, m.start, m.end);
        if (diff < min) {
          min = diff;
          best.set(s.part, r);
        }
        if (diff === 0) break;
      }
      if (min > 0) differs = true;
    }
    if (!differs) return null;
    const ref = { size: init.size, cells: init.cells.slice() };
    for (const s of segs) {
      const from = this.parts[s.part].complete ? best.get(s.part) : settled;
      if (from) copyRange(from, ref, s.start, s.end);
    }
    return ref;
  }

  private closestWhole(p: Part, region: string, settled: Region): Region | null {
    if (!p.complete) return null;
    let best: { diff: number; ref: Region } | null = null;
    for (const n of this.finals(p)) {
      const ref = n.state.get(region) as Region;
      let diff = Math.abs(ref.size - settled.size) * 2;
      for (let b = 0; b < Math.min(ref.size, settled.size); b++)
        if (ref.cells[b] !== settled.cells[b]) diff++;
      if (diff === 0) return null;
      if (!best || diff < best.diff) best = { diff, ref };
    }
    return best ? best.ref : null;
  }

  /** The partition's states with every event applied (computed once). */
  private finals(p: Part): Node[] {
    if (p.finals) return p.finals;
    const full = new Array<number>((p.events.length + 31) >>> 5).fill(0);
    for (let i = 0; i < p.events.length; i++) full[i >>> 5] |= 1 << (i & 31);
    p.finals = p.nodes.filter((n) => sameMask(n.mask, full));
    return p.finals;
  }

  private window(c: Constraint): Window {
    const byPart: (RefState[] | undefined)[] = [];
    const initialOnly = [this.initial];
    // Reads ask byte after byte of one region: the owner of the last byte is asked first.
    let last: { region: string; start: number; end: number; part: number } | null = null;
    const lookup = (region: string, pos: number): RefState[] | 'undecided' => {
      let part: number;
      if (last && last.region === region && pos >= last.start && pos < last.end) part = last.part;
      else {
        const seg = this.segmentOf(region, pos);
        last = seg ? { region, ...seg } : null;
        part = seg ? seg.part : -1;
      }
      if (part < 0) return initialOnly;
      const p = this.parts[part];
      if (!p.complete) return 'undecided';
      let states = byPart[part];
      if (!states) {
        states = filterNodes(p, c);
        byPart[part] = states;
      }
      return states;
    };
    return {
      allowed: (region, pos, value, pastEof) => {
        const states = lookup(region, pos);
        return states === 'undecided' || !disallowed(states, region, pos, value, pastEof);
      },
      values: (region, pos, pastEof) => {
        const states = lookup(region, pos);
        return states === 'undecided' ? new Set() : allowedAt(states, region, pos, pastEof);
      },
    };
  }

  private segmentOf(region: string, pos: number): { start: number; end: number; part: number } | null {
    const segs = this.owners.get(region);
    if (segs) for (const s of segs) if (pos >= s.start && pos < s.end) return s;
    return null;
  }
}

function sameMask(a: Mask, b: Mask): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The partition's states inside a window. */
function filterNodes(p: Part, c: Constraint): RefState[] {
  const words = (p.events.length + 31) >>> 5;
  const must = new Array<number>(words).fill(0);
  const not = new Array<number>(words).fill(0);
  p.events.forEach((ev, i) => {
    const k = c(ev.op);
    if (k === 'must') must[i >>> 5] |= 1 << (i & 31);
    else if (k === 'not') not[i >>> 5] |= 1 << (i & 31);
  });
  const out: RefState[] = [];
  next: for (const n of p.nodes) {
    for (let w = 0; w < words; w++) {
      const m = n.mask[w];
      if ((m & must[w]) !== must[w] || (m & not[w]) !== 0) continue next;
    }
    out.push(n.state);
  }
  return out;
}

/** Does a byte no partition owns differ from its initial value? */
function unownedDiffer(
  init: Region,
  settled: Region,
  segs: readonly { start: number; end: number }[],
): boolean {
  const n = Math.min(init.size, settled.size);
  let b = 0;
  for (const s of [...segs].sort((x, y) => x.start - y.start)) {
    for (; b < Math.min(s.start, n); b++) if (init.cells[b] !== settled.cells[b]) return true;
    b = Math.max(b, s.end);
  }
  for (; b < n; b++) if (init.cells[b] !== settled.cells[b]) return true;
  return false;
}

function diffRange(a: Region, b: Region, start: number, end: number): number {
  let diff = 0;
  const hi = Math.min(end, a.size, b.size);
  for (let i = start; i < hi; i++) if (a.cells[i] !== b.cells[i]) diff++;
  return diff;
}

function copyRange(from: Region, to: Region, start: number, end: number): void {
  const hi = Math.min(end, from.size, to.size);
  for (let i = start; i < hi; i++) to.cells[i] = from.cells[i];
}

/** The values byte `pos` may hold in some state (none: unconstrained, past EOF in every state). */
function allowedAt(states: RefState[], region: string, pos: number, pastEof: PastEof): Set<number> {
  const out = new Set<number>();
  let past = false;
  for (const s of states) {
    const r = s.get(region) as Region;
    if (pos < r.size) out.add(r.cells[pos]);
    else past = true;
  }
  if (past && out.size > 0) {
    if (pastEof === 'zero') out.add(ZERO);
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
  if (past && (pastEof === 'any' || value === ZERO)) return false;
  return true;
}
