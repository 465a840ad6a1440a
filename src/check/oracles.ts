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
import { cellTag, cellValue, TAG_GARBAGE, TAG_INIT, TAG_ZERO } from '../block/data.js';
import type { Finding } from './finding.js';
import { allEffects, completedBefore, type History, type OpRecord } from './history.js';
import type { Legal, Window } from './linearize.js';
import type { RefState, Region } from './refmodel.js';

export type { Finding } from './finding.js';

/** Names a provenance tag for a reader: an op's label, or what the zero/init/garbage tags mean. */
export function describeTag(tag: number, history: History): string {
  if (tag === TAG_ZERO) return 'zeroes';
  if (tag === TAG_INIT) return 'the initial contents';
  if (tag === TAG_GARBAGE) return 'stale disk contents no operation wrote (a freed or never-written block)';
  const op = history.ops.find((o) => o.tag === tag);
  return op ? `${op.task}'s \`${op.label}\`` : `op #${tag}`;
}

/** The op whose write a cell holds (its provenance tag), or null for zeroes, initial contents, garbage. */
export function opTagOf(c: number, history: History): number | null {
  const tag = cellTag(c);
  return history.ops.some((o) => o.tag === tag) ? tag : null;
}

/**
 * Names the bytes a run of cells holds, from its first cell at byte `pos` of `region`: an op's
 * label, or for the initial contents, whose: the region's own at that offset, or bytes an op moved
 * there (a copy through a buffer, a collapse or an insert), named by every file and offset that
 * held that byte before the tasks started (each file starts with the same pattern, (7p + 1) mod 256
 * at offset p, so a moved byte may have come from any of them).
 */
export function describeCell(
  c: number,
  region: string,
  pos: number,
  history: History,
  initial: RefState,
): string {
  const tag = cellTag(c);
  if (tag !== TAG_INIT) return describeTag(tag, history);
  if (initial.get(region)?.cells[pos] === c) {
    // Its own byte, or the same byte of another file an op copied there: `pwrite f 64 64 buf=pg1`
    // (pg1 maps g at 64) puts g's initial byte 72 at f's 72, equal to f's own (campaign-98307).
    const others = movesBytes(history) ? otherSources(c, initial, region, pos) : [];
    const own = `${region}'s initial contents at offset ${pos}`;
    return others.length ? `${own} (or ${others.join(', or ')}, moved there by an op)` : own;
  }
  return `${initialSources(c, initial)}, moved to offset ${pos} of ${region} by an op`;
}

/** Does some op move bytes from one place to another (a copy through a buffer, a shift)? */
function movesBytes(history: History): boolean {
  return history.ops.some((o) =>
    allEffects(o).some((e) => e.k === 'copy' || e.k === 'collapse' || e.k === 'insert'),
  );
}

/** Each file and offset other than `region` at `pos` whose initial byte is `c`, at most three. */
function otherSources(c: number, initial: RefState, region: string, pos: number): string[] {
  const found = initialOffsets(c, initial).filter((s) => s.name !== region || s.at !== pos);
  const shown = found.slice(0, 3).map((s) => `${s.name}'s at ${s.at}`);
  return found.length > 3 ? [...shown, `${found.length - 3} more`] : shown;
}

/** Every file and offset whose initial byte is `c`, in declaration then offset order. */
function initialOffsets(c: number, initial: RefState): { name: string; at: number }[] {
  const found: { name: string; at: number }[] = [];
  for (const [name, r] of initial) {
    if (r.priv) continue;
    for (let p = 0; p < Math.min(r.size, r.cells.length); p++)
      if (r.cells[p] === c) found.push({ name, at: p });
  }
  return found;
}

/** Every file and offset whose initial byte is `c`: "g's initial contents at offset 72 (or f's at 72)". */
function initialSources(c: number, initial: RefState): string {
  const found = initialOffsets(c, initial).map((s) => `${s.name}'s at ${s.at}`);
  if (found.length === 0) {
    // initCell(p) = (7p + 1) mod 256 and 183 = 7⁻¹ mod 256: the offset it started at, mod 256.
    const from = (183 * (cellValue(c) - 1 + 256)) % 256;
    return `initial contents of offset ${from} (mod 256) of a file no longer that long`;
  }
  const [first, ...rest] = found;
  const head = `${first.replace("'s at ", "'s initial contents at offset ")}`;
  const shown = rest.slice(0, 3);
  const more = rest.length > 3 ? `, or ${rest.length - 3} more` : '';
  return shown.length ? `${head} (or ${shown.join(', or ')}${more})` : head;
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

/**
 * A read's observation is its user buffer as the read returned (src/litmus/world.ts, observe), so
 * when the buffer maps a file, a byte may differ from what the copy put there; each excuse below
 * is a way Linux gets there:
 * - its own earlier piece: a buffered read copies a file page at a time (filemap_read,
 *   copy_folio_to_iter), so into a mapping of the file it reads, `d` bytes ahead, a later piece
 *   reads what an earlier one wrote: byte b then holds what byte b - d was read as.
 * - anything that changed the buffer after the copy: nothing orders copy_to_user (or the DMA of
 *   an O_DIRECT read) against a store through a present PTE, nor against another task's write,
 *   truncate or fallocate of the file the buffer maps, which may land between the copy of a byte
 *   and the read's return (issue 14: `pread f 120 16 buf=sg1` vs `pwrite g 56 16 direct
 *   buf=sg1`, where the write's buffered fallback rewrites g[64,72) after the read filled it).
 *   Excused exactly when some state legal as the read returned (its own copy applied, then any
 *   op that overlapped it, in a real-time order) holds that value at that buffer byte.
 */
function bufferExcuse(r: OpRecord, legal: Legal): (b: number) => boolean {
  const c = r.effects.find((e) => e.k === 'copy' && e.dstIsStore);
  const obs = r.observed;
  if (c?.k !== 'copy' || !obs) return () => false;
  const d = c.dst === c.src ? c.dstOff - c.srcOff : 0;
  const ps = c.pieces ?? 0;
  // Built on the first byte that needs it: most reads have every byte allowed.
  let returned: Window | undefined;
  return (b) => {
    const v = obs.cells[b];
    if (d > 0 && ps && b >= d && Math.floor((c.srcOff + b - d) / ps) < Math.floor((c.srcOff + b) / ps))
      if (obs.cells[b - d] === v) return true;
    returned ??= legal.returned(r);
    return returned.allowed(c.dst, c.dstOff + b, v, 'zero');
  };
}

/** stale-read: checks every completed read against the states legal during its interval. */
export function checkReads(legal: Legal, history: History): Finding[] {
  const findings: Finding[] = [];
  for (const r of history.ops) {
    if (!r.observed || r.ret === null || r.ret < 0) continue;
    const during: Window = legal.during(r);
    const { region, off, cells } = r.observed;
    const excused = bufferExcuse(r, legal);
    const run = firstRun(
      cells.length,
      (b) => !during.allowed(region, off + b, cells[b], 'zero') && !excused(b),
    );
    if (!run) continue;
    const at = off + run.start;
    const got = describeCell(cells[run.start], region, at, history, legal.initial);
    const want = [...during.values(region, at, 'zero')].map((c) =>
      describeCell(c, region, at, history, legal.initial),
    );
    const before = legal.ops.filter((w) => w !== r && completedBefore(w, r));
    const writers = before.map((w) => w.label);
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
      opTags: [r.tag, ...before.map((w) => w.tag)],
    });
  }
  return findings;
}

/** lost-write: the settled file must equal what some complete legal order of the ops leaves. */
export function checkFinal(
  legal: Legal,
  history: History,
  region: string,
  settled: Region,
  reported: string | null,
): Finding | null {
  const ref = legal.closestFinal(region, settled);
  if (!ref) return null;
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
  const want = describeCell(ref.cells[run.start], region, run.start, history, legal.initial);
  const got = describeCell(settled.cells[run.start], region, run.start, history, legal.initial);
  const f: Finding = {
    kind: 'lost-write',
    summary: `bytes [${run.start},${run.end}) of ${region} hold ${got} after everything settled; the closest legal order leaves ${want} there`,
    details: ['settled = all tasks done, dirty pages written back, read from the device'],
    bytes: { region, start: run.start, end: run.end },
    ops: [want, got],
    opTags: [opTagOf(ref.cells[run.start], history), opTagOf(settled.cells[run.start], history)],
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
  initial: RefState,
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
        `${a.name}: ${describeCell(a.cells[run.start], region, run.start, history, initial)}`,
        `${b.name}: ${describeCell(b.cells[run.start], region, run.start, history, initial)}`,
      ],
      bytes: { region, start: run.start, end: run.end },
      ops: [],
    };
  }
  return null;
}

/** durability: what a successful fsync covered must survive a crash. */
export function checkDurability(
  legal: Legal,
  history: History,
  crashed: Map<string, Region>,
): Finding | null {
  for (const f of history.ops) {
    if (!f.synced || f.ret !== 0) continue;
    const synced = f.synced;
    const disk = crashed.get(synced);
    if (!disk) continue;
    const after = legal.after(f);
    const [lo, hi] = f.syncedRange ?? [0, disk.size];
    const covered = (b: number) => b >= lo && b < hi;
    const run = firstRun(disk.size, (b) => covered(b) && !after.allowed(synced, b, disk.cells[b], 'any'));
    if (!run) continue;
    const want = [
      ...new Set(
        [...after.values(synced, run.start, 'any')].map((c) =>
          describeCell(c, synced, run.start, history, legal.initial),
        ),
      ),
    ];
    return {
      kind: 'durability',
      summary: `after ${f.task}'s \`${f.label}\` returned 0 and the machine crashed, bytes [${run.start},${run.end}) of ${f.synced} hold ${describeCell(disk.cells[run.start], synced, run.start, history, legal.initial)}`,
      details: [`fsync promised ${want.join(' or ')}`],
      bytes: { region: f.synced, start: run.start, end: run.end },
      ops: [f.label],
      opTags: [f.tag],
    };
  }
  return null;
}
