/**
 * One file on the pagelab model, driven by system calls with exact bytes: what fsx (and the
 * differential test) need and litmus's one-byte `data=` cannot say. The world is built from a
 * one-file scenario (page, block and sector sizes as the host's); user buffers are anonymous
 * mappings filled cell by cell, as src/litmus/world.ts fills a private buffer; mmap accesses go
 * through a fresh MAP_SHARED mapping per access, unmapped afterwards, as fsx does.
 */
import { allocCells, type Cells, cell, cellValue } from '../block/data.js';
import type { Inode } from '../fs/fs.js';
import { sysFallocate, sysFsync, sysPread, sysPwrite, sysTruncate } from '../fs/syscalls.js';
import { FINDING_KINDS, LATENCY_DEFAULT, type Scenario } from '../litmus/ast.js';
import { buildWorld, fileViews, type World } from '../litmus/world.js';
import { invalidateMappingPage } from '../mm/filemap.js';
import { userLoad, userStore, type Vma } from '../mm/memory.js';
import type { Scheme } from '../schemes/scheme.js';
import { EINVAL, EOPNOTSUPP } from '../sim/errno.js';
import { Sim } from '../sim/sched.js';
import { ReplayStrategy } from '../sim/strategy.js';
import type { Task } from '../sim/task.js';
import type { FallocKind } from './fsx.js';

export interface Geometry {
  pageSize: number;
  blockSize: number;
  /** The device's logical block size: the O_DIRECT alignment. */
  sector: number;
  /** The largest file the run makes (sizes the disk). */
  maxFileLen: number;
  /** The largest single read or write (sizes the user buffers). */
  maxIo: number;
}

/** A one-file scenario for the geometry: file `f`, empty, no tasks (the caller spawns its own). */
export function fileScenario(g: Geometry, name = 'fsx'): Scenario {
  const blocks = Math.ceil(g.maxFileLen / g.blockSize);
  return {
    name,
    doc: '',
    source: `<${name}>`,
    pageSize: g.pageSize,
    blockSize: g.blockSize,
    diskBlocks: blocks * 4 + 64,
    latency: LATENCY_DEFAULT,
    files: [{ name: 'f', size: 0, init: 'hole', line: 0 }],
    maps: [],
    bufs: [],
    reclaim: 0,
    options: { sector: String(g.sector) },
    tasks: [],
    forbid: [...FINDING_KINDS],
    expect: null,
    text: '',
  };
}

/** A read's result: bytes read or -errno, and the values read. */
export interface ReadResult {
  ret: number;
  data: Uint8Array;
}

function toCells(tag: number, bytes: Uint8Array): Cells {
  const out = allocCells(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = cell(tag, bytes[i]);
  return out;
}

function toBytes(cells: Cells): Uint8Array {
  const out = new Uint8Array(cells.length);
  for (let i = 0; i < cells.length; i++) out[i] = cellValue(cells[i]);
  return out;
}

/** A MAP_SHARED mapping of the file for one access (fsx's mmap ... munmap). */
export class FileMap {
  constructor(
    private readonly file: ModelFile,
    readonly vma: Vma,
    /** File offset of the first mapped byte (page aligned). */
    readonly base: number,
  ) {}

  /** A user store of `bytes` at file offset `off`: 0, or -EFAULT where the process would get SIGBUS. */
  store(t: Task, off: number, bytes: Uint8Array, tag: number): Promise<number> {
    return userStore(t, this.vma.start + off - this.base, toCells(tag, bytes));
  }

  /** A user load of `len` bytes at file offset `off`. */
  async load(t: Task, off: number, len: number): Promise<ReadResult> {
    const got = await userLoad(t, this.vma.start + off - this.base, len);
    if (typeof got === 'number') return { ret: got, data: new Uint8Array(0) };
    return { ret: 0, data: toBytes(got) };
  }

  /** msync(MS_SYNC) over the mapping: vfs_fsync_range(file, start, end, datasync=1). */
  msync(t: Task): Promise<number> {
    const inode = this.file.inode;
    return inode.fs.ops.fsync(t, inode, this.base, this.base + this.vma.length, true);
  }

  munmap(): void {
    this.file.world.mm.munmap(this.vma);
  }
}

export class ModelFile {
  readonly world: World;
  readonly inode: Inode;
  private readonly rbuf: Vma;
  private readonly wbuf: Vma;
  private maps = 0;

  constructor(
    readonly scheme: Scheme,
    readonly geometry: Geometry,
  ) {
    const scenario = fileScenario(geometry);
    const na = scheme.notApplicable?.(scenario);
    if (na) throw new Error(`scheme ${scheme.name} cannot run this file: ${na}`);
    this.world = buildWorld(scenario, scheme);
    this.inode = this.world.inodes.get('f') as Inode;
    this.rbuf = this.anon('rbuf', geometry.maxIo + geometry.pageSize);
    this.wbuf = this.anon('wbuf', geometry.maxIo + geometry.pageSize);
  }

  get size(): number {
    return this.inode.size;
  }

  private anon(name: string, size: number): Vma {
    const mm = this.world.mm;
    const vma = mm.mmap(name, size, false, null, 0, null);
    mm.populateAnon(vma);
    return vma;
  }

  /** Writes cells straight into an anonymous buffer's pages (the process filling its buffer). */
  private fill(vma: Vma, off: number, cells: Cells): void {
    const ps = this.geometry.pageSize;
    for (let i = 0; i < cells.length; i++) {
      const a = off + i;
      const pte = vma.ptes.get(Math.floor(a / ps));
      if (pte) pte.folio.data[a % ps] = cells[i];
    }
  }

  private peek(vma: Vma, off: number, len: number): Uint8Array {
    const ps = this.geometry.pageSize;
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const a = off + i;
      const pte = vma.ptes.get(Math.floor(a / ps));
      out[i] = pte ? cellValue(pte.folio.data[a % ps]) : 0;
    }
    return out;
  }

  /** pwrite(2) of `bytes` from a buffer at `bufOff` bytes past a page boundary. */
  pwrite(t: Task, off: number, bytes: Uint8Array, direct: boolean, tag: number, bufOff = 0): Promise<number> {
    this.fill(this.wbuf, bufOff, toCells(tag, bytes));
    return sysPwrite(t, this.inode, off, bytes.length, this.wbuf.start + bufOff, direct);
  }

  /** pread(2) into a buffer at `bufOff` bytes past a page boundary. */
  async pread(t: Task, off: number, len: number, direct: boolean, bufOff = 0): Promise<ReadResult> {
    const ret = await sysPread(t, this.inode, off, len, this.rbuf.start + bufOff, direct);
    return { ret, data: ret > 0 ? this.peek(this.rbuf, bufOff, ret) : new Uint8Array(0) };
  }

  /** mmap(MAP_SHARED) of [off rounded down to a page, off + len). */
  mmap(off: number, len: number): FileMap {
    const ps = this.geometry.pageSize;
    const base = off - (off % ps);
    const inode = this.inode;
    const ops = inode.fs.ops;
    const vma = this.world.mm.mmap(`map${this.maps++}`, off + len - base, true, inode.mapping, base / ps, {
      fault: (t, vmf) => ops.fault(t, inode, vmf),
      pageMkwrite: (t, vmf) => ops.pageMkwrite(t, inode, vmf),
    });
    return new FileMap(this, vma, base);
  }

  truncate(t: Task, size: number): Promise<number> {
    return sysTruncate(t, this.inode, size);
  }

  /** fallocate(2). The model has no FALLOC_FL_UNSHARE_RANGE (no shared extents): EOPNOTSUPP, as ext4. */
  async fallocate(t: Task, mode: FallocKind, off: number, len: number, keepSize: boolean): Promise<number> {
    if (mode === 'unshare') return -EOPNOTSUPP;
    return sysFallocate(t, this.inode, mode, off, len, keepSize);
  }

  fsync(t: Task): Promise<number> {
    return sysFsync(t, this.inode, false);
  }

  /**
   * copy_file_range(2) within the file, as ext4 does it (no ->copy_file_range: do_splice_direct):
   * generic_copy_file_checks (the length clamped at EOF, 0 past it, overlapping ranges EINVAL), then
   * the source read through ->read_iter into a bounce buffer and written with ->write_iter, both
   * O_DIRECT when the file is open O_DIRECT. Returns bytes copied or -errno.
   */
  async copyFileRange(
    t: Task,
    src: number,
    len: number,
    dst: number,
    direct: boolean,
    tag: number,
  ): Promise<number> {
    const n = Math.min(len, Math.max(0, this.inode.size - src));
    if (n === 0) return 0;
    if (dst + n > src && dst < src + n) return -EINVAL;
    const got = await this.pread(t, src, n, direct);
    if (got.ret <= 0) return got.ret;
    return this.pwrite(t, dst, got.data, direct, tag);
  }

  /** close(2) + `echo 3 > /proc/sys/vm/drop_caches` + open(2): every clean, unmapped folio dropped. */
  async dropCaches(t: Task): Promise<void> {
    const mapping = this.inode.mapping;
    await t.point('drop_caches', this.inode.ino, true);
    for (const index of mapping.indicesIn(0, Number.MAX_SAFE_INTEGER))
      invalidateMappingPage(t, mapping, index);
  }

  /**
   * The file's bytes as a buffered read sees them, after checking that an O_DIRECT read and an
   * mmap read would see the same (a model that disagrees with itself is a bug, not a result).
   */
  contents(): Uint8Array {
    const v = fileViews(this.world, 'f');
    const cache = toBytes(v.cache.cells);
    const direct = toBytes(v.direct.cells);
    for (let i = 0; i < cache.length; i++) {
      if (cache[i] !== direct[i]) throw new Error(`model views disagree at 0x${i.toString(16)}`);
    }
    return cache;
  }
}

/**
 * The steps one system call on a file of this geometry may take: a call walks at most every block
 * of the file and of its buffer, a few steps each. Measured (fsx, every op kind, four schemes): at
 * most ~45 steps a call over 80 blocks (-X, page 4096) and ~2,400 over 5,120 blocks (-X, page 64),
 * so 16 a block, and 16 blocks more for the call itself, leave a wide margin.
 */
export function stepsPerCall(g: Geometry): number {
  return 16 * (Math.ceil((g.maxFileLen + g.maxIo) / g.blockSize) + 16);
}

/**
 * Runs `body` as the one task of a sequential run on `file`: the non-preemptive schedule. A long
 * fsx stream is not a livelock, but a run that never ends is: the step bound is `calls` system
 * calls of stepsPerCall each, past which the run ends no-progress (an error here). Rejects with
 * the model's error if the model throws.
 */
export async function runSequential(
  file: ModelFile,
  calls: number,
  body: (t: Task) => Promise<void>,
): Promise<void> {
  const stepBound = stepsPerCall(file.geometry) * Math.max(1, calls);
  const sim = new Sim({ strategy: new ReplayStrategy([]), stepBound });
  sim.spawn('fsx', async (t) => {
    t.mm = file.world.mm;
    await body(t);
  });
  const r = await sim.run();
  if (r.outcome.kind !== 'done') {
    const detail = r.outcome.kind === 'invariant' ? `: ${r.outcome.message}` : '';
    throw new Error(`the model's run ended ${r.outcome.kind}${detail}`);
  }
}
