/**
 * The filesystem instance: the inodes of a scenario, the block device, the allocator, the one
 * address space the tasks share, and the scheme (the filesystem personality whose entry points
 * every operation goes through, exactly as a Linux filesystem's file_operations,
 * vm_operations_struct and address_space_operations are).
 */

import type { BlockDevice } from '../block/bdev.js';
import type { AddressSpace, VmFault, WritebackControl } from '../mm/filemap.js';
import type { Mm } from '../mm/memory.js';
import { isRecording, objectId, record } from '../sim/footprint.js';
import type { Task } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';
import type { RwSemaphore } from '../sync/rwsem.js';
import { type Allocator, ExtentMap } from './extent.js';

export type FallocMode = 'alloc' | 'punch' | 'zero' | 'collapse' | 'insert';

/** The entry points a scheme implements (file_operations + vm_operations + inode_operations). */
export interface FileOperations {
  /** ->read_iter: buffered or O_DIRECT read into user memory at ubuf. Returns bytes or -errno. */
  readIter(t: Task, inode: Inode, pos: number, len: number, ubuf: number, direct: boolean): Promise<number>;
  /** ->write_iter: buffered or O_DIRECT write from user memory at ubuf. Returns bytes or -errno. */
  writeIter(t: Task, inode: Inode, pos: number, len: number, ubuf: number, direct: boolean): Promise<number>;
  /** ->fallocate (mode already validated by vfs_fallocate). Returns 0 or -errno. */
  fallocate(
    t: Task,
    inode: Inode,
    mode: FallocMode,
    off: number,
    len: number,
    keepSize: boolean,
  ): Promise<number>;
  /** ->setattr(ATTR_SIZE): truncate up or down. Returns 0 or -errno. */
  setattrSize(t: Task, inode: Inode, size: number): Promise<number>;
  /** ->fsync over [start, end). Returns 0 or -errno (a writeback error reported once). */
  fsync(t: Task, inode: Inode, start: number, end: number, datasync: boolean): Promise<number>;
  /**
   * Set when ->fsync, and the ->writepages it calls, record every access they make before their
   * first scheduling point (src/sim/footprint.ts), as genericFsync over iomapWritepages does: an
   * fsync's start then only reads the inode. Otherwise it counts as a change of the whole inode.
   */
  fsyncRecorded?: boolean;
  /** vm_ops->fault: VM_FAULT_LOCKED with vmf.folio locked, or an error code. */
  fault(t: Task, inode: Inode, vmf: VmFault): Promise<number>;
  /** vm_ops->page_mkwrite. */
  pageMkwrite(t: Task, inode: Inode, vmf: VmFault): Promise<number>;
  /** a_ops->writepages (the scheme decides what writeback of a pinned page does). */
  writepages(t: Task, inode: Inode, wbc: WritebackControl): Promise<number>;
}

/** inode_dio_begin/end/wait: i_dio_count with a wait queue. */
export class DioCount {
  count = 0;
  readonly q = new WaitQueue();
  readonly owners: Task[] = [];
  readonly lockClass = 'inode_dio_wait';
  private objId = -1;
  constructor(readonly name: string) {}
  /** Its footprint object (named lazily: only a recorded run needs it). */
  get obj(): number {
    if (this.objId < 0) this.objId = objectId(this.name);
    return this.objId;
  }
  holders(): readonly Task[] {
    return this.owners;
  }
}

/**
 * One node of a cluster sharing the block device (GFS2, docs/cluster.md): the filesystem instance
 * is that node's mount. Null on the one-node world every scenario without `node` lines builds.
 */
export interface ClusterNode {
  readonly name: string;
  /** Objects shared by every node's mount, keyed by the scheme (the DLM of a GFS2 cluster). */
  readonly shared: Map<string, unknown>;
  /** `option dlm-latency=N`: virtual ticks of one DLM round trip (docs/litmus.md, "Nodes"). */
  readonly dlmLatency: number;
}

/** The on-disk inode (the dinode) the in-core inodes of one file share across nodes. */
interface Dinode {
  size: number;
  /** i_size's footprint object (src/sim/footprint.ts), shared as the dinode is. */
  sizeObj: number;
}

export class Inode {
  private readonly dinode: Dinode;
  readonly extents: ExtentMap;
  mapping!: AddressSpace;
  readonly dio: DioCount;
  /** The one open file description of this file all tasks share (f_wb_err cursor). */
  readonly file = { wbErr: 0 };
  /** Scheme-private per-inode state (glocks, two-state locks, range locks...). */
  readonly fsPrivate = new Map<string, unknown>();
  /**
   * Where the kernel allocated this inode, and so its i_data (the address_space embedded in it):
   * what lock orders by address compare (bch2_page_fault's `fdm > mapping`). Slab addresses differ
   * from boot to boot; the world sets this from the scenario (`option inode-addr`), else `ino`.
   */
  addr: number;

  constructor(
    readonly fs: FileSystem,
    readonly ino: number,
    readonly name: string,
    size: number,
    /** i_rwsem (inode_lock): XFS's IOLOCK is this very lock. */
    readonly iRwsem: RwSemaphore,
    /**
     * The same file's inode on another node: this one shares its block map and i_size, the
     * dinode every node reads (the glock keeps each node's in-core copy current: docs/cluster.md).
     */
    sameFile?: Inode,
  ) {
    this.addr = ino;
    this.dio = new DioCount(`i_dio_count(${name})`);
    if (sameFile) {
      this.dinode = sameFile.dinode;
      this.extents = sameFile.extents;
    } else {
      this.dinode = { size, sizeObj: objectId(`i_size(${name})`) };
      this.extents = new ExtentMap();
      this.extents.obj = objectId(`extents(${name})`);
    }
  }

  /**
   * i_size: an object of its own, whose parent is the inode (read), as a page granule's is
   * (src/sim/footprint.ts): a change of i_size conflicts with every step that reads it and every
   * step declaring the whole inode, not with the page-cache lookups and completions that only
   * read their granules' parent.
   */
  get size(): number {
    if (isRecording()) {
      record(this.dinode.sizeObj, false);
      record(this.ino, false);
    }
    return this.dinode.size;
  }

  set size(v: number) {
    if (isRecording()) {
      record(this.dinode.sizeObj, true);
      record(this.ino, false);
    }
    this.dinode.size = v;
  }

  /** i_size's footprint object (a system call's entry that reads i_size declares it). */
  get sizeObj(): number {
    return this.dinode.sizeObj;
  }

  get blockSize(): number {
    return this.fs.blockSize;
  }
}

/** inode_dio_begin(). */
export function inodeDioBegin(t: Task, inode: Inode): void {
  // Increments commute: a read, as for rw_semaphore readers; the wake-up at zero is recorded.
  if (isRecording()) record(inode.dio.obj, false);
  inode.dio.count++;
  inode.dio.owners.push(t);
}

/** inode_dio_end(): the last one wakes inode_dio_wait()ers. */
export function inodeDioEnd(t: Task, inode: Inode): void {
  if (isRecording()) record(inode.dio.obj, false);
  inode.dio.count--;
  const i = inode.dio.owners.indexOf(t);
  if (i >= 0) inode.dio.owners.splice(i, 1);
  if (inode.dio.count === 0) inode.dio.q.wakeAll();
}

/** inode_dio_wait(): waits until no DIO is in flight. Context: i_rwsem held exclusive. */
export async function inodeDioWait(t: Task, inode: Inode): Promise<void> {
  if (isRecording()) record(inode.dio.obj, true);
  while (inode.dio.count > 0) await inode.dio.q.wait(t, inode.dio, 'inode_dio_wait');
}

export class FileSystem {
  readonly inodes: Inode[] = [];
  ops!: FileOperations;
  /** sb->s_maxbytes: no file grows past it (EFBIG). The litmus world lowers it to what it holds. */
  maxBytes = 1 << 30;
  /** The cluster node this mount is, or null (one node: every scenario without `node` lines). */
  node: ClusterNode | null = null;
  /** Writes to the block device that the filesystem made durable only on the next flush. */
  constructor(
    readonly bdev: BlockDevice,
    readonly alloc: Allocator,
    readonly mm: Mm,
    readonly pageSize: number,
    readonly blockSize: number,
  ) {}

  inode(name: string): Inode {
    const i = this.inodes.find((x) => x.name === name);
    if (!i) throw new Error(`no file '${name}'`);
    return i;
  }
}
