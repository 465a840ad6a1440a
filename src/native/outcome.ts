/**
 * An iteration's outcome, the same for the kernel and the model: each op's result (bytes or
 * -errno), what each read or load saw (which op wrote each byte range), each settled file (fsync,
 * drop the cache, O_DIRECT read-back: src/litmus/world.ts fileViews' `direct`) and what that fsync
 * returned. Sizes are in the scenario's bytes: a kernel range that does not fall on a scaled byte
 * boundary is printed as a fraction, and so never equals a model outcome.
 *
 * The finding kind of a kernel iteration comes from the oracles themselves (src/check): the
 * iteration is turned into the history the model would have recorded — ticks ordered by the
 * CLOCK_MONOTONIC times taken around each call — and judged as the explorer judges a run.
 */
import { allocCells, cell, cellTag, TAG_FIRST_OP, TAG_GARBAGE, TAG_INIT, TAG_ZERO } from '../block/data.js';
import type { Finding, Judgement } from '../check/finding.js';
import type { Effect, History, Observation, OpRecord } from '../check/history.js';
import { linearize } from '../check/linearize.js';
import { checkCoherence, checkFinal, checkReads } from '../check/oracles.js';
import type { RefState } from '../check/refmodel.js';
import type { RunReport } from '../explore/run.js';
import type { Op, Scenario } from '../litmus/ast.js';
import { formatOp } from '../litmus/parse.js';
import { fileViews } from '../litmus/world.js';
import { errnoName } from '../sim/errno.js';
import { INIT_BYTE_BASE, initUnit, type Scaling } from './program.js';

export interface NativeOp {
  ret: number;
  t0: number;
  t1: number;
  data: Uint8Array | null;
}

export interface NativeViews {
  buffered: Uint8Array;
  mmap: Uint8Array;
  direct: Uint8Array;
}

export interface NativeFile {
  size: number;
  fsyncErr: number;
  data: Uint8Array;
}

/** One iteration as the helper printed it (native bytes). */
export interface NativeIteration {
  index: number;
  ops: NativeOp[];
  /** Null: the three quiescent views agreed. */
  views: (NativeViews | null)[];
  files: NativeFile[];
}

export interface HelperRun {
  iterations: NativeIteration[];
  /** The iteration the watchdog caught, or null. */
  hung: number | null;
}

/** "b*n.b*n" → bytes; "-" → empty. */
export function decodeRuns(text: string): Uint8Array {
  if (text === '-') return new Uint8Array(0);
  const runs = text.split('.').map((r) => {
    const m = /^(\d+)\*(\d+)$/.exec(r);
    if (!m || Number(m[1]) > 255) throw new Error(`native helper: bad data run '${r}'`);
    return [Number(m[1]), Number(m[2])];
  });
  const out = new Uint8Array(runs.reduce((n, [, c]) => n + c, 0));
  let at = 0;
  for (const [b, c] of runs) {
    out.fill(b, at, at + c);
    at += c;
  }
  return out;
}

/** The helper's output for a scenario with `opCount` ops and `fileCount` files; throws if malformed. */
export function parseHelperOutput(text: string, opCount: number, fileCount: number): HelperRun {
  const lines = text.split('\n').filter((l) => l !== '');
  const iterations: NativeIteration[] = [];
  let i = 0;
  const bad = (why: string): Error =>
    new Error(`native helper output: ${why} at line ${i + 1}: '${(lines[i] ?? '').slice(0, 80)}'`);
  while (i < lines.length) {
    const head = /^([IH]) (\d+)$/.exec(lines[i]);
    if (!head) throw bad('expected an iteration');
    if (head[1] === 'H') return { iterations, hung: Number(head[2]) };
    if (i + 1 + opCount + 2 * fileCount >= lines.length) {
      // The helper died mid-iteration (the caller reports its status).
      if (lines[i + 1]?.startsWith('H ')) return { iterations, hung: Number(lines[i + 1].slice(2)) };
      throw bad('truncated iteration');
    }
    const it: NativeIteration = { index: Number(head[2]), ops: [], views: [], files: [] };
    i++;
    for (let k = 0; k < opCount; k++, i++) {
      const m = /^O (-?\d+) (-?\d+) (-?\d+) (\S+)$/.exec(lines[i]);
      if (!m) throw bad('expected an op result');
      const data = m[4] === '-' ? null : decodeRuns(m[4]);
      it.ops.push({ ret: Number(m[1]), t0: Number(m[2]), t1: Number(m[3]), data });
    }
    for (let k = 0; k < fileCount; k++, i++) {
      if (lines[i] === 'C same') it.views.push(null);
      else {
        const m = /^C (\S+) (\S+) (\S+)$/.exec(lines[i]);
        if (!m) throw bad('expected the quiescent views');
        it.views.push({ buffered: decodeRuns(m[1]), mmap: decodeRuns(m[2]), direct: decodeRuns(m[3]) });
      }
    }
    for (let k = 0; k < fileCount; k++, i++) {
      const m = /^F (\d+) (-?\d+) (\S+)$/.exec(lines[i]);
      if (!m) throw bad('expected a settled file');
      const data = decodeRuns(m[3]);
      if (data.length !== Number(m[1])) throw bad('settled file length is not its size');
      it.files.push({ size: Number(m[1]), fsyncErr: Number(m[2]), data });
    }
    if (lines[i] !== 'E') throw bad("expected 'E'");
    i++;
    iterations.push(it);
  }
  return { iterations, hung: null };
}

/** Every op in scenario order with its task, tag (as spawnTasks gives them) and `P0.1` name. */
export interface OpInfo {
  op: Op;
  task: string;
  tag: number;
  name: string;
  label: string;
}

export function opInfos(sc: Scenario): OpInfo[] {
  const out: OpInfo[] = [];
  let tag = TAG_FIRST_OP;
  for (const t of sc.tasks)
    t.ops.forEach((op, k) => {
      out.push({ op, task: t.name, tag: tag++, name: `${t.name}.${k + 1}`, label: formatOp(op) });
    });
  return out;
}

/** The outcome: `key` identifies it; `lines` show it. */
export interface Outcome {
  key: string;
  lines: string[];
}

function tagName(tag: number, infos: readonly OpInfo[]): string {
  if (tag === TAG_ZERO) return 'zero';
  if (tag === TAG_INIT) return 'init';
  if (tag === TAG_GARBAGE) return 'garbage';
  return infos.find((o) => o.tag === tag)?.name ?? `op#${tag}`;
}

/** A scaled position as scenario bytes: an integer, or a fraction when it is not on a boundary. */
function unscale(x: number, f: number): string {
  return x % f === 0 ? String(x / f) : `${x}/${f}`;
}

/** "[0,32) P0.1 [32,64) init": runs of equal tags, positions in scenario bytes. */
function segments(tags: ArrayLike<number>, len: number, f: number, infos: readonly OpInfo[]): string {
  if (len === 0) return '(empty)';
  const parts: string[] = [];
  for (let a = 0; a < len; ) {
    let b = a;
    while (b < len && tags[b] === tags[a]) b++;
    parts.push(`[${unscale(a, f)},${unscale(b, f)}) ${tagName(tags[a], infos)}`);
    a = b;
  }
  return parts.join(' ');
}

function retText(ret: number, f: number, bytes: boolean): string {
  if (ret < 0) return `-${errnoName(ret)}`;
  return bytes ? unscale(ret, f) : String(ret);
}

/** Does the model record what this op saw (world.ts: a shared mapping or anonymous memory)? */
function recordsSeen(sc: Scenario, op: Op): boolean {
  if (op.op === 'pread') return true;
  if (op.op !== 'load') return false;
  const map = sc.maps.find((m) => m.name === op.addr.region);
  return !map || map.shared;
}

/** The tag of a byte the helper returned: 0 zeroes, 128..255 the initial contents, else an op. */
export function byteTag(b: number): number {
  if (b === 0) return TAG_ZERO;
  if (b >= INIT_BYTE_BASE) return TAG_INIT;
  return b;
}

function tagsOfBytes(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = byteTag(data[i]);
  return out;
}

function outcomeOf(opLines: string[], fileLines: string[]): Outcome {
  const lines = [...opLines, ...fileLines];
  return { key: lines.join('\n'), lines };
}

function fsyncText(err: number): string {
  return err ? `-${errnoName(err)}` : '0';
}

/** The outcome of one kernel iteration. */
export function nativeOutcome(sc: Scenario, s: Scaling, it: NativeIteration): Outcome {
  const infos = opInfos(sc);
  const f = s.factor;
  const opLines = infos.map((info, k) => {
    const o = it.ops[k];
    const bytes = info.op.op === 'pread' || info.op.op === 'pwrite';
    let line = `${info.name} = ${retText(o.ret, f, bytes)}`;
    if (o.data && o.data.length > 0 && recordsSeen(sc, info.op))
      line += ` saw ${segments(tagsOfBytes(o.data), o.data.length, f, infos)}`;
    return line;
  });
  const fileLines = sc.files.map((d, k) => {
    const file = it.files[k];
    const segs = segments(tagsOfBytes(file.data), file.size, f, infos);
    return `${d.name} settled ${segs}; fsync ${fsyncText(file.fsyncErr)}`;
  });
  return outcomeOf(opLines, fileLines);
}

/** The outcome of one model run (null: a run the explorer abandoned as equivalent). */
export function modelOutcome(sc: Scenario, rep: RunReport): Outcome | null {
  const kind = rep.result.outcome.kind;
  if (kind === 'pruned') return null;
  if (kind !== 'done') return { key: `(${kind})`, lines: [`the run does not finish (${kind})`] };
  const infos = opInfos(sc);
  const ops = new Map(rep.world.history.ops.map((r) => [r.tag, r]));
  const opLines = infos.map((info) => {
    const r = ops.get(info.tag) as OpRecord;
    const bytes = info.op.op === 'pread' || info.op.op === 'pwrite';
    let line = `${info.name} = ${retText(r.ret ?? 0, 1, bytes)}`;
    if (r.observed && r.observed.cells.length > 0) {
      const tags = Array.from(r.observed.cells, cellTag);
      line += ` saw ${segments(tags, tags.length, 1, infos)}`;
    }
    return line;
  });
  const fileLines = sc.files.map((d) => {
    const v = fileViews(rep.world, d.name).direct;
    const inode = rep.world.inodes.get(d.name);
    // What the settling fsync would return: an error its struct file has not seen (errseq).
    const wb = inode?.mapping.wbErr;
    const err = wb && inode && wb.err !== 0 && inode.file.wbErr !== wb.counter ? wb.err : 0;
    const tags = Array.from(v.cells.subarray(0, v.size), cellTag);
    return `${d.name} settled ${segments(tags, v.size, 1, infos)}; fsync ${fsyncText(err)}`;
  });
  return outcomeOf(opLines, fileLines);
}

/** A byte the helper returned as the cell the history records for it (tag, value = the byte). */
function byteCell(b: number): number {
  const tag = byteTag(b);
  return tag === TAG_ZERO ? cell(TAG_ZERO, 0) : cell(tag, b);
}

function cellsOfBytes(data: Uint8Array): Uint32Array {
  const out = allocCells(data.length);
  for (let i = 0; i < data.length; i++) out[i] = byteCell(data[i]);
  return out;
}

function filledCells(len: number, tag: number): Uint32Array {
  const out = allocCells(len);
  out.fill(cell(tag, tag));
  return out;
}

/** The initial state of every file and buffer, in native bytes, as litmus.c sets it up. */
function initialState(sc: Scenario, s: Scaling): RefState {
  const state: RefState = new Map();
  const unit = initUnit(sc, s);
  for (const d of sc.files) {
    const size = d.size * s.factor;
    const cells = allocCells(size);
    if (d.init === 'written' || d.init === 'cached' || d.init === 'dirty')
      for (let p = 0; p < size; p++) cells[p] = cell(TAG_INIT, INIT_BYTE_BASE + (Math.floor(p / unit) % 128));
    state.set(d.name, { size, cells });
  }
  for (const b of sc.bufs)
    state.set(b.name, { size: b.size * s.factor, cells: allocCells(b.size * s.factor) });
  return state;
}

/** Ticks in the order of the CLOCK_MONOTONIC times; at equal times a start goes before an end. */
function ticks(it: NativeIteration): { start: number[]; end: number[] } {
  const ev = it.ops.flatMap((o, k) => [
    { k, t: o.t0, end: 0 },
    { k, t: o.t1, end: 1 },
  ]);
  ev.sort((a, b) => a.t - b.t || a.end - b.end || a.k - b.k);
  const start: number[] = [];
  const end: number[] = [];
  ev.forEach((e, i) => {
    if (e.end) end[e.k] = i + 1;
    else start[e.k] = i + 1;
  });
  return { start, end };
}

/** The source of a user buffer's bytes: the mapped file at its offset, or the anonymous buffer. */
function bufferSource(sc: Scenario, region: string, offset: number, f: number) {
  const map = sc.maps.find((m) => m.name === region);
  return map
    ? { name: map.file, off: (map.offset + offset) * f, file: true, shared: map.shared }
    : { name: region, off: offset * f, file: false, shared: false };
}

/** What the op changed and saw, as src/litmus/world.ts records it for a model run. */
function recordOp(sc: Scenario, s: Scaling, info: OpInfo, o: NativeOp, rec: OpRecord): void {
  const f = s.factor;
  const op = info.op;
  const effects: Effect[] = rec.effects;
  const observe = (region: string, off: number): Observation | null =>
    o.data && o.data.length > 0 ? { region, off, cells: cellsOfBytes(o.data) } : null;
  switch (op.op) {
    case 'pwrite':
      if (o.ret <= 0) return;
      if (!op.buf)
        effects.push({ k: 'write', region: op.file, off: op.off * f, cells: filledCells(o.ret, info.tag) });
      else {
        const src = bufferSource(sc, op.buf.region, op.buf.offset, f);
        effects.push({
          k: 'copy',
          src: src.name,
          srcOff: src.off,
          dst: op.file,
          dstOff: op.off * f,
          len: o.ret,
          dstIsStore: false,
        });
      }
      return;
    case 'pread':
      if (o.ret <= 0) return;
      rec.observed = observe(op.file, op.off * f);
      if (op.buf) {
        const dst = bufferSource(sc, op.buf.region, op.buf.offset, f);
        if (!dst.file || dst.shared)
          effects.push({
            k: 'copy',
            src: op.file,
            srcOff: op.off * f,
            dst: dst.name,
            dstOff: dst.off,
            len: o.ret,
            dstIsStore: dst.file,
          });
      }
      return;
    case 'store': {
      const dst = bufferSource(sc, op.addr.region, op.addr.offset, f);
      if (o.ret === 0 && (dst.shared || !dst.file))
        effects.push({
          k: 'store',
          region: dst.name,
          off: dst.off,
          cells: filledCells(op.len * f, info.tag),
        });
      return;
    }
    case 'load': {
      const src = bufferSource(sc, op.addr.region, op.addr.offset, f);
      if (o.ret === 0 && (src.shared || !src.file)) rec.observed = observe(src.name, src.off);
      return;
    }
    case 'fallocate':
      if (o.ret !== 0) return;
      effects.push(
        op.mode === 'collapse' || op.mode === 'insert'
          ? { k: op.mode, region: op.file, off: op.off * f, len: op.len * f }
          : { k: op.mode, region: op.file, off: op.off * f, len: op.len * f, keepSize: op.keepSize },
      );
      return;
    case 'truncate':
      if (o.ret === 0) effects.push({ k: 'truncate', region: op.file, size: op.size * f });
      return;
    case 'fsync':
    case 'fdatasync':
      rec.synced = op.file;
      return;
    case 'msync': {
      const src = bufferSource(sc, op.addr.region, op.addr.offset, f);
      if (!src.file) return;
      rec.synced = src.name;
      rec.syncedRange = [src.off, src.off + op.len * f];
      return;
    }
    case 'writeback':
    case 'evict':
      return;
  }
}

/** The history the model would have recorded for this iteration (native bytes). */
export function nativeHistory(sc: Scenario, s: Scaling, it: NativeIteration): History {
  const { start, end } = ticks(it);
  const ops = opInfos(sc).map((info, k) => {
    const rec: OpRecord = {
      tag: info.tag,
      task: info.task,
      label: info.label,
      line: info.op.line,
      start: start[k],
      end: end[k],
      ret: it.ops[k].ret,
      effects: [],
      observed: null,
      synced: null,
    };
    recordOp(sc, s, info, it.ops[k], rec);
    return rec;
  });
  return { ops, clock: 2 * ops.length };
}

/**
 * The findings of one kernel iteration under the oracles: stale-read, lost-write (the settled file
 * against every legal order; an error from the settling fsync is noted as reported) and incoherent
 * (the three quiescent views). durability needs a crash, which the runner does not cause. When the
 * checker's budget runs out, the judgement says so (inconclusive), as a model run's does.
 */
export function classifyNative(sc: Scenario, s: Scaling, it: NativeIteration): Judgement {
  const history = nativeHistory(sc, s, it);
  const legal = linearize(initialState(sc, s), history.ops);
  const findings: Finding[] = [...checkReads(legal, history)];
  sc.files.forEach((d, k) => {
    const file = it.files[k];
    const reported = file.fsyncErr ? `${errnoName(file.fsyncErr)} from the settling fsync` : null;
    const lost = checkFinal(
      legal,
      history,
      d.name,
      { size: file.size, cells: cellsOfBytes(file.data) },
      reported,
    );
    if (lost) findings.push(lost);
    const v = it.views[k];
    if (v) {
      const inc = checkCoherence(
        d.name,
        [
          { name: 'a buffered read', cells: cellsOfBytes(v.buffered) },
          { name: 'an mmap read', cells: cellsOfBytes(v.mmap) },
          { name: 'an O_DIRECT read', cells: cellsOfBytes(v.direct) },
        ],
        history,
        legal.initial,
      );
      if (inc) findings.push(inc);
    }
  });
  return legal.inconclusive ? { findings, inconclusive: legal.inconclusive } : { findings };
}

/** The real-time order the oracles see: bit (a,b) set when a ended before b started. */
export function orderSignature(it: NativeIteration): string {
  const { start, end } = ticks(it);
  let sig = '';
  for (let a = 0; a < start.length; a++)
    for (let b = 0; b < start.length; b++) sig += a !== b && end[a] < start[b] ? '1' : '0';
  return sig;
}
