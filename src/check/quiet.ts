/**
 * Which bytes an op's steps touch that another op could see change while the op runs. The checker
 * (linearize.ts) orders some ops as several events, each at its own moment inside the op (an
 * O_DIRECT transfer bio by bio, a buffered copy page by page); a moment only matters if some
 * event that may come between two of them reads or writes the same bytes. Real time orders an op
 * that completed before another was issued wholly before it, so only events of ops that may run
 * concurrently with it can come between: if none of them touches a step's bytes, the step gives
 * the same state wherever it goes inside the op, and linearize.ts folds it into a neighbour.
 *
 * Footprints are over-approximations: a byte read or written in any outcome of the op (its
 * effects and alternatives). They are finer than refmodel.ts's effectSpans, which partitions the
 * history and so must stand for whole private pages and whole resizable files.
 */
import { allEffects, concurrent, type OpRecord } from './history.js';
import { effectSpans, mayResize, pagesBehind, type RefState, type Span } from './refmodel.js';

/** The bytes an op may read and the bytes it may change (each a superset). */
export interface Footprint {
  reads: Span[];
  writes: Span[];
}

/** Asked for one op: may a concurrent op tell when the op touched these bytes? */
export interface Quiet {
  /** Bytes the op reads: does no concurrent op write them (any moment reads the same)? */
  toRead(spans: readonly Span[]): boolean;
  /** Bytes the op writes: does no concurrent op read or write them? */
  toWrite(spans: readonly Span[]): boolean;
}

/**
 * The Quiet of `op` among a partition's ops: those that may run concurrently with it, neither
 * completed before it was issued nor issued after it returned (an op that never returned may come
 * anywhere after its start), with their footprints.
 */
export function quietFor(
  op: OpRecord,
  ops: readonly OpRecord[],
  prints: ReadonlyMap<OpRecord, Footprint>,
): Quiet {
  const others = ops.filter((b) => concurrent(op, b)).map((b) => prints.get(b) as Footprint);
  return {
    toRead: (spans) => others.every((f) => !overlap(spans, f.writes)),
    toWrite: (spans) => others.every((f) => !overlap(spans, f.writes) && !overlap(spans, f.reads)),
  };
}

/** Every op's footprint, for a partition's ops. */
export function footprints(initial: RefState, ops: readonly OpRecord[]): Map<OpRecord, Footprint> {
  const shrinks = shrinking(ops);
  return new Map(ops.map((o) => [o, footprint(initial, o, shrinks)]));
}

/**
 * What an op's effects may read and change:
 * - a user access (userReads, userWrites): its bytes; through a private mapping also the file's
 *   bytes behind them, and for a store the whole file pages behind (the first store to a page
 *   copies it, wp_page_copy). That copy changes no byte the page shows (the file's, as they are
 *   then), only whether later changes of the file show through, and such a change writes the
 *   bytes behind whatever reads the mapping later: it is seen there.
 * - truncate, collapse and insert: their whole file and every private mapping of it (effectSpans:
 *   they move or drop bytes anywhere, and drop COW copies).
 * - an effect that may extend a file: also the file from its offset or the initial size (the
 *   lower) on, and each private mapping of it from there on (what it shows past EOF). Below the
 *   initial size nothing changes, if no op of the partition may make the file shorter (`shrinks`);
 *   if one may, any write of the file may extend it (past the shorter size), and stands for the
 *   whole file.
 */
function footprint(initial: RefState, op: OpRecord, shrinks: ReadonlySet<string>): Footprint {
  const reads: Span[] = [];
  const writes: Span[] = [];
  const grows = (r: string, off: number) => {
    const from = shrinks.has(r) ? 0 : Math.min(off, initial.get(r)?.size ?? 0);
    writes.push({ region: r, start: from, end: Number.POSITIVE_INFINITY });
    for (const [name, m] of initial)
      if (m.priv?.file === r)
        writes.push({
          region: name,
          start: Math.max(0, from - m.priv.fileOff),
          end: Number.POSITIVE_INFINITY,
        });
  };
  for (const e of allEffects(op)) {
    if (e.k === 'write' || e.k === 'store') {
      writes.push(...userWrites(e.region, e.off, e.cells.length));
      reads.push(...userReads(initial, e.region, e.off, e.cells.length, true));
    } else if (e.k === 'copy') {
      reads.push(
        ...userReads(initial, e.src, e.srcOff, e.len, false),
        ...userReads(initial, e.dst, e.dstOff, e.len, true),
      );
      writes.push(...userWrites(e.dst, e.dstOff, e.len));
    } else {
      // punch, zero, alloc write their range; truncate, collapse, insert everything they move.
      const spans = effectSpans(initial, e);
      reads.push(...spans);
      writes.push(...spans);
    }
    const r = mayResize(initial, e);
    if (r) grows(r, e.k === 'copy' ? e.dstOff : 'off' in e ? e.off : 0);
    // Past a size some op made shorter, any write may extend the file (mayResize compares with
    // the initial size): the whole file, then.
    for (const w of new Set(writes.filter((x) => shrinks.has(x.region)).map((x) => x.region))) grows(w, 0);
  }
  return { reads, writes };
}

/**
 * What a user access of [off, off+len) reads: those bytes, and through a private mapping the
 * file's bytes behind them (a page not copied shows the file), or for a store the whole pages
 * behind (the copy a first store makes).
 */
export function userReads(initial: RefState, name: string, off: number, len: number, store: boolean): Span[] {
  const p = initial.get(name)?.priv;
  const own: Span = { region: name, start: off, end: off + len };
  if (!p) return [own];
  if (store) return [own, pagesBehind(p, off, len)];
  return [own, { region: p.file, start: p.fileOff + off, end: p.fileOff + off + len }];
}

/**
 * What a user access of [off, off+len) changes: those bytes of the region (a file behind a shared
 * mapping, a private mapping itself: a store never changes the file behind it).
 */
export function userWrites(name: string, off: number, len: number): Span[] {
  return [{ region: name, start: off, end: off + len }];
}

export function overlap(a: readonly Span[], b: readonly Span[]): boolean {
  for (const x of a)
    for (const y of b) if (x.region === y.region && x.start < y.end && y.start < x.end) return true;
  return false;
}

/** The regions some op may make shorter or shift: truncate, collapse, insert. */
function shrinking(ops: readonly OpRecord[]): Set<string> {
  const out = new Set<string>();
  for (const o of ops)
    for (const e of allEffects(o))
      if (e.k === 'truncate' || e.k === 'collapse' || e.k === 'insert') out.add(e.region);
  return out;
}
