/**
 * fsx's model side, ported from fstests ltp/fsx.c: test() (the random op stream and the replay of
 * an op log), the do*() functions' trimming, skipping, logging and good_buf updates, gendata(),
 * pollute_eofpage(), generate_dest_range(). It issues no system call: each test call yields the
 * log entries fsx would log and the actions fsx would then perform (the system calls and their
 * checks, with the bytes to write and the bytes a read must return), which a runner executes on the
 * pagelab model (run.ts) — the way fsx updates good_buf first and then calls the kernel.
 *
 * Features pagelab's filesystem has as ext4 has them: fallocate (with keep_size), punch hole, zero
 * range, collapse range, insert range, copy_file_range. Never used, as fsx disables them after its
 * probes on ext4: unshare range, clone, dedupe, exchange range; and atomic writes (no device support
 * in the model). Dontcache reads and writes are plain ones (fsx logs them as read and write).
 */

import {
  type LogEntry,
  type LogFlags,
  NO_FLAGS,
  OP_CLONE_RANGE,
  OP_COLLAPSE_RANGE,
  OP_COPY_RANGE,
  OP_DEDUPE_RANGE,
  OP_EXCHANGE_RANGE,
  OP_FALLOCATE,
  OP_FSYNC,
  OP_INSERT_RANGE,
  OP_MAPREAD,
  OP_MAPWRITE,
  OP_MAX_FULL,
  OP_MAX_INTEGRITY,
  OP_MAX_LITE,
  OP_PUNCH_HOLE,
  OP_READ,
  OP_READ_DONTCACHE,
  OP_TRUNCATE,
  OP_WRITE,
  OP_WRITE_ATOMIC,
  OP_WRITE_DONTCACHE,
  OP_ZERO_RANGE,
} from './ops.js';
import { GlibcRandom } from './random.js';

/** fsx's settings, under fsx's names where it has one (the flag in the comment). */
export interface FsxOptions {
  /** -S */
  seed: number;
  /** -l */
  maxfilelen: number;
  /** -o */
  maxoplen: number;
  /** not -O */
  randomoplen: boolean;
  /** -r, -w, -t */
  readbdy: number;
  writebdy: number;
  truncbdy: number;
  /**
   * fsx's global `style` (1: truncates use the op size instead of random() % maxfilelen). Real fsx's
   * -s never sets it (a local in main() shadows it), so the CLI leaves it 0.
   */
  style: number;
  /**
   * -L: fsx lite. The op is `random() % OP_MAX_LITE` (reads, writes, mapped reads and writes, no
   * size change); the file exists beforehand and its length is the maximum (fsx takes it from the
   * file, pagelab from -l), fsx first writes it with zeroes, and every fallocate mode is off.
   */
  lite: boolean;
  /** -g X: write this byte everywhere instead of gendata's pattern (null: the pattern) */
  filldata: number | null;
  /** -c P: 1 in P chance of close, drop caches, reopen at each op (0: never) */
  closeprob: number;
  /** -e 1 */
  polluteEof: boolean;
  /** -y */
  doFsync: boolean;
  /** -X */
  checkFile: boolean;
  /** not -n */
  sizechecks: boolean;
  /** -Z */
  oDirect: boolean;
  /** not -R, not -W */
  mappedReads: boolean;
  mappedWrites: boolean;
  /** not -F, -K, -H, -z, -C, -I, -E */
  fallocateCalls: boolean;
  keepSizeCalls: boolean;
  punchHoleCalls: boolean;
  zeroRangeCalls: boolean;
  collapseRangeCalls: boolean;
  insertRangeCalls: boolean;
  copyRangeCalls: boolean;
  /** fsync in the op mix (fsx's integrity mode -i: op = random() % OP_MAX_INTEGRITY) */
  integrity: boolean;
  /** st_blksize of the test file (collapse, insert, clone rounding) */
  blockSize: number;
  /** getpagesize() */
  pageSize: number;
}

export const FSX_DEFAULTS: FsxOptions = {
  seed: 1,
  maxfilelen: 256 * 1024,
  maxoplen: 64 * 1024,
  randomoplen: true,
  readbdy: 1,
  writebdy: 1,
  truncbdy: 1,
  style: 0,
  lite: false,
  filldata: null,
  closeprob: 0,
  polluteEof: false,
  doFsync: false,
  checkFile: false,
  sizechecks: true,
  oDirect: false,
  mappedReads: true,
  mappedWrites: true,
  fallocateCalls: true,
  keepSizeCalls: true,
  punchHoleCalls: true,
  zeroRangeCalls: true,
  collapseRangeCalls: true,
  insertRangeCalls: true,
  copyRangeCalls: true,
  integrity: false,
  blockSize: 4096,
  pageSize: 4096,
};

/** The fallocate modes fsx uses; 'unshare' (FALLOC_FL_UNSHARE_RANGE) only comes from a replayed log. */
export type FallocKind = 'alloc' | 'punch' | 'zero' | 'collapse' | 'insert' | 'unshare';

/**
 * What fsx does after updating good_buf, with what it then checks. Exit statuses are fsx's:
 * 141 short read, 151 short write, 110 bad data, 160 truncate, 161 fallocate/copy, 201 mapwrite's
 * ftruncate, 205 non-zero bytes past EOF in a mapped EOF page, 120 size, 210 fsync.
 */
export type FsxAction =
  | { k: 'read'; off: number; len: number; expect: Uint8Array }
  | { k: 'mapread'; off: number; len: number; expect: Uint8Array; fileSize: number }
  | { k: 'write'; off: number; data: Uint8Array }
  | { k: 'mapwrite'; off: number; data: Uint8Array; truncateTo: number | null; fileSize: number }
  | { k: 'truncate'; size: number }
  | { k: 'fallocate'; mode: FallocKind; off: number; len: number; keepSize: boolean }
  | { k: 'copy'; src: number; len: number; dst: number }
  | { k: 'fsync'; status: number }
  | { k: 'pollute'; fileSize: number; data: Uint8Array }
  | { k: 'closeopen' }
  | { k: 'checksize'; size: number }
  | { k: 'checkcontents'; expect: Uint8Array }
  | { k: 'fail'; status: number; line: string };

/** One test() call: its number, the entries it logged and the actions it performs, in order. */
export interface TestCall {
  testcalls: number;
  entries: LogEntry[];
  actions: FsxAction[];
}

/**
 * How a replayed log numbers its test calls, which decides the bytes written (testcalls % 256):
 * 'record' counts every line, skip lines included, as the run that recorded the log counted them
 * (so the replay rewrites the bytes that run wrote); 'replay' counts as fsx --replay-ops does, where
 * a skip line is re-logged inside the next test call and does not count.
 */
export type ReplayCounting = 'record' | 'replay';

interface OpArgs {
  op: number;
  offset: number;
  size: number;
  offset2: number;
  keepSize: boolean;
  unshare: boolean;
}

function rounddown(x: number, y: number): number {
  return x - (x % y);
}

/** TRIM_OFF: off %= size (0 when size is 0). A negative size is file_size - 1 of an empty file: ~0UL. */
function trimOff(off: number, size: number): number {
  if (size < 0) return off;
  return size ? off % size : 0;
}

/** TRIM_LEN */
function trimLen(off: number, len: number, size: number): number {
  if (size < 0) return len;
  return off + len > size ? size - off : len;
}

export class Fsx {
  readonly rng: GlibcRandom;
  /** original_buf: maxfilelen bytes of random() % 256 drawn right after srandom(seed). */
  readonly original: Uint8Array;
  /** good_buf: what the file must hold (valid below fileSize). */
  readonly good: Uint8Array;
  fileSize = 0;
  biggest = 0;
  testcalls = 0;
  closeopen = false;
  /** Everything logged so far (fsx keeps the last 10000; pagelab keeps them all). */
  readonly log: LogEntry[] = [];
  private entries: LogEntry[] = [];
  private actions: FsxAction[] = [];
  private replayAt = 0;
  /** What fsx does to the file before the first test call: -L writes it with zeroes. */
  readonly setup: FsxAction[] = [];

  constructor(
    readonly opts: FsxOptions,
    /** Entries to replay (--replay-ops), or null for a random stream. */
    readonly replay: readonly LogEntry[] | null = null,
    private readonly counting: ReplayCounting = 'record',
  ) {
    this.rng = new GlibcRandom(opts.seed);
    this.original = new Uint8Array(opts.maxfilelen);
    for (let i = 0; i < opts.maxfilelen; i++) this.original[i] = this.rng.random() % 256;
    this.good = new Uint8Array(opts.maxfilelen + opts.maxoplen + opts.writebdy);
    if (opts.lite) {
      // main(): file_size = maxfilelen = biggest = the existing file's length, then
      // `write(fd, good_buf, maxfilelen)` of the zeroes calloc() gave good_buf.
      this.fileSize = opts.maxfilelen;
      this.biggest = opts.maxfilelen;
      this.setup.push({ k: 'write', off: 0, data: new Uint8Array(opts.maxfilelen) });
    }
  }

  /** One test() call, or null when a replayed log has run out. */
  test(): TestCall | null {
    this.entries = [];
    this.actions = [];
    this.testcalls++;
    const args = this.replay ? this.nextReplayed() : this.randomOp();
    if (!args) return null;
    if (args.op >= 0) this.haveOp(args);
    if (this.closeopen) this.actions.push({ k: 'closeopen' });
    if (this.opts.sizechecks) this.actions.push({ k: 'checksize', size: this.fileSize });
    return { testcalls: this.testcalls, entries: this.entries, actions: this.actions };
  }

  // --- choosing the op -----------------------------------------------------------------------

  private randomOp(): OpArgs {
    const o = this.opts;
    const rv = this.rng.random();
    if (o.closeprob) this.closeopen = rv >>> 3 < Math.trunc((1 << 28) / o.closeprob);
    const a: OpArgs = {
      op: 0,
      offset: this.rng.random(),
      size: o.maxoplen,
      offset2: 0,
      keepSize: false,
      unshare: false,
    };
    if (o.randomoplen) a.size = this.rng.random() % (o.maxoplen + 1);
    a.op = rv % (o.lite ? OP_MAX_LITE : o.integrity ? OP_MAX_INTEGRITY : OP_MAX_FULL);
    switch (a.op) {
      case OP_TRUNCATE:
        if (!o.style) a.size = this.rng.random() % o.maxfilelen;
        break;
      case OP_FALLOCATE:
        // unshare_range_calls: fsx's probe finds FALLOC_FL_UNSHARE_RANGE unsupported (ext4).
        if (o.fallocateCalls && a.size && o.keepSizeCalls) a.keepSize = this.rng.random() % 2 === 1;
        break;
      case OP_ZERO_RANGE:
        if (o.zeroRangeCalls && a.size && o.keepSizeCalls) a.keepSize = this.rng.random() % 2 === 1;
        break;
      case OP_CLONE_RANGE:
        this.generateDestRange(false, o.maxfilelen, a);
        break;
      case OP_DEDUPE_RANGE:
        this.generateDestRange(false, this.fileSize, a);
        break;
      case OP_COPY_RANGE:
        this.generateDestRange(true, o.maxfilelen, a);
        break;
      case OP_EXCHANGE_RANGE:
        this.generateDestRange(false, this.fileSize, a);
        break;
    }
    return a;
  }

  /** generate_dest_range(): a source inside EOF and a destination that does not overlap it. */
  private generateDestRange(bdyAlign: boolean, maxRangeEnd: number, a: OpArgs): void {
    const o = this.opts;
    a.offset = trimOff(a.offset, this.fileSize);
    a.size = trimLen(a.offset, a.size, this.fileSize);
    if (bdyAlign) {
      a.offset = rounddown(a.offset, o.readbdy);
      if (o.oDirect) a.size = rounddown(a.size, o.readbdy);
    } else {
      a.offset = rounddown(a.offset, o.blockSize);
      a.size = rounddown(a.size, o.blockSize);
    }
    for (let tries = 0; ; tries++) {
      if (tries >= 30) {
        a.size = 0;
        return;
      }
      a.offset2 = rounddown(trimOff(this.rng.random(), maxRangeEnd), bdyAlign ? o.writebdy : o.blockSize);
      if (!(Math.abs(a.offset2 - a.offset) < a.size || a.offset2 + a.size > maxRangeEnd)) return;
    }
  }

  /** The replay loop of test(): skip lines are re-logged; the first real op is this call's. */
  private nextReplayed(): OpArgs | null {
    const entries = this.replay as readonly LogEntry[];
    while (this.replayAt < entries.length) {
      const e = entries[this.replayAt++];
      if (e.flags.skipped) {
        if (this.counting === 'record') {
          // The recording run's own test call: its line as it logged it, its close/open done.
          this.closeopen = e.flags.closeOpen;
          this.pushEntry({ op: e.op, args: [...e.args], flags: { ...e.flags }, line: 0 });
          return { op: -1, offset: 0, size: 0, offset2: 0, keepSize: false, unshare: false };
        }
        // fsx --replay-ops: `log4(op, args[0], args[1], flags)` and on to the next line, in the same
        // test call. log4 takes today's file size and the previous op's close/open, and drops a
        // four-number op's destination (fsx's dump of a replay can be unparsable; so is this one).
        this.log4(e.op, e.args[0], e.args[1], e.flags);
        continue;
      }
      this.closeopen = e.flags.closeOpen;
      return {
        op: e.op,
        offset: e.args[0],
        size: e.args[1],
        offset2: e.args[2],
        keepSize: e.flags.keepSize,
        unshare: e.flags.unshare,
      };
    }
    return null;
  }

  // --- have_op: disabled ops, then trimming and the do*() functions ---------------------------

  private haveOp(a: OpArgs): void {
    const o = this.opts;
    let op = a.op;
    if (op === OP_MAPREAD && !o.mappedReads) op = OP_READ;
    if (op === OP_MAPWRITE && !o.mappedWrites) op = OP_WRITE;
    if (this.disabled(op)) {
      const skip = { ...NO_FLAGS, skipped: true };
      if (op === OP_CLONE_RANGE || op === OP_DEDUPE_RANGE || op === OP_EXCHANGE_RANGE || op === OP_COPY_RANGE)
        this.log5(op, a.offset, a.size, a.offset2, skip);
      else this.log4(op, a.offset, a.size, skip);
      return;
    }
    if (this.dispatch(op, a) && o.checkFile) this.checkContents();
  }

  private disabled(op: number): boolean {
    const o = this.opts;
    switch (op) {
      // __test_fallocate() returns 0 under -L without trying: every fallocate mode is off.
      case OP_FALLOCATE:
      case OP_PUNCH_HOLE:
      case OP_ZERO_RANGE:
      case OP_COLLAPSE_RANGE:
      case OP_INSERT_RANGE:
        if (o.lite) return true;
        break;
    }
    switch (op) {
      case OP_FALLOCATE:
        return !o.fallocateCalls;
      case OP_PUNCH_HOLE:
        return !o.punchHoleCalls;
      case OP_ZERO_RANGE:
        return !o.zeroRangeCalls;
      case OP_COLLAPSE_RANGE:
        return !o.collapseRangeCalls;
      case OP_INSERT_RANGE:
        return !o.insertRangeCalls;
      case OP_COPY_RANGE:
        return !o.copyRangeCalls;
      case OP_CLONE_RANGE:
      case OP_DEDUPE_RANGE:
      case OP_EXCHANGE_RANGE:
      case OP_WRITE_ATOMIC:
        return true;
      default:
        return false;
    }
  }

  /** The main switch of test(). Returns false where fsx jumps to `out:` (no -X check). */
  private dispatch(op: number, a: OpArgs): boolean {
    const o = this.opts;
    const fs = this.fileSize;
    switch (op) {
      case OP_READ:
      case OP_READ_DONTCACHE: {
        const off = trimOff(a.offset, fs);
        this.doread(off, trimLen(off, a.size, fs));
        return true;
      }
      case OP_WRITE:
      case OP_WRITE_DONTCACHE: {
        const off = trimOff(a.offset, o.maxfilelen);
        this.dowrite(off, trimLen(off, a.size, o.maxfilelen));
        return true;
      }
      case OP_MAPREAD: {
        const off = trimOff(a.offset, fs);
        this.domapread(off, trimLen(off, a.size, fs));
        return true;
      }
      case OP_MAPWRITE: {
        const off = trimOff(a.offset, o.maxfilelen);
        this.domapwrite(off, trimLen(off, a.size, o.maxfilelen));
        return true;
      }
      case OP_TRUNCATE:
        this.dotruncate(a.size);
        return true;
      case OP_FSYNC:
        this.dofsync();
        return true;
      default:
        return this.dispatchRange(op, a);
    }
  }

  private dispatchRange(op: number, a: OpArgs): boolean {
    const o = this.opts;
    const fs = this.fileSize;
    switch (op) {
      case OP_FALLOCATE: {
        const off = trimOff(a.offset, o.maxfilelen);
        this.doPreallocate(off, trimLen(off, a.size, o.maxfilelen), a.keepSize, a.unshare);
        return true;
      }
      case OP_PUNCH_HOLE: {
        const off = trimOff(a.offset, fs);
        this.doPunchHole(off, trimLen(off, a.size, fs));
        return true;
      }
      case OP_ZERO_RANGE: {
        const off = trimOff(a.offset, o.maxfilelen);
        this.doZeroRange(off, trimLen(off, a.size, o.maxfilelen), a.keepSize);
        return true;
      }
      case OP_COLLAPSE_RANGE:
        return this.collapseOp(a);
      case OP_INSERT_RANGE:
        return this.insertOp(a);
      case OP_COPY_RANGE:
        return this.copyOp(a);
      default:
        throw new Error(`fsx: unknown operation ${op}`);
    }
  }

  private collapseOp(a: OpArgs): boolean {
    const bs = this.opts.blockSize;
    const off = trimOff(a.offset, this.fileSize - 1);
    const len = rounddown(trimLen(off, a.size, this.fileSize - 1), bs);
    const offset = rounddown(off, bs);
    if (len === 0) {
      this.log4(OP_COLLAPSE_RANGE, offset, len, { ...NO_FLAGS, skipped: true });
      return false;
    }
    this.doCollapseRange(offset, len);
    return true;
  }

  private insertOp(a: OpArgs): boolean {
    const { blockSize: bs, maxfilelen } = this.opts;
    const offset = rounddown(trimOff(a.offset, this.fileSize), bs);
    const len = rounddown(trimLen(this.fileSize, a.size, maxfilelen), bs);
    if (len === 0 || this.fileSize + len > maxfilelen) {
      this.log4(OP_INSERT_RANGE, offset, len, { ...NO_FLAGS, skipped: true });
      return false;
    }
    this.doInsertRange(offset, len);
    return true;
  }

  private copyOp(a: OpArgs): boolean {
    if (a.size === 0 || a.offset2 + a.size > this.opts.maxfilelen) {
      this.log5(OP_COPY_RANGE, a.offset, a.size, a.offset2, { ...NO_FLAGS, skipped: true });
      return false;
    }
    this.doCopyRange(a.offset, a.size, a.offset2);
    return true;
  }

  // --- logging --------------------------------------------------------------------------------

  private logEntry(op: number, args: number[], flags: LogFlags): void {
    const e: LogEntry = { op, args: args.map((x) => x >>> 0), flags: { ...flags }, line: 0 };
    if (this.closeopen) e.flags.closeOpen = true;
    this.pushEntry(e);
  }

  private pushEntry(e: LogEntry): void {
    this.log.push(e);
    this.entries.push(e);
  }

  /** log4(): offset, length, and the file size before the op. */
  private log4(op: number, a0: number, a1: number, flags: LogFlags): void {
    this.logEntry(op, [a0, a1, this.fileSize], flags);
  }

  /** log5(): offset, length, destination, file size. */
  private log5(op: number, a0: number, a1: number, a2: number, flags: LogFlags): void {
    this.logEntry(op, [a0, a1, a2, this.fileSize], flags);
  }

  // --- good_buf ------------------------------------------------------------------------------

  /** gendata(): testcalls % 256, plus original_buf at odd offsets (char arithmetic); -g X: X. */
  private gendata(dst: Uint8Array, offset: number, size: number): void {
    if (this.opts.filldata !== null) {
      dst.fill(this.opts.filldata, offset, offset + size);
      return;
    }
    const base = this.testcalls % 256;
    for (let p = offset; p < offset + size; p++) dst[p] = (base + (p % 2 ? this.original[p] : 0)) & 0xff;
  }

  private slice(off: number, len: number): Uint8Array {
    return this.good.slice(off, off + len);
  }

  /** update_file_size(): a range starting past EOF zero-fills the gap (after -e's pollution). */
  private updateFileSize(offset: number, size: number): void {
    if (offset > this.fileSize) {
      this.polluteEofpage(offset + size);
      this.good.fill(0, this.fileSize, offset);
    }
    this.fileSize = offset + size;
  }

  /** pollute_eofpage(): with -e 1, store gendata bytes past EOF in the EOF page through a mapping. */
  private polluteEofpage(maxoff: number): void {
    if (!this.opts.polluteEof) return;
    const ps = this.opts.pageSize;
    const pgOffset = this.fileSize % ps;
    if (!pgOffset) return;
    const writeSize = Math.min(ps - pgOffset, maxoff - this.fileSize);
    const page = new Uint8Array(ps);
    this.gendata(page, pgOffset, writeSize);
    this.actions.push({
      k: 'pollute',
      fileSize: this.fileSize,
      data: page.slice(pgOffset, pgOffset + writeSize),
    });
  }

  // --- the do*() functions -------------------------------------------------------------------

  private doread(offset0: number, size0: number): void {
    const o = this.opts;
    const offset = rounddown(offset0, o.readbdy);
    const size = o.oDirect ? rounddown(size0, o.readbdy) : size0;
    if (size === 0 || size + offset > this.fileSize) {
      this.log4(OP_READ, offset, size, { ...NO_FLAGS, skipped: true });
      return;
    }
    this.log4(OP_READ, offset, size, NO_FLAGS);
    this.actions.push({ k: 'read', off: offset, len: size, expect: this.slice(offset, size) });
  }

  private domapread(offset0: number, size: number): void {
    const offset = rounddown(offset0, this.opts.readbdy);
    if (size === 0 || size + offset > this.fileSize) {
      this.log4(OP_MAPREAD, offset, size, { ...NO_FLAGS, skipped: true });
      return;
    }
    this.log4(OP_MAPREAD, offset, size, NO_FLAGS);
    this.actions.push({
      k: 'mapread',
      off: offset,
      len: size,
      expect: this.slice(offset, size),
      fileSize: this.fileSize,
    });
  }

  private dowrite(offset0: number, size0: number): void {
    const o = this.opts;
    const offset = rounddown(offset0, o.writebdy);
    const size = o.oDirect ? rounddown(size0, o.writebdy) : size0;
    if (size === 0) {
      this.log4(OP_WRITE, offset, size, { ...NO_FLAGS, skipped: true });
      return;
    }
    this.log4(OP_WRITE, offset, size, NO_FLAGS);
    this.gendata(this.good, offset, size);
    if (offset + size > this.fileSize) {
      this.updateFileSize(offset, size);
      if (o.lite) this.actions.push({ k: 'fail', status: 149, line: 'Lite file size bug in fsx!' });
    }
    this.actions.push({ k: 'write', off: offset, data: this.slice(offset, size) });
    if (o.doFsync) this.actions.push({ k: 'fsync', status: 152 });
  }

  private domapwrite(offset0: number, size: number): void {
    const offset = rounddown(offset0, this.opts.writebdy);
    if (size === 0) {
      this.log4(OP_MAPWRITE, offset, size, { ...NO_FLAGS, skipped: true });
      return;
    }
    const cur = this.fileSize;
    this.log4(OP_MAPWRITE, offset, size, NO_FLAGS);
    this.gendata(this.good, offset, size);
    if (offset + size > this.fileSize) {
      this.updateFileSize(offset, size);
      if (this.opts.lite) this.actions.push({ k: 'fail', status: 200, line: 'Lite file size bug in fsx!' });
    }
    this.actions.push({
      k: 'mapwrite',
      off: offset,
      data: this.slice(offset, size),
      truncateTo: this.fileSize > cur ? this.fileSize : null,
      fileSize: this.fileSize,
    });
  }

  private dotruncate(size0: number): void {
    const size = rounddown(size0, this.opts.truncbdy);
    if (size > this.biggest) this.biggest = size;
    this.log4(OP_TRUNCATE, 0, size, NO_FLAGS);
    if (size < this.fileSize) this.polluteEofpage(this.opts.maxfilelen);
    this.updateFileSize(size, 0);
    this.actions.push({ k: 'truncate', size });
  }

  private doPunchHole(offset: number, length: number): void {
    if (length === 0 || this.fileSize <= offset) {
      this.log4(OP_PUNCH_HOLE, offset, length, { ...NO_FLAGS, skipped: true });
      return;
    }
    this.log4(OP_PUNCH_HOLE, offset, length, NO_FLAGS);
    this.actions.push({ k: 'fallocate', mode: 'punch', off: offset, len: length, keepSize: true });
    const maxOffset = Math.min(offset, this.fileSize);
    const maxLen = maxOffset + length <= this.fileSize ? length : this.fileSize - maxOffset;
    this.good.fill(0, maxOffset, maxOffset + maxLen);
  }

  private doZeroRange(offset: number, length: number, keepSize: boolean): void {
    const flags = { ...NO_FLAGS, keepSize };
    if (length === 0) {
      this.log4(OP_ZERO_RANGE, offset, length, { ...flags, skipped: true });
      return;
    }
    const end = keepSize ? 0 : offset + length;
    if (end > this.biggest) this.biggest = end;
    this.log4(OP_ZERO_RANGE, offset, length, flags);
    if (!keepSize && end > this.fileSize) this.updateFileSize(offset, length);
    this.actions.push({ k: 'fallocate', mode: 'zero', off: offset, len: length, keepSize });
    this.good.fill(0, offset, offset + length);
  }

  private doCollapseRange(offset: number, length: number): void {
    const end = offset + length;
    if (end >= this.fileSize) {
      this.log4(OP_COLLAPSE_RANGE, offset, length, { ...NO_FLAGS, skipped: true });
      return;
    }
    this.log4(OP_COLLAPSE_RANGE, offset, length, NO_FLAGS);
    this.polluteEofpage(this.opts.maxfilelen);
    this.actions.push({ k: 'fallocate', mode: 'collapse', off: offset, len: length, keepSize: false });
    this.good.copyWithin(offset, end, this.fileSize);
    this.fileSize -= length;
  }

  private doInsertRange(offset: number, length: number): void {
    if (offset >= this.fileSize) {
      this.log4(OP_INSERT_RANGE, offset, length, { ...NO_FLAGS, skipped: true });
      return;
    }
    this.log4(OP_INSERT_RANGE, offset, length, NO_FLAGS);
    this.polluteEofpage(this.opts.maxfilelen);
    this.actions.push({ k: 'fallocate', mode: 'insert', off: offset, len: length, keepSize: false });
    this.good.copyWithin(offset + length, offset, this.fileSize);
    this.good.fill(0, offset, offset + length);
    this.fileSize += length;
  }

  /** do_preallocate(): fallocate mode 0 or KEEP_SIZE; grows the file (with zeroes) unless keep_size. */
  private doPreallocate(offset: number, length: number, keepSize: boolean, unshare: boolean): void {
    const flags = { ...NO_FLAGS, keepSize, unshare };
    if (length === 0) {
      this.log4(OP_FALLOCATE, offset, length, { ...flags, skipped: true });
      return;
    }
    const end = keepSize ? 0 : offset + length;
    if (end > this.biggest) this.biggest = end;
    this.log4(OP_FALLOCATE, offset, length, flags);
    if (end > this.fileSize) {
      this.good.fill(0, this.fileSize, end);
      this.updateFileSize(offset, length);
    }
    this.actions.push({
      k: 'fallocate',
      mode: unshare ? 'unshare' : 'alloc',
      off: offset,
      len: length,
      keepSize,
    });
  }

  private doCopyRange(offset: number, length: number, dest: number): void {
    if (length === 0 || offset >= this.fileSize) {
      this.log5(OP_COPY_RANGE, offset, length, dest, { ...NO_FLAGS, skipped: true });
      return;
    }
    if (dest + length > this.biggest) this.biggest = dest + length;
    this.log5(OP_COPY_RANGE, offset, length, dest, NO_FLAGS);
    if (dest + length > this.fileSize) this.updateFileSize(dest, length);
    this.actions.push({ k: 'copy', src: offset, len: length, dst: dest });
    this.good.copyWithin(dest, offset, offset + length);
  }

  private dofsync(): void {
    this.log4(OP_FSYNC, 0, 0, NO_FLAGS);
    this.actions.push({ k: 'fsync', status: 210 });
  }

  /** check_contents() (-X): read the whole file (readbdy-rounded under -Z) and compare. */
  private checkContents(): void {
    const o = this.opts;
    const size = o.oDirect ? rounddown(this.fileSize, o.readbdy) : this.fileSize;
    if (size === 0) return;
    this.actions.push({ k: 'checkcontents', expect: this.slice(0, size) });
  }
}
