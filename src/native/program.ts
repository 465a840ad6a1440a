/**
 * A scenario as the native helper (litmus.c) runs it: every size scaled from the scenario's page
 * to the host's, the files' initial states, the regions, and each task's ops, each writing bytes
 * that name it. Also what a host cannot express (exit 2 with the reason): a page larger than the
 * host's, O_DIRECT or a fallocate mode the filesystem lacks, reclaim on cue, DAX, too many ops
 * to name in a byte.
 */

import { TAG_FIRST_OP } from '../block/data.js';
import { FALLOC_BITS, FALLOC_FL_KEEP_SIZE, type HostFeatures } from '../fsx/differential.js';
import type { FileInit, Op, Scenario } from '../litmus/ast.js';

/** The host cannot run this scenario as written: one line, exit 2. */
export class NativeUnsupported extends Error {}

/** Op tags are bytes 3..127; the initial contents of a file are the bytes 128..255. */
export const TAG_BYTE_MAX = 127;
export const INIT_BYTE_BASE = 128;

export interface Scaling {
  /** Host bytes per scenario byte: host page / scenario page. */
  factor: number;
  host: HostFeatures;
  /** The scenario's sector (O_DIRECT alignment) as the host's: host sector / factor, at least 1. */
  modelSector: number;
  /** Differences between the scaled scenario and the host worth saying (block size). */
  notes: string[];
}

const INIT_CODE: Record<FileInit, number> = { written: 0, unwritten: 1, hole: 2, cached: 3, dirty: 4 };
/** The helper's op kinds (enum kind in litmus.c). */
const KIND = {
  pread: 0,
  pwrite: 1,
  load: 2,
  store: 3,
  fallocate: 4,
  truncate: 5,
  fsync: 6,
  fdatasync: 7,
  writeback: 8,
  msync: 9,
  evict: 10,
} as const;
/** Limits of litmus.c (MAX_FILES, MAX_REGIONS, MAX_TASKS). */
const FILES_MAX = 16;
const REGIONS_MAX = 32;
const TASKS_MAX = 16;

/** Names DAX schemes: the host's files are not DAX unless mounted -o dax (not probed: refused). */
const DAX_SCHEMES = new Set(['dax', 'dax2017']);

export function scalingFor(sc: Scenario, host: HostFeatures): Scaling {
  if (host.page % sc.pageSize !== 0)
    throw new NativeUnsupported(
      `page ${sc.pageSize} does not divide the host's page ${host.page}: sizes cannot be scaled`,
    );
  const factor = host.page / sc.pageSize;
  const notes: string[] = [];
  if (sc.blockSize * factor !== host.block)
    notes.push(
      `block ${sc.blockSize} scales to ${sc.blockSize * factor} bytes, the host's filesystem block is ${host.block}: ` +
        'the host cannot change it, so O_DIRECT writes may be sub-block there',
    );
  let modelSector = Math.max(1, Math.floor(Math.max(1, host.sector) / factor));
  if (sc.blockSize % modelSector !== 0) {
    notes.push(
      `the host's O_DIRECT alignment ${host.sector} is ${modelSector} scenario bytes, more than the block ${sc.blockSize}: ` +
        'the model is compared with its sector at the block',
    );
    modelSector = sc.blockSize;
  }
  return { factor, host, modelSector, notes };
}

function ops(sc: Scenario): Op[] {
  return sc.tasks.flatMap((t) => t.ops);
}

/** Throws NativeUnsupported with the first reason the host cannot run `sc` (compared with `scheme`). */
export function checkExpressible(sc: Scenario, s: Scaling, scheme: string | null): void {
  const h = s.host;
  const all = ops(sc);
  const fail = (why: string): never => {
    throw new NativeUnsupported(`${sc.name}: ${why}`);
  };
  if (scheme && DAX_SCHEMES.has(scheme))
    fail(`scheme ${scheme} models a DAX filesystem; the host's files go through the page cache`);
  if (sc.reclaim > 0) fail('`reclaim` needs kswapd to reclaim a folio on cue, which no system call does');
  if (TAG_FIRST_OP + all.length - 1 > TAG_BYTE_MAX)
    fail(`${all.length} ops: at most ${TAG_BYTE_MAX - TAG_FIRST_OP + 1} can each be named by a byte`);
  if (sc.tasks.length > TASKS_MAX) fail(`${sc.tasks.length} tasks: the helper runs at most ${TASKS_MAX}`);
  if (sc.files.length > FILES_MAX) fail(`${sc.files.length} files: the helper makes at most ${FILES_MAX}`);
  if (sc.maps.length + sc.bufs.length > REGIONS_MAX) fail(`more than ${REGIONS_MAX} maps and buffers`);
  const direct = all.some((o) => (o.op === 'pread' || o.op === 'pwrite') && o.direct);
  if (direct && !h.direct) fail(`the host filesystem (${h.fstype}) has no O_DIRECT (open fails)`);
  if (!h.direct) fail(`the host filesystem (${h.fstype}) has no O_DIRECT, which the settled read-back needs`);
  const needs = new Map<string, boolean>([
    ['fallocate(0)', h.alloc],
    ['FALLOC_FL_KEEP_SIZE', h.keep_size],
    ['FALLOC_FL_PUNCH_HOLE', h.punch],
    ['FALLOC_FL_ZERO_RANGE', h.zero],
    ['FALLOC_FL_COLLAPSE_RANGE', h.collapse],
    ['FALLOC_FL_INSERT_RANGE', h.insert],
  ]);
  const need = (what: string) => {
    if (!needs.get(what)) fail(`the host filesystem (${h.fstype}) does not support ${what}`);
  };
  for (const f of sc.files) if (f.init === 'unwritten' || f.init === 'dirty') need('fallocate(0)');
  for (const o of all) {
    if (o.op !== 'fallocate') continue;
    need(
      {
        alloc: 'fallocate(0)',
        punch: 'FALLOC_FL_PUNCH_HOLE',
        zero: 'FALLOC_FL_ZERO_RANGE',
        collapse: 'FALLOC_FL_COLLAPSE_RANGE',
        insert: 'FALLOC_FL_INSERT_RANGE',
      }[o.mode],
    );
    if (o.keepSize && o.mode !== 'punch') need('FALLOC_FL_KEEP_SIZE');
  }
}

/** Region numbers in the helper: maps first, then buffers, in declaration order. */
export function regionNumbers(sc: Scenario): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of sc.maps) out.set(m.name, out.size);
  for (const b of sc.bufs) out.set(b.name, out.size);
  return out;
}

function fileNumbers(sc: Scenario): Map<string, number> {
  return new Map(sc.files.map((f, i) => [f.name, i]));
}

/** The helper's `op` line for one op with tag `tag`, sizes multiplied by f. */
function opLine(
  o: Op,
  tag: number,
  f: number,
  hostPage: number,
  file: Map<string, number>,
  region: Map<string, number>,
): string {
  const n = (x: number) => x * f;
  const args = (...xs: number[]) => {
    const a = [...xs];
    while (a.length < 7) a.push(0);
    return a.join(' ');
  };
  const k = KIND[o.op];
  switch (o.op) {
    case 'pread':
    case 'pwrite': {
      const buf = o.buf ? (region.get(o.buf.region) as number) : -1;
      const bufOff = o.buf ? n(o.buf.offset) : 0;
      return `op ${k} ${args(file.get(o.file) as number, n(o.off), n(o.len), o.direct ? 1 : 0, buf, bufOff, tag)}`;
    }
    case 'load':
    case 'store':
      return `op ${k} ${args(region.get(o.addr.region) as number, n(o.addr.offset), n(o.len), tag)}`;
    case 'fallocate': {
      const bits = FALLOC_BITS[o.mode] | (o.keepSize ? FALLOC_FL_KEEP_SIZE : 0);
      return `op ${k} ${args(file.get(o.file) as number, bits, n(o.off), n(o.len))}`;
    }
    case 'truncate':
      return `op ${k} ${args(file.get(o.file) as number, n(o.size))}`;
    case 'fsync':
    case 'fdatasync':
    case 'writeback':
      return `op ${k} ${args(file.get(o.file) as number)}`;
    case 'msync':
      return `op ${k} ${args(region.get(o.addr.region) as number, n(o.addr.offset), n(o.len))}`;
    case 'evict':
      // invalidate_mapping_pages of the page holding `off` (src/litmus/world.ts execOp 'evict').
      return `op ${k} ${args(file.get(o.file) as number, Math.floor(n(o.off) / hostPage) * hostPage, hostPage)}`;
  }
}

export interface RunParams {
  iterations: number;
  seed: number;
  /** Largest random spin before a task's first op (busy-loop iterations). */
  delaySpinsMax: number;
  /** The watchdog: an iteration that takes longer is `hung`. */
  timeoutMs: number;
}

/** The scenario's bytes per "init unit": the initial contents name their scenario block. */
export function initUnit(sc: Scenario, s: Scaling): number {
  return sc.blockSize * s.factor;
}

/** The program litmus.c reads on stdin. */
export function programText(sc: Scenario, s: Scaling, p: RunParams): string {
  const f = s.factor;
  const file = fileNumbers(sc);
  const region = regionNumbers(sc);
  const lines = [`run ${p.iterations} ${p.seed >>> 0} ${p.delaySpinsMax} ${p.timeoutMs} ${initUnit(sc, s)}`];
  for (const d of sc.files) lines.push(`file ${d.size * f} ${INIT_CODE[d.init]}`);
  for (const m of sc.maps)
    lines.push(`map ${file.get(m.file)} ${m.offset * f} ${m.length * f} ${m.shared ? 1 : 0}`);
  for (const b of sc.bufs) lines.push(`buf ${b.size * f}`);
  let tag = TAG_FIRST_OP;
  for (const t of sc.tasks) {
    lines.push('task');
    for (const o of t.ops) lines.push(opLine(o, tag++, f, s.host.page, file, region));
  }
  lines.push('end');
  return `${lines.join('\n')}\n`;
}
