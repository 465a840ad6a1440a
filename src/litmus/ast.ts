/**
 * The AST of a litmus scenario: what `parseLitmus` produces and `formatScenario` prints.
 *
 * Every size and offset is in bytes, already resolved from `2p` / `1b` / `0x40` units. Every
 * `line` is the 1-based line of the statement (or, for an op, of the task line it came from).
 * The grammar and the meaning of each field are in docs/litmus.md.
 */

/** Defined with the oracles (src/check/finding.ts); re-exported for the language's users. */
import type { FindingKind } from '../check/finding.js';

export { FINDING_KINDS, type FindingKind } from '../check/finding.js';

/**
 * The state of a file before the tasks start.
 * - written: blocks allocated and holding data on disk; nothing cached.
 * - unwritten: blocks allocated but unwritten (fallocate'd); reads return zeros.
 * - hole: no blocks (a sparse file of that size).
 * - cached: written, and every page already in the page cache, uptodate and clean.
 * - dirty: blocks allocated, every page in the page cache and dirty (newer than the disk).
 */
export type FileInit = 'written' | 'unwritten' | 'hole' | 'cached' | 'dirty';
export const FILE_INITS: readonly FileInit[] = ['written', 'unwritten', 'hole', 'cached', 'dirty'];

export interface FileDecl {
  name: string;
  size: number;
  init: FileInit;
  line: number;
}

/**
 * A mapping in the one address space all tasks share. `length` is the VMA length
 * (vm_end - vm_start): the length written, rounded up to whole pages as mmap(2) does.
 */
export interface MapDecl {
  name: string;
  file: string;
  offset: number;
  length: number;
  shared: boolean;
  line: number;
}

/** An anonymous user buffer (private anonymous memory) of `size` bytes. */
export interface BufDecl {
  name: string;
  size: number;
  line: number;
}

/** A user address: `offset` bytes into a map or buf named `region`. */
export interface Addr {
  region: string;
  offset: number;
}

/** fallocate(2) modes: 0, FALLOC_FL_PUNCH_HOLE, _ZERO_RANGE, _COLLAPSE_RANGE, _INSERT_RANGE. */
export type FallocMode = 'alloc' | 'punch' | 'zero' | 'collapse' | 'insert';
export const FALLOC_MODES: readonly FallocMode[] = ['alloc', 'punch', 'zero', 'collapse', 'insert'];

export type Op =
  | { op: 'pread'; file: string; off: number; len: number; direct: boolean; buf: Addr | null; line: number }
  | {
      op: 'pwrite';
      file: string;
      off: number;
      len: number;
      direct: boolean;
      buf: Addr | null;
      data: number | null;
      line: number;
    }
  | { op: 'load'; addr: Addr; len: number; line: number }
  | { op: 'store'; addr: Addr; len: number; data: number | null; line: number }
  | {
      op: 'fallocate';
      file: string;
      mode: FallocMode;
      off: number;
      len: number;
      keepSize: boolean;
      line: number;
    }
  | { op: 'truncate'; file: string; size: number; line: number }
  | { op: 'fsync' | 'fdatasync' | 'writeback'; file: string; line: number }
  | { op: 'msync'; addr: Addr; len: number; line: number }
  | { op: 'evict'; file: string; off: number; line: number };

export type OpName = Op['op'];

/** A task (a thread of the one process); `line` is the line where it first appears. */
export interface TaskDecl {
  name: string;
  ops: Op[];
  line: number;
}

/**
 * `node NAME: TASK...`: the tasks that run on one node of a cluster (GFS2: docs/cluster.md). Each
 * node would have its own page cache, address space and glock state; the block device is shared.
 */
export interface NodeDecl {
  name: string;
  tasks: string[];
  line: number;
}

/** Most nodes a scenario declares. */
export const NODES_MAX = 16;

/**
 * A parsed scenario. `source` is the file name given to `parseLitmus` ('<input>' by default)
 * and `text` the text it parsed; `doc` is '' when there is no `doc` line.
 */
export interface Scenario {
  name: string;
  doc: string;
  source: string;
  pageSize: number;
  blockSize: number;
  diskBlocks: number;
  latency: number;
  files: FileDecl[];
  maps: MapDecl[];
  bufs: BufDecl[];
  reclaim: number;
  /** `option KEY=VALUE`: free-form, except the ones the world reads (`sector`, `inode-addr`). */
  options: Record<string, string>;
  tasks: TaskDecl[];
  /**
   * The `node` lines, in order; absent (not empty) when there are none: a scenario without nodes
   * is one node, every task on it, exactly as before nodes existed.
   */
  nodes?: NodeDecl[];
  forbid: FindingKind[];
  expect: FindingKind | 'ok' | null;
  text: string;
}

export const PAGE_SIZE_DEFAULT = 64;
export const PAGE_SIZE_MIN = 8;
export const PAGE_SIZE_MAX = 65536;
export const BLOCK_SIZE_MIN = 8;
export const LATENCY_DEFAULT = 20;
export const LATENCY_MAX = 1_000_000;
export const DISK_BLOCKS_MAX = 1 << 24;
/**
 * What the model can hold. It keeps every byte of the device, of each file's views and of each
 * buffer as a 32-bit cell, and walks files byte by byte: a 1 MiB file costs ~0.4 s per schedule, a
 * 16 MiB one ~4 s and 1.4 GB (measured with `pagelab check`, 20 random schedules, xfs). Sizes and
 * offsets are at most 16 MiB (`pagelab fsx -l` allows as much); a file grows to at most
 * FILE_BYTES_MAX at run time (s_maxbytes: EFBIG past it); the device holds at most
 * DEVICE_BYTES_MAX bytes; a scenario declares at most FILES_MAX files and REGIONS_MAX maps and bufs.
 */
export const SIZE_BYTES_MAX = 1 << 24;
export const FILE_BYTES_MAX = 2 * SIZE_BYTES_MAX;
export const DEVICE_BYTES_MAX = 1 << 27;
export const FILES_MAX = 16;
export const REGIONS_MAX = 64;
export const RECLAIM_MAX = 1 << 20;
export const LOOP_COUNT_MAX = 1024;
/** Most ops one task may have after `loop` expansion. */
export const TASK_OPS_MAX = 4096;

/** Blocks an initial file state allocates on the disk (none for a hole). */
export function fileBlocksAllocated(f: FileDecl, blockSize: number): number {
  return f.init === 'hole' ? 0 : Math.ceil(f.size / blockSize);
}

/** The default `disk`: room for every file four times over, plus 16 blocks. */
export function diskBlocksDefault(files: readonly FileDecl[], blockSize: number): number {
  let blocks = 0;
  for (const f of files) blocks += Math.ceil(f.size / blockSize);
  return blocks * 4 + 16;
}

/**
 * `option inode-addr=`: whether the files' inodes (and the address_spaces embedded in them) lie at
 * rising or falling kernel addresses in declaration order; lock orders by address follow it.
 */
export type InodeAddrOrder = 'ascending' | 'descending';
export const INODE_ADDR_ORDERS: readonly InodeAddrOrder[] = ['ascending', 'descending'];
