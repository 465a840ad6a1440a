/**
 * Runs fsx's test calls on the pagelab model and checks them as fsx checks the kernel:
 * check_buffers() on every read and mapped read, check_eofpage() on mapped accesses of the EOF
 * page, check_size() after every call, check_contents() with -X, and the exit status fsx would
 * die with (short read 141, short write 151, bad data 110, size 120, ...).
 */
import { TAG_FIRST_OP } from '../block/data.js';
import type { Scheme } from '../schemes/scheme.js';
import { errnoName } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import { Fsx, type FsxAction, type FsxOptions, type ReplayCounting } from './fsx.js';
import { ModelFile, runSequential } from './model.js';
import type { LogEntry } from './ops.js';

/** fsx's exit status for a process killed by SIGBUS (128 + 7), as a shell reports it. */
export const STATUS_SIGBUS = 135;

export interface FsxFailure {
  /** The status fsx would exit with. */
  status: number;
  /** The test call that failed. */
  testcalls: number;
  /** What fsx would print. */
  lines: string[];
  /** The last bad byte (fsx's badoff, marks log entries with `*`), or -1. */
  badoff: number;
}

export interface FsxRunResult {
  /** Test calls made. */
  testcalls: number;
  /** System calls (and mapped accesses) made on the model. */
  syscalls: number;
  failure: FsxFailure | null;
  /** The model's file at the end (a buffered read of it). */
  contents: Uint8Array;
  log: readonly LogEntry[];
}

class Failed extends Error {
  constructor(readonly failure: Omit<FsxFailure, 'testcalls'>) {
    super(failure.lines[0]);
  }
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function fail(status: number, lines: string[], badoff = -1): never {
  throw new Failed({ status, lines, badoff });
}

/** prterr(): "what: strerror" for a -errno result. */
function errLine(what: string, ret: number): string {
  return `${what}: ${errnoName(ret)}`;
}

function shortAt(buf: Uint8Array, i: number): string {
  const v = ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0);
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/** check_buffers(): compares a read with good_buf; fsx prints the first 16 bad bytes. */
export function checkBuffers(good: Uint8Array, got: Uint8Array, offset: number): void {
  let n = 0;
  let badoff = -1;
  const lines: string[] = [];
  for (let i = 0; i < good.length; i++) {
    if (good[i] === got[i]) continue;
    if (n === 0) {
      lines.push(`READ BAD DATA: offset = ${hex(offset)}, size = ${hex(good.length)}, fname = (model)`);
      lines.push(`${'OFFSET'.padEnd(10)}  ${'GOOD'.padEnd(6)}  ${'BAD'.padEnd(6)}  RANGE`);
    }
    if (n < 16) {
      lines.push(`${hex(offset + i).padEnd(10)}  ${shortAt(good, i)}  ${shortAt(got, i)}  ${hex(n)}`);
      const op = got[(offset + i) % 2 ? i + 1 : i] ?? 0;
      lines.push(
        op
          ? `operation# (mod 256) for the bad data may be ${op}`
          : 'operation# (mod 256) for the bad data unknown, check HOLE and EXTEND ops',
      );
    }
    n++;
    badoff = offset + i;
  }
  if (n > 0) fail(110, lines, badoff);
}

/** Actions one test call performs at the most (Fsx.test: op, closeopen, checksize, fsync, checkcontents, fail). */
const ACTIONS_PER_TEST_CALL = 8;

export class FsxRunner {
  syscalls = 0;
  /** Told after every test call (the CLI's progress display). */
  onTestCall?: (testcalls: number) => void;
  private tag = TAG_FIRST_OP;

  constructor(
    readonly fsx: Fsx,
    readonly file: ModelFile,
  ) {}

  private get direct(): boolean {
    return this.fsx.opts.oDirect;
  }

  /**
   * The most system calls `numops` test calls make (a replayed log: a call per line at most): the
   * op and what fsx does around it (close and reopen, size check, fsync with -y, -X's read).
   */
  private maxCalls(numops: number): number {
    const testcalls = numops >= 0 ? numops : (this.fsx.replay?.length ?? 0);
    return this.fsx.setup.length + ACTIONS_PER_TEST_CALL * testcalls;
  }

  /** Runs up to `numops` test calls (all of a replayed log when numops < 0). */
  async run(numops: number): Promise<FsxRunResult> {
    let failure: FsxFailure | null = null;
    await runSequential(this.file, this.maxCalls(numops), async (t) => {
      try {
        for (const a of this.fsx.setup) await this.exec(t, a);
      } catch (e) {
        if (!(e instanceof Failed)) throw e;
        failure = { ...e.failure, testcalls: 0 };
        return;
      }
      for (let n = 0; numops < 0 || n < numops; n++) {
        const call = this.fsx.test();
        if (!call) break;
        this.tag = TAG_FIRST_OP + call.testcalls;
        try {
          for (const a of call.actions) await this.exec(t, a);
        } catch (e) {
          if (!(e instanceof Failed)) throw e;
          failure = { ...e.failure, testcalls: call.testcalls };
          return;
        }
        this.onTestCall?.(call.testcalls);
      }
    });
    return {
      testcalls: this.fsx.testcalls,
      syscalls: this.syscalls,
      failure,
      contents: this.file.contents(),
      log: this.fsx.log,
    };
  }

  private async exec(t: Task, a: FsxAction): Promise<void> {
    this.syscalls++;
    switch (a.k) {
      case 'read':
        return this.read(t, a.off, a.len, a.expect);
      case 'mapread':
        return this.mapread(t, a);
      case 'write':
        return this.write(t, a.off, a.data);
      case 'mapwrite':
        return this.mapwrite(t, a);
      case 'truncate':
        return this.expectZero(await this.file.truncate(t, a.size), 160, 'dotruncate: ftruncate');
      case 'fallocate':
        return this.expectZero(
          await this.file.fallocate(t, a.mode, a.off, a.len, a.keepSize),
          161,
          `fallocate ${a.mode}: ${hex(a.off)} to ${hex(a.off + a.len)}`,
        );
      case 'copy':
        return this.copy(t, a.src, a.len, a.dst);
      case 'fsync':
        return this.expectZero(await this.file.fsync(t), a.status, 'fsync');
      default:
        return this.execMisc(t, a);
    }
  }

  private async execMisc(t: Task, a: FsxAction): Promise<void> {
    switch (a.k) {
      case 'pollute':
        return this.pollute(t, a.fileSize, a.data);
      case 'closeopen':
        return this.file.dropCaches(t);
      case 'checksize':
        if (this.file.size !== a.size) {
          const got = hex(this.file.size);
          fail(120, [`Size error: expected ${hex(a.size)} stat ${got} seek ${got}`]);
        }
        return;
      case 'checkcontents':
        return this.checkContents(t, a.expect);
      case 'fail':
        return fail(a.status, [a.line]);
      default:
        throw new Error(`fsx runner: unexpected action ${a.k}`);
    }
  }

  private expectZero(ret: number, status: number, what: string): void {
    if (ret !== 0) fail(status, [errLine(what, ret)]);
  }

  private async read(t: Task, off: number, len: number, expect: Uint8Array): Promise<void> {
    const r = await this.file.pread(t, off, len, this.direct);
    if (r.ret !== len) {
      fail(141, [
        r.ret < 0 ? errLine('doread: read', r.ret) : `short read: ${hex(r.ret)} bytes instead of ${hex(len)}`,
      ]);
    }
    checkBuffers(expect, r.data, off);
  }

  private async write(t: Task, off: number, data: Uint8Array): Promise<void> {
    const ret = await this.file.pwrite(t, off, data, this.direct, this.tag);
    if (ret !== data.length) {
      fail(151, [
        ret < 0
          ? errLine('dowrite: write', ret)
          : `short write: ${hex(ret)} bytes instead of ${hex(data.length)}`,
      ]);
    }
  }

  private async mapread(t: Task, a: Extract<FsxAction, { k: 'mapread' }>): Promise<void> {
    const m = this.file.mmap(a.off, a.len);
    try {
      const r = await m.load(t, a.off, a.len);
      if (r.ret < 0)
        fail(STATUS_SIGBUS, [`Bus error: mapped read of ${hex(a.off)} thru ${hex(a.off + a.len - 1)}`]);
      await this.checkEofpage(t, m, 'Read', a.off, a.len, a.fileSize);
      checkBuffers(a.expect, r.data, a.off);
    } finally {
      m.munmap();
    }
  }

  private async mapwrite(t: Task, a: Extract<FsxAction, { k: 'mapwrite' }>): Promise<void> {
    if (a.truncateTo !== null) {
      const ret = await this.file.truncate(t, a.truncateTo);
      if (ret !== 0) fail(201, [errLine('domapwrite: ftruncate', ret)]);
    }
    const m = this.file.mmap(a.off, a.data.length);
    try {
      const ret = await m.store(t, a.off, a.data, this.tag);
      if (ret < 0)
        fail(STATUS_SIGBUS, [
          `Bus error: mapped write of ${hex(a.off)} thru ${hex(a.off + a.data.length - 1)}`,
        ]);
      const err = await m.msync(t);
      if (err) fail(203, [errLine('domapwrite: msync', err)]);
      await this.checkEofpage(t, m, 'Write', a.off, a.data.length, a.fileSize);
    } finally {
      m.munmap();
    }
  }

  /** check_eofpage(): the bytes past EOF in a mapped EOF page must read as zero. */
  private async checkEofpage(
    t: Task,
    m: ReturnType<ModelFile['mmap']>,
    what: string,
    off: number,
    len: number,
    fileSize: number,
  ): Promise<void> {
    const ps = this.file.geometry.pageSize;
    const eofPage = fileSize - (fileSize % ps);
    if (off + len <= eofPage || fileSize % ps === 0) return;
    const tail = await m.load(t, fileSize, eofPage + ps - fileSize);
    if (tail.ret < 0) fail(STATUS_SIGBUS, [`Bus error: reading the EOF page past ${hex(fileSize)}`]);
    const i = tail.data.findIndex((b) => b !== 0);
    if (i >= 0) {
      const at = ((fileSize + i) % ps).toString(16);
      fail(205, [
        `Mapped ${what}: non-zero data past EOF (${hex(fileSize - 1)}) page offset 0x${at} is ${shortAt(tail.data, i)}`,
      ]);
    }
  }

  /** do_copy_range()'s loop: copy_file_range until the whole length is copied. */
  private async copy(t: Task, src: number, len: number, dst: number): Promise<void> {
    let done = 0;
    while (done < len) {
      const n = await this.file.copyFileRange(t, src + done, len - done, dst + done, this.direct, this.tag);
      if (n < 0) fail(161, [errLine(`do_copy_range: ${hex(src)} to ${hex(src + len)} at ${hex(dst)}`, n)]);
      if (n === 0)
        fail(161, [`do_copy_range: copy_file_range copied nothing with ${hex(len - done)} bytes to go`]);
      done += n;
    }
  }

  /** pollute_eofpage(): stores past EOF in the EOF page; nothing is checked. */
  private async pollute(t: Task, fileSize: number, data: Uint8Array): Promise<void> {
    const ps = this.file.geometry.pageSize;
    const m = this.file.mmap(fileSize - (fileSize % ps), ps);
    try {
      await m.store(t, fileSize, data, this.tag);
    } finally {
      m.munmap();
    }
  }

  /** check_contents() (-X): a whole-file read, then the EOF page through a mapping. */
  private async checkContents(t: Task, expect: Uint8Array): Promise<void> {
    await this.read(t, 0, expect.length, expect);
    const ps = this.file.geometry.pageSize;
    const size = expect.length;
    let mapOffset = size - (size % ps);
    if (mapOffset === size) mapOffset -= ps;
    const m = this.file.mmap(mapOffset, size - mapOffset);
    try {
      await this.checkEofpage(t, m, 'check_contents', mapOffset, size - mapOffset, this.fsx.fileSize);
    } finally {
      m.munmap();
    }
  }
}

/**
 * The model file fsx runs on: the options' page and block size, O_DIRECT alignment an eighth of the
 * block (512 bytes under 4 KiB blocks, as the host's disk). Throws if the scheme cannot model it.
 */
export function fsxModelFile(scheme: Scheme, o: FsxOptions): ModelFile {
  return new ModelFile(scheme, {
    pageSize: o.pageSize,
    blockSize: o.blockSize,
    sector: o.blockSize / 8,
    maxFileLen: o.maxfilelen + o.maxoplen,
    maxIo: Math.max(o.maxfilelen, o.maxoplen),
  });
}

/**
 * fsx on the model: `numops` test calls of a random stream, or of `replay` (all of it when
 * numops < 0), under `scheme`.
 */
export function runFsx(
  o: FsxOptions,
  scheme: Scheme,
  replay: readonly LogEntry[] | null = null,
  counting: ReplayCounting = 'record',
  numops = -1,
): Promise<FsxRunResult> {
  return new FsxRunner(new Fsx(o, replay, counting), fsxModelFile(scheme, o)).run(numops);
}
