/**
 * Differential testing against the running kernel: random sequential operation streams (buffered
 * and O_DIRECT reads and writes with aligned and misaligned offsets, lengths and buffers, mmap
 * loads and stores, past EOF too, truncate, every fallocate mode with and without keep-size,
 * copy_file_range, fsync), run on the model here and on a real file by the native helper
 * (native/replay.c); results (errno included), the file size after each op, the bytes every read
 * returned and the final file must be identical. The stream format is the helper's stdin format.
 * docs/fidelity.md says what is compared, what it found, and what the model deliberately does not
 * copy (dioProfile, hostQuirk, Draw.confine).
 */

import type { Scheme } from '../schemes/scheme.js';
import { EFAULT } from '../sim/errno.js';
import { Rng } from '../sim/rng.js';
import type { FallocKind } from './fsx.js';
import { type Geometry, ModelFile, runSequential } from './model.js';

export type RawFalloc = Exclude<FallocKind, 'unshare'>;

export type RawOp =
  | { k: 'W'; off: number; len: number; direct: boolean; bufOff: number; salt: number }
  | { k: 'R'; off: number; len: number; direct: boolean; bufOff: number }
  | { k: 'MW'; off: number; len: number; salt: number }
  | { k: 'MR'; off: number; len: number }
  | { k: 'T'; size: number }
  | { k: 'F'; mode: RawFalloc; keep: boolean; off: number; len: number }
  | { k: 'S' }
  | { k: 'C'; src: number; len: number; dst: number; direct: boolean };

/** What the helper's probe found on the host filesystem. */
export interface HostFeatures {
  fstype: string;
  page: number;
  block: number;
  direct: boolean;
  /** Smallest O_DIRECT alignment accepted (1: no alignment rules, as tmpfs). */
  sector: number;
  alloc: boolean;
  keep_size: boolean;
  punch: boolean;
  zero: boolean;
  collapse: boolean;
  insert: boolean;
  copy: boolean;
}

export function parseProbe(text: string): HostFeatures {
  const kv = new Map<string, string>();
  for (const line of text.trim().split('\n')) {
    const [k, v] = line.split(' ');
    kv.set(k, v);
  }
  const num = (k: string): number => Number(kv.get(k) ?? '0');
  const flag = (k: string): boolean => kv.get(k) === '1';
  return {
    fstype: kv.get('fstype') ?? '?',
    page: num('page'),
    block: num('block'),
    direct: flag('direct'),
    sector: num('sector'),
    alloc: flag('alloc'),
    keep_size: flag('keep_size'),
    punch: flag('punch'),
    zero: flag('zero'),
    collapse: flag('collapse'),
    insert: flag('insert'),
    copy: flag('copy'),
  };
}

/** The byte a writer with `salt` writes at file offset `pos` (pattern() in replay.c). */
export function pattern(salt: number, pos: number): number {
  return (salt * 151 + pos * 7 + Math.floor(pos / 256) * 3 + 1) & 0xff;
}

function patternBytes(salt: number, off: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = pattern(salt, off + i);
  return out;
}

/** fallocate(2)'s mode bits (include/uapi/linux/falloc.h), as the helpers pass them. */
export const FALLOC_BITS: Record<RawFalloc, number> = {
  alloc: 0,
  punch: 0x02,
  zero: 0x10,
  collapse: 0x08,
  insert: 0x20,
};
export const FALLOC_FL_KEEP_SIZE = 0x01;

/** One line of the helper's input. */
export function opLine(o: RawOp): string {
  const b = (x: boolean): number => (x ? 1 : 0);
  switch (o.k) {
    case 'W':
      return `W ${o.off} ${o.len} ${b(o.direct)} ${o.bufOff} ${o.salt}`;
    case 'R':
      return `R ${o.off} ${o.len} ${b(o.direct)} ${o.bufOff}`;
    case 'MW':
      return `MW ${o.off} ${o.len} ${o.salt}`;
    case 'MR':
      return `MR ${o.off} ${o.len}`;
    case 'T':
      return `T ${o.size}`;
    case 'F':
      return `F ${FALLOC_BITS[o.mode] | (o.keep ? FALLOC_FL_KEEP_SIZE : 0)} ${o.off} ${o.len}`;
    case 'S':
      return 'S';
    case 'C':
      return `C ${o.src} ${o.len} ${o.dst} ${b(o.direct)}`;
  }
}

/** An op's result: bytes or -errno, the file's size after it, and for a read the bytes it returned (hex). */
export interface OpOutcome {
  ret: number;
  size: number;
  data: string;
}

export interface StreamOutcome {
  results: OpOutcome[];
  size: number;
  contents: string;
}

const RESULT_LINE = /^(-?\d+) (\d+)(?: ([0-9a-f]+))?$/;
const FILE_LINE = /^size (\d+) ([0-9a-f]*)$/;

/** How many bytes of data the helper prints for this op and result (the bytes a read returned). */
function dataBytes(o: RawOp, ret: number): number {
  if (o.k === 'R') return Math.max(0, ret);
  if (o.k === 'MR') return ret === 0 ? o.len : 0;
  return 0;
}

/**
 * The helper's output for `ops`: exactly one result line per op, then the file. Anything else — a
 * missing or extra line, a malformed number, non-hex data, data whose length is not what the op
 * returned, a file whose length is not its size — throws: a helper that went wrong must fail the
 * test, never compare as a result.
 */
export function parseHelperOutput(text: string, ops: readonly RawOp[]): StreamOutcome {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  const bad = (why: string, line: string): Error =>
    new Error(`helper output: ${why}: '${line.slice(0, 80)}'`);
  if (lines.length !== ops.length + 1)
    throw bad(`${lines.length} lines for ${ops.length} ops`, lines.at(-1) ?? '');
  const results = ops.map((o, i) => {
    const m = RESULT_LINE.exec(lines[i]);
    if (!m) throw bad('not a result line', lines[i]);
    const ret = Number(m[1]);
    const data = m[3] ?? '';
    if (!Number.isSafeInteger(ret) || data.length !== 2 * dataBytes(o, ret)) {
      throw bad(`not what '${opLine(o)}' returns`, lines[i]);
    }
    return { ret, size: Number(m[2]), data };
  });
  const f = FILE_LINE.exec(lines[ops.length]);
  if (!f || f[2].length !== 2 * Number(f[1])) throw bad('not the final file', lines[ops.length]);
  return { results, size: Number(f[1]), contents: f[2] };
}

function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Runs a stream on the model (the sequential schedule); the same outcome format as the helper. */
export async function runOnModel(ops: readonly RawOp[], scheme: Scheme, g: Geometry): Promise<StreamOutcome> {
  const file = new ModelFile(scheme, g);
  const results: OpOutcome[] = [];
  await runSequential(file, ops.length, async (t) => {
    for (const [i, o] of ops.entries()) {
      const r = await execRaw(t, file, o, i + 3);
      results.push({ ret: r.ret, size: file.size, data: r.data });
    }
  });
  const contents = file.contents();
  return { results, size: contents.length, contents: toHex(contents) };
}

async function execRaw(
  t: Parameters<ModelFile['pread']>[0],
  file: ModelFile,
  o: RawOp,
  tag: number,
): Promise<Omit<OpOutcome, 'size'>> {
  const done = (ret: number, data = ''): Omit<OpOutcome, 'size'> => ({ ret, data });
  switch (o.k) {
    case 'W':
      return done(await file.pwrite(t, o.off, patternBytes(o.salt, o.off, o.len), o.direct, tag, o.bufOff));
    case 'R': {
      const r = await file.pread(t, o.off, o.len, o.direct, o.bufOff);
      return done(r.ret, r.ret > 0 ? toHex(r.data) : '');
    }
    case 'MW': {
      const m = file.mmap(o.off, o.len);
      let ret = await m.store(t, o.off, patternBytes(o.salt, o.off, o.len), tag);
      if (ret === 0) ret = await m.msync(t);
      m.munmap();
      return done(ret);
    }
    case 'MR': {
      const m = file.mmap(o.off, o.len);
      const r = await m.load(t, o.off, o.len);
      m.munmap();
      return done(r.ret, r.ret === 0 ? toHex(r.data) : '');
    }
    case 'T':
      return done(await file.truncate(t, o.size));
    case 'F':
      return done(await file.fallocate(t, o.mode, o.off, o.len, o.keep));
    case 'S':
      return done(await file.fsync(t));
    case 'C':
      return done(await file.copyFileRange(t, o.src, o.len, o.dst, o.direct, tag));
  }
}

/** The kinds of op a stream draws from; a kind the host lacks is left out (and reported). */
export type OpKind =
  | 'write'
  | 'read'
  | 'direct'
  | 'mapwrite'
  | 'mapread'
  | 'truncate'
  | 'fallocate'
  | 'keep_size'
  | 'punch'
  | 'zero'
  | 'collapse'
  | 'insert'
  | 'copy'
  | 'fsync';

/** The op kinds the host cannot run, each with the reason. */
export function missingKinds(f: HostFeatures): Map<OpKind, string> {
  const out = new Map<OpKind, string>();
  if (!f.direct) out.set('direct', 'open(O_DIRECT) fails');
  const probes: [OpKind, boolean, string][] = [
    ['fallocate', f.alloc, 'fallocate(0)'],
    ['keep_size', f.keep_size, 'FALLOC_FL_KEEP_SIZE'],
    ['punch', f.punch, 'FALLOC_FL_PUNCH_HOLE'],
    ['zero', f.zero, 'FALLOC_FL_ZERO_RANGE'],
    ['collapse', f.collapse, 'FALLOC_FL_COLLAPSE_RANGE'],
    ['insert', f.insert, 'FALLOC_FL_INSERT_RANGE'],
    ['copy', f.copy, 'copy_file_range'],
  ];
  for (const [k, ok, what] of probes)
    if (!ok) out.set(k, `${what} is not supported (EOPNOTSUPP or ENOSYS in the probe)`);
  return out;
}

/** Offsets and lengths: block-, sector-aligned or arbitrary, small enough to stay in a few pages. */
class Draw {
  readonly rng: Rng;
  constructor(
    seed: number,
    readonly g: HostFeatures,
    readonly maxFile: number,
  ) {
    this.rng = new Rng(seed);
  }

  below(n: number): number {
    return this.rng.below(n);
  }

  chance(p: number): boolean {
    return this.rng.below(1000) < p * 1000;
  }

  /** A position in [0, maxFile): a third block-aligned, a third sector-aligned, a third anywhere. */
  pos(): number {
    const unit = [this.g.block, Math.max(1, this.g.sector), 1][this.below(3)];
    return Math.floor(this.below(this.maxFile) / unit) * unit;
  }

  /** A length in [1, 3 pages]: aligned like pos(). */
  len(): number {
    const unit = [this.g.block, Math.max(1, this.g.sector), 1][this.below(3)];
    return Math.max(unit, Math.floor((1 + this.below(3 * this.g.page)) / unit) * unit);
  }

  /** Mostly aligned O_DIRECT arguments, sometimes off by a little (EINVAL on a real disk). */
  dioAligned(x: number, misalign = true): number {
    const s = Math.max(1, this.g.sector);
    if (misalign && this.chance(0.15)) return x + 1 + this.below(s - 1 || 1);
    return Math.floor(x / s) * s;
  }

  /**
   * The length of an O_DIRECT write whose offset is aligned but whose length or buffer is not,
   * kept inside one fs block (why: drawOp).
   */
  confine(off: number, len: number, bufOff: number): number {
    const s = Math.max(1, this.g.sector);
    if (off % s || (len % s === 0 && bufOff % s === 0)) return len;
    const room = this.g.block - (off % this.g.block);
    return len <= room ? len : 1 + this.below(room);
  }
}

/**
 * Which O_DIRECT argument rules a scheme shares with the host (Linux 6.18, iomap on ext4: offset
 * and length checked per mapped extent, the buffer by the block layer). A scheme that models
 * another path gets aligned O_DIRECT only (offset, length, buffer on the sector), where every path
 * agrees; docs/fidelity.md has the kernel code of each.
 */
export interface DioProfile {
  /** Misaligned O_DIRECT reads are drawn. */
  reads: boolean;
  /** Misaligned O_DIRECT writes (and O_DIRECT copy_file_range) are drawn. */
  writes: boolean;
  /** Why not, when either is false. */
  why: string;
}

const HOST_DIO: DioProfile = { reads: true, writes: true, why: '' };

const DIO_PROFILES: Record<string, DioProfile> = {
  gfs2: {
    reads: true,
    writes: false,
    why: 'gfs2_file_direct_write falls back to buffered I/O when writing beyond EOF, before any alignment check',
  },
  'ext4-pin-block': {
    reads: false,
    writes: false,
    why: 'fs/direct-io.c (ext4 before 5.5) checks alignment up front',
  },
  dax: {
    reads: false,
    writes: false,
    why: 'a DAX file ignores O_DIRECT (xfs_file_read_iter/write_iter: IS_DAX first)',
  },
  btrfs: {
    reads: false,
    writes: false,
    why: "btrfs's check_direct_IO sends I/O not aligned to the fs sector size to the page cache, not modelled",
  },
  bcachefs: {
    reads: false,
    writes: false,
    why: 'bch2_direct_IO_read checks (offset|count) & 511 before EOF; bch2_direct_write checks block alignment',
  },
};
DIO_PROFILES['gfs2-2021'] = DIO_PROFILES.gfs2;
for (const n of ['ext4-pin-skip', 'ext4-pin-fail', 'ext4-pin-bounce'])
  DIO_PROFILES[n] = DIO_PROFILES['ext4-pin-block'];
DIO_PROFILES.dax2017 = DIO_PROFILES.dax;
DIO_PROFILES['bcachefs-fair'] = DIO_PROFILES.bcachefs;

/** The O_DIRECT profile of a scheme (by name): the host's unless listed above. */
export function dioProfile(scheme: string): DioProfile {
  return DIO_PROFILES[scheme] ?? HOST_DIO;
}

const WEIGHTS: [OpKind, number][] = [
  ['write', 5],
  ['read', 4],
  ['direct', 4],
  ['mapwrite', 3],
  ['mapread', 3],
  ['truncate', 2],
  ['fallocate', 2],
  ['punch', 2],
  ['zero', 2],
  ['collapse', 2],
  ['insert', 2],
  ['copy', 2],
  ['fsync', 1],
];

function pickKind(d: Draw, kinds: readonly [OpKind, number][]): OpKind {
  const total = kinds.reduce((s, [, w]) => s + w, 0);
  let r = d.below(total);
  for (const [k, w] of kinds) {
    if (r < w) return k;
    r -= w;
  }
  return kinds[0][0];
}

/** A random stream of `count` ops over a file of up to about `maxFile` bytes, without `missing` kinds. */
export function generateStream(
  seed: number,
  host: HostFeatures,
  count: number,
  maxFile: number,
  missing: ReadonlyMap<OpKind, string>,
  dio: DioProfile = HOST_DIO,
): RawOp[] {
  const d = new Draw(seed, host, maxFile);
  const kinds = WEIGHTS.filter(([k]) => !missing.has(k));
  const ops: RawOp[] = [];
  for (let i = 0; i < count; i++) ops.push(drawOp(d, pickKind(d, kinds), i + 1, missing, dio));
  return ops;
}

/**
 * An O_DIRECT write with an aligned offset and a misaligned length or
 * buffer fails on the extent that is misaligned (iomap_dio_bio_iter) or whose memory is (the block
 * layer) after the extents before it were written: which bytes land depends on where the
 * filesystem's extents end, which is its allocator's choice (ext4's mballoc with its goal blocks;
 * the model allocates the lowest free block). Inside one fs block there is one extent on any
 * layout, so such writes are drawn there. A misaligned offset fails on the first extent: anywhere.
 */
function drawOp(
  d: Draw,
  kind: OpKind,
  salt: number,
  missing: ReadonlyMap<OpKind, string>,
  dio: DioProfile,
): RawOp {
  switch (kind) {
    case 'write':
      return { k: 'W', off: d.pos(), len: d.len(), direct: false, bufOff: d.below(64), salt };
    case 'read':
      return { k: 'R', off: d.pos(), len: d.len(), direct: false, bufOff: d.below(64) };
    case 'direct': {
      const write = d.chance(0.5);
      const mis = write ? dio.writes : dio.reads;
      const off = d.dioAligned(d.pos(), mis);
      let len = d.dioAligned(d.len(), mis) || Math.max(1, d.g.sector);
      const bufOff = d.dioAligned(0, mis);
      if (!write) return { k: 'R', off, len, direct: true, bufOff };
      len = d.confine(off, len, bufOff);
      return { k: 'W', off, len, direct: true, bufOff, salt };
    }
    case 'mapwrite':
      return { k: 'MW', off: d.pos(), len: d.len(), salt };
    case 'mapread':
      return { k: 'MR', off: d.pos(), len: d.len() };
    case 'truncate':
      return { k: 'T', size: d.pos() };
    case 'copy': {
      // With O_DIRECT, do_splice_direct reads the source with ->read_iter into page-aligned pipe
      // pages and writes them with ->write_iter: only offsets and the length can be misaligned, and
      // the length is cut at EOF (generic_copy_file_checks), so even aligned arguments can make a
      // misaligned O_DIRECT read and write: drawn only for schemes with the host's O_DIRECT rules.
      // The write side is confined like an O_DIRECT write.
      const direct = !missing.has('direct') && dio.reads && dio.writes && d.chance(0.25);
      const fix = (x: number): number => (direct ? d.dioAligned(x) : x);
      const src = fix(d.pos());
      let len = Math.max(1, fix(d.len()));
      const dst = fix(d.pos());
      if (direct) len = d.confine(dst, len, 0);
      return { k: 'C', src, len, dst, direct };
    }
    case 'fsync':
      return { k: 'S' };
    default:
      return drawFalloc(d, kind, missing);
  }
}

function drawFalloc(d: Draw, kind: OpKind, missing: ReadonlyMap<OpKind, string>): RawOp {
  const mode: RawFalloc = kind === 'fallocate' ? 'alloc' : (kind as RawFalloc);
  const canKeep = !missing.has('keep_size');
  // PUNCH_HOLE needs KEEP_SIZE; COLLAPSE and INSERT refuse it (EINVAL): both asked sometimes.
  const keep =
    mode === 'punch'
      ? d.chance(0.9)
      : mode === 'collapse' || mode === 'insert'
        ? d.chance(0.1)
        : canKeep && d.chance(0.5);
  return { k: 'F', mode, keep, off: d.pos(), len: d.len() };
}

/** An op of a stream replaced because of a host behaviour the model deliberately lacks. */
export interface QuirkFix {
  index: number;
  op: RawOp;
}

/**
 * Where the host does what the model deliberately does not (docs/fidelity.md): the first op of
 * the stream whose outcome depends on it, with what replaces it, or null. The test replaces it and
 * replays the stream on the host until there is none. Both cases are about bytes a store through a
 * mapping leaves past EOF in the EOF page, which POSIX says must never become file data and which
 * the model zeroes wherever XFS does (xfs_file_write_checks, xfs_setattr_size, writeback):
 *
 * - ext4: ext4_dio_write_iter does not zero the old EOF page past i_size before an extending
 *   O_DIRECT write moves i_size, so those bytes become file data. Such bytes survive in the streams
 *   only in a dirty EOF page left by a store that ran into SIGBUS (an msync after a complete store
 *   writes the page back, and writeback zeroes them); an fsync writes it back too. The O_DIRECT
 *   write (or copy) that starts past EOF is made buffered.
 * - tmpfs: nothing zeroes them ever (shmem has no writeback, and no size change zeroes the EOF
 *   page), so any later extension exposes them. The store is kept within EOF: a mapped write that
 *   would store past EOF in the EOF page is cut at EOF, or becomes a mapped read if it starts there.
 */
export function hostQuirk(
  fstype: string,
  page: number,
  ops: readonly RawOp[],
  kernel: readonly OpOutcome[],
): QuirkFix | null {
  let polluted = false;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    const size = i > 0 ? kernel[i - 1].size : 0;
    const pollutes =
      o.k === 'MW' && size % page !== 0 && o.off < Math.ceil(size / page) * page && o.off + o.len > size;
    if (fstype === TMPFS_MAGIC) {
      if (o.k === 'MW' && pollutes) {
        return {
          index: i,
          op: o.off < size ? { ...o, len: size - o.off } : { k: 'MR', off: o.off, len: o.len },
        };
      }
      continue;
    }
    if (polluted && o.k === 'W' && o.direct && o.off > size) return { index: i, op: { ...o, direct: false } };
    if (polluted && o.k === 'C' && o.direct && o.dst > size) return { index: i, op: { ...o, direct: false } };
    if (pollutes && kernel[i].ret === -EFAULT) polluted = true;
    if (o.k === 'S') polluted = false;
  }
  return null;
}

/** statfs f_type of tmpfs (TMPFS_MAGIC), as the helper's probe prints it. */
export const TMPFS_MAGIC = '0x1021994';
