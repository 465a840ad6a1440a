/**
 * Instantiates a scenario: the block device, the filesystem with the scheme's entry points, the
 * files in their initial state, the mappings and buffers in the one address space the tasks
 * share, and one simulated task per scenario task that issues its operations through the system
 * call layer, recording each in the history the oracles read.
 */

import { BlockDevice } from '../block/bdev.js';
import { allocCells, type Cells, cell, copyCells, initCell, TAG_FIRST_OP, TAG_ZERO } from '../block/data.js';
import type { Effect, History, Observation, OpRecord } from '../check/history.js';
import { tick } from '../check/history.js';
import type { RefState, Region } from '../check/refmodel.js';
import { Allocator, BlockState } from '../fs/extent.js';
import { type ClusterNode, FileSystem, Inode } from '../fs/fs.js';
import { iomapReadFolio } from '../fs/iomap/buffered-io.js';
import { sysFallocate, sysFsync, sysPread, sysPwrite, sysTruncate, writebackInode } from '../fs/syscalls.js';
import { AddressSpace, invalidateMappingPage, type MappingHost } from '../mm/filemap.js';
import type { Folio } from '../mm/folio.js';
import { Mm, peekUser, userLoad, userStore, type Vma } from '../mm/memory.js';
import { shrinkOneFolio } from '../mm/vmscan.js';
import type { Scheme } from '../schemes/scheme.js';
import { EFAULT } from '../sim/errno.js';
import { ANYTHING, objectId, record } from '../sim/footprint.js';
import type { Sim } from '../sim/sched.js';
import type { Task } from '../sim/task.js';
import { RwSemaphore } from '../sync/rwsem.js';
import {
  type Addr,
  FILE_BYTES_MAX,
  type FileDecl,
  INODE_ADDR_ORDERS,
  type InodeAddrOrder,
  type Op,
  type Scenario,
} from './ast.js';
import { contendedOps } from './contention.js';
import { formatOp } from './parse.js';

/** A user memory region a scenario names: a mapping of a file, or an anonymous buffer. */
export interface UserRegion {
  vma: Vma;
  /** The mapped file, or null for anonymous memory. */
  file: string | null;
  fileOff: number;
  shared: boolean;
}

export interface World {
  readonly scenario: Scenario;
  readonly scheme: Scheme;
  readonly bdev: BlockDevice;
  readonly fs: FileSystem;
  readonly mm: Mm;
  readonly inodes: Map<string, Inode>;
  readonly regions: Map<string, UserRegion>;
  readonly history: History;
  readonly initial: RefState;
  /**
   * Each file's block map as of the last flush (DurableExtents): what a crash finds. Set up at
   * build time (the scenario's files are on disk), replaced whenever a flush completes.
   */
  readonly durable: Map<string, DurableExtents>;
  /**
   * With `node` lines: every node's world, in declaration order, this one first. A node's world
   * has its own filesystem mount, address space, inodes (page cache, glocks) and regions; the
   * scenario, scheme, device, history, initial state and durable block maps are the same objects.
   */
  readonly nodes?: readonly World[];
  /** The node this world is (absent: one node). */
  readonly node?: string;
}

/**
 * A file's block map as the last metadata commit left it. Linux makes an extent change durable
 * by a journal commit, and the commit block goes out with REQ_PREFLUSH | REQ_FUA
 * (jbd2_journal_commit_transaction → journal_submit_commit_record; xfs_log_force →
 * xlog_write_iclog with REQ_PREFLUSH): every write the device completed before it is stable
 * first, so metadata never exposes a block whose data the volatile cache still holds (ext4
 * data=ordered; an unwritten extent stays unwritten until the conversion commits). The model
 * commits at every flush: an fsync's, or any other. A crash then shows a block that was
 * allocated or converted after the last flush as it was at that flush (a hole or unwritten:
 * zeroes). i_size is not snapshotted (a departure: docs/fidelity.md).
 */
export interface DurableExtents {
  states: readonly BlockState[];
  pblks: readonly number[];
}

/**
 * The device's logical block size (the O_DIRECT alignment unit): `option sector=N`, else an
 * eighth of the filesystem block, the ratio of 512-byte sectors under 4 KiB blocks.
 */
export function sectorSize(scenario: Scenario): number {
  const opt = scenario.options['sector'];
  if (opt !== undefined) {
    const n = Number(opt);
    if (!Number.isInteger(n) || n < 1 || scenario.blockSize % n !== 0)
      throw new Error(`option sector=${opt}: must divide the block size ${scenario.blockSize}`);
    return n;
  }
  return Math.max(1, scenario.blockSize / 8);
}

/**
 * `option inode-addr=ascending|descending` (default ascending): whether the files' inodes, and so
 * their address_spaces, lie at rising or falling addresses in declaration order. Lock orders by
 * address (bcachefs's `fdm > mapping`) follow it; the kernel's order is whatever the slab gave.
 */
export function inodeAddrOrder(scenario: Scenario): InodeAddrOrder {
  const opt = scenario.options['inode-addr'] ?? 'ascending';
  const order = INODE_ADDR_ORDERS.find((o) => o === opt);
  if (!order) throw new Error(`option inode-addr=${opt}: must be ${INODE_ADDR_ORDERS.join(' or ')}`);
  return order;
}

/**
 * `option dlm-latency=N` (validated by the parser): ticks of one DLM round trip; by default the
 * device's bio latency, a network round trip being of the order of a fast device's I/O.
 */
export function dlmLatency(scenario: Scenario): number {
  const opt = scenario.options['dlm-latency'];
  return opt === undefined ? scenario.latency : Number(opt);
}

/**
 * The world of a scenario: one node, or with `node` lines one world per node over the one device
 * (World.nodes; the first node's is returned). A scheme that is not a cluster scheme never gets
 * here with nodes (scenarioNotApplicable).
 */
export function buildWorld(scenario: Scenario, scheme: Scheme): World {
  const bdev = new BlockDevice(
    sectorSize(scenario),
    scenario.diskBlocks * scenario.blockSize,
    scenario.latency,
  );
  const alloc = new Allocator(scenario.diskBlocks);
  const decls = scenario.nodes;
  if (!decls) return buildNode(scenario, scheme, bdev, alloc, null, null);
  if (!scheme.cluster) throw new Error(`scheme ${scheme.name} runs one node, not ${decls.length}`);
  const shared = new Map<string, unknown>();
  const node = (name: string) => ({ name, shared, dlmLatency: dlmLatency(scenario) });
  const first = buildNode(scenario, scheme, bdev, alloc, node(decls[0].name), null);
  const worlds = [
    first,
    ...decls.slice(1).map((d) => buildNode(scenario, scheme, bdev, alloc, node(d.name), first)),
  ];
  for (const w of worlds) (w as { nodes?: readonly World[] }).nodes = worlds;
  return first;
}

/**
 * One node's world. `first` is null for the first (or only) node, which creates the files on the
 * device; a later node mounts them: its inodes share the first node's block maps and sizes.
 */
function buildNode(
  scenario: Scenario,
  scheme: Scheme,
  bdev: BlockDevice,
  alloc: Allocator,
  node: ClusterNode | null,
  first: World | null,
): World {
  const ps = scenario.pageSize;
  const bs = scenario.blockSize;
  const mm = new Mm(ps);
  const fs = new FileSystem(bdev, alloc, mm, ps, bs);
  fs.ops = scheme.ops;
  fs.node = node;
  // s_maxbytes: a file grows no further than the model holds (EFBIG: fallocate insert, extend).
  fs.maxBytes = FILE_BYTES_MAX;
  const world: World = {
    scenario,
    scheme,
    bdev,
    fs,
    mm,
    inodes: new Map(),
    regions: new Map(),
    history: first?.history ?? { ops: [], clock: 0 },
    initial: first?.initial ?? new Map(),
    durable: first?.durable ?? new Map(),
    ...(node ? { node: node.name } : {}),
  };
  const descending = inodeAddrOrder(scenario) === 'descending';
  const n = scenario.files.length;
  for (const [i, f] of scenario.files.entries()) {
    const addr = descending ? n - i : i + 1;
    if (first) mountFile(world, f, i + 1, addr, first.inodes.get(f.name) as Inode);
    else createFile(world, f, i + 1, addr);
  }
  if (!first) {
    const commit = () => {
      for (const [name, inode] of world.inodes) world.durable.set(name, inode.extents.snapshot());
    };
    commit();
    bdev.onFlush.push(commit);
  }
  for (const m of scenario.maps) {
    const inode = world.inodes.get(m.file) as Inode;
    const vma = mm.mmap(m.name, m.length, m.shared, inode.mapping, m.offset / ps, {
      fault: (t, vmf) => fs.ops.fault(t, inode, vmf),
      pageMkwrite: (t, vmf) => fs.ops.pageMkwrite(t, inode, vmf),
    });
    world.regions.set(m.name, { vma, file: m.file, fileOff: m.offset, shared: m.shared });
    // A private mapping is a region of the reference model of its own: its pages show the file
    // until a store copies them (refmodel.ts, PrivateMap).
    if (!m.shared && !first) {
      const priv = {
        file: m.file,
        fileOff: m.offset,
        pageSize: ps,
        cow: new Uint8Array(Math.ceil(m.length / ps)),
      };
      world.initial.set(m.name, { size: m.length, cells: allocCells(m.length), priv });
    }
  }
  for (const b of scenario.bufs) {
    const vma = mm.mmap(b.name, b.size, false, null, 0, null);
    mm.populateAnon(vma);
    world.regions.set(b.name, { vma, file: null, fileOff: 0, shared: false });
    if (!first) world.initial.set(b.name, { size: b.size, cells: allocCells(b.size) });
  }
  return world;
}

/** The in-core inode of `f` on this world's node, with its address space and the scheme's state. */
function makeInode(world: World, f: FileDecl, ino: number, addr: number, sameFile?: Inode): Inode {
  const { fs, scenario, scheme } = world;
  // On a node, the locks and the pages say which node's they are: `f@B` in traces and reports.
  const at = world.node ? `${f.name}@${world.node}` : f.name;
  const inode = new Inode(fs, ino, f.name, f.size, new RwSemaphore(`i_rwsem(${at})`, 'i_rwsem'), sameFile);
  inode.addr = addr;
  const il = scheme.invalidateLock ? new RwSemaphore(`invalidate_lock(${at})`, 'invalidate_lock') : null;
  const host: MappingHost = world.node
    ? {
        ino,
        name: at,
        get size() {
          return inode.size;
        },
        set size(v: number) {
          inode.size = v;
        },
      }
    : inode;
  inode.mapping = new AddressSpace(host, scenario.pageSize, il, world.mm.folioIds);
  inode.mapping.aops = {
    readFolio: (t, folio) => iomapReadFolio(t, inode, folio),
    writepages: (t, _m, wbc) => fs.ops.writepages(t, inode, wbc),
  };
  fs.inodes.push(inode);
  world.inodes.set(f.name, inode);
  scheme.setupInode(inode);
  inode.file.wbErr = inode.mapping.wbErr.sample();
  return inode;
}

/** A file another node created, as this node mounts it: its own inode over the same dinode. */
function mountFile(world: World, f: FileDecl, ino: number, addr: number, sameFile: Inode): void {
  makeInode(world, f, ino, addr, sameFile);
}

function createFile(world: World, f: FileDecl, ino: number, addr: number): void {
  const ps = world.scenario.pageSize;
  const inode = makeInode(world, f, ino, addr);
  const content = allocCells(f.size);
  const hasData = f.init === 'written' || f.init === 'cached' || f.init === 'dirty';
  if (hasData) for (let p = 0; p < f.size; p++) content[p] = initCell(p);
  world.initial.set(f.name, { size: f.size, cells: content });
  if (f.init !== 'hole') allocateInitialBlocks(world, inode, f, content);
  if (f.init === 'cached' || f.init === 'dirty') {
    for (let index = 0; index * ps < f.size; index++) {
      const folio = inode.mapping.setupFolio(index);
      folio.data.set(content.subarray(index * ps, Math.min(f.size, (index + 1) * ps)));
      folio.uptodate = true;
      folio.dirty = f.init === 'dirty';
    }
  }
}

function allocateInitialBlocks(world: World, inode: Inode, f: FileDecl, content: Cells): void {
  const bs = world.scenario.blockSize;
  for (let lblk = 0; lblk * bs < f.size; lblk++) {
    const pblk = world.fs.alloc.alloc();
    if (pblk < 0) throw new Error(`scenario ${world.scenario.name}: disk too small for file ${f.name}`);
    const written = f.init === 'written' || f.init === 'cached';
    inode.extents.set(lblk, written ? BlockState.Written : BlockState.Unwritten, pblk);
    if (written) {
      const block = allocCells(bs);
      block.set(content.subarray(lblk * bs, Math.min(f.size, (lblk + 1) * bs)));
      world.bdev.setupWrite(pblk * bs, block);
    }
  }
}

/** The bytes an op writes: its tag, and `data=` or a value that varies with the file offset. */
function opCells(tag: number, data: number | null, pos: number, len: number): Uint32Array {
  const out = allocCells(len);
  for (let i = 0; i < len; i++) out[i] = cell(tag, data ?? (tag * 31 + pos + i) & 0xff);
  return out;
}

/** Spawns one task per scenario task (and kswapd if the scenario asks for reclaim). */
export function spawnTasks(sim: Sim, world: World): void {
  let tag = TAG_FIRST_OP;
  for (const decl of world.scenario.tasks) {
    const w = taskWorld(world, decl.name);
    const plan = decl.ops.map((op) => ({ op, tag: tag++, ubuf: privateBuffer(w, decl.name, op) }));
    const clock = historyClock(world, decl.name);
    sim.spawn(decl.name, async (t) => {
      t.mm = w.mm;
      // The first step's footprint is what runOp records (src/sim/footprint.ts), not "anything".
      t.fp.length = 0;
      // After a system call, runOp records what it does: the buffer it observes (peekUser), the
      // history's clock, and the next op's start (recordOpStart).
      t.syscallReturnRecorded = true;
      for (const [i, p] of plan.entries()) {
        // Op i's frame is all the task carries now: the stateful search's position restarts here.
        t.freshContinuation(i);
        await runOp(t, w, p.op, p.tag, p.ubuf, clock);
      }
    });
  }
  if (world.scenario.reclaim > 0) spawnKswapd(sim, world);
}

/** The world of the node a task runs on (the world itself without nodes). */
export function taskWorld(world: World, task: string): World {
  const decl = world.scenario.nodes?.find((n) => n.tasks.includes(task));
  return world.nodes?.find((w) => w.node === decl?.name) ?? world;
}

/** kswapd reclaims on every node (each node's own kswapd in Linux; one task here). */
function spawnKswapd(sim: Sim, world: World): void {
  const mappings = (world.nodes ?? [world]).flatMap((w) => [...w.inodes.values()].map((i) => i.mapping));
  const cursor = { next: 0 };
  sim.spawn('kswapd', async (t) => {
    for (let i = 0; i < world.scenario.reclaim; i++) {
      await t.point('kswapd:shrink_folio_list');
      shrinkOneFolio(t, mappings, cursor);
    }
  });
}

/** An op without `buf=` uses a private anonymous buffer of its own, populated up front. */
function privateBuffer(world: World, task: string, op: Op): number {
  if ((op.op !== 'pread' && op.op !== 'pwrite') || op.buf) return 0;
  const vma = world.mm.mmap(`${task}:${op.op}@${op.line}`, Math.max(op.len, 1), false, null, 0, null);
  world.mm.populateAnon(vma);
  return vma.start;
}

function userAddr(world: World, a: Addr): number {
  return (world.regions.get(a.region) as UserRegion).vma.start + a.offset;
}

/**
 * The history's logical clock, as footprint objects. The oracles see the clock only through
 * `a.end < b.start` (a completed before b was issued: src/check/oracles.ts, refmodel.ts), and only
 * for ops that contend with another task's (src/litmus/contention.ts says why the others' place in
 * real time never changes a verdict). So only a contended op's end and another task's contended op
 * start need ordering: each task's contended op ends write an object of that task's, and a contended
 * op start reads every other task's. Two starts, or two ends, commute: swapping them changes tick
 * numbers, never the real-time order an oracle judges by.
 */
interface HistoryClock {
  /** Written at each of this task's contended op ends. */
  ends: number;
  /** The other tasks' `ends`, read at each of this task's contended op starts. */
  others: number[];
  contended: Set<Op>;
}

function historyEnds(task: string): number {
  return objectId(`history: op ends of ${task}`);
}

const clocks = new WeakMap<Scenario, Map<string, HistoryClock>>();

/** A task's HistoryClock; every task's is made once per scenario (a world is built for every run). */
function historyClock(world: World, task: string): HistoryClock {
  const sc = world.scenario;
  let byTask = clocks.get(sc);
  if (!byTask) {
    const contended = contendedOps(sc);
    byTask = new Map(
      sc.tasks.map((d) => [
        d.name,
        {
          ends: historyEnds(d.name),
          others: sc.tasks.filter((o) => o.name !== d.name).map((o) => historyEnds(o.name)),
          contended,
        },
      ]),
    );
    clocks.set(sc, byTask);
  }
  return byTask.get(task) as HistoryClock;
}

/**
 * The footprint of an op's start, up to its first scheduling point: the history's clock, and what
 * the system call's entry may touch before it gets anywhere (src/sim/footprint.ts). Reads, writes
 * and mapped accesses only read the inode there (generic_write_checks, i_size; their locks and
 * lookups record themselves), and so does an fsync whose scheme says so (fsyncRecorded); every
 * other op may change it. The inode's parts with objects of their own (i_size, page granules)
 * record the inode read, so a change of the whole conflicts with them.
 */
function recordOpStart(world: World, op: Op, clock: HistoryClock): void {
  if (clock.contended.has(op)) for (const o of clock.others) record(o, false);
  const file =
    'file' in op ? op.file : 'addr' in op ? (world.regions.get(op.addr.region) as UserRegion).file : null;
  const inode = file ? world.inodes.get(file) : undefined;
  if (!inode) {
    if (op.op !== 'load' && op.op !== 'store') record(ANYTHING, true);
    return;
  }
  const sync = op.op === 'fsync' || op.op === 'fdatasync';
  const readOnly =
    op.op === 'pread' ||
    op.op === 'pwrite' ||
    op.op === 'load' ||
    op.op === 'store' ||
    (sync && inode.fs.ops.fsyncRecorded === true);
  record(inode.ino, !readOnly);
  // i_size, an object of its own (Inode.size): read by the entry of a read, write or mapped
  // access; an fsync that records itself reads it where it does (iomap_writepage_handle_eof).
  if (readOnly && !sync) record(inode.sizeObj, false);
}

const labels = new WeakMap<Op, string>();

/** An op in litmus syntax, printed once per scenario (a world is built for every run). */
function opLabel(op: Op): string {
  let l = labels.get(op);
  if (l === undefined) {
    l = formatOp(op);
    labels.set(op, l);
  }
  return l;
}

async function runOp(
  t: Task,
  world: World,
  op: Op,
  tag: number,
  privateUbuf: number,
  clock: HistoryClock,
): Promise<void> {
  const rec: OpRecord = {
    tag,
    task: t.name,
    label: opLabel(op),
    line: op.line,
    start: tick(world.history),
    end: 0,
    ret: null,
    effects: [],
    observed: null,
    synced: null,
  };
  world.history.ops.push(rec);
  recordOpStart(world, op, clock);
  t.event('op', rec.label, tag);
  const ret = await execOp(t, world, op, tag, privateUbuf, rec);
  rec.ret = ret;
  if (clock.contended.has(op)) record(clock.ends, true);
  rec.end = tick(world.history);
  if (t.tracing) t.sim.traceEvent(t, 'result', 'op-return', tag, `${rec.label} = ${ret}`);
}

async function execOp(
  t: Task,
  world: World,
  op: Op,
  tag: number,
  privateUbuf: number,
  rec: OpRecord,
): Promise<number> {
  switch (op.op) {
    case 'pread':
    case 'pwrite':
      return execReadWrite(t, world, op, tag, privateUbuf, rec);
    case 'load':
    case 'store':
      return execLoadStore(t, world, op, tag, rec);
    case 'fallocate': {
      const inode = world.inodes.get(op.file) as Inode;
      const ret = await sysFallocate(t, inode, op.mode, op.off, op.len, op.keepSize);
      if (ret === 0) {
        const e: Effect =
          op.mode === 'collapse' || op.mode === 'insert'
            ? { k: op.mode, region: op.file, off: op.off, len: op.len }
            : { k: op.mode, region: op.file, off: op.off, len: op.len, keepSize: op.keepSize };
        rec.effects.push(e);
      }
      return ret;
    }
    case 'truncate': {
      const ret = await sysTruncate(t, world.inodes.get(op.file) as Inode, op.size);
      if (ret === 0)
        rec.effects.push({ k: 'truncate', region: op.file, size: op.size, block: world.scenario.blockSize });
      return ret;
    }
    case 'fsync':
    case 'fdatasync': {
      const ret = await sysFsync(t, world.inodes.get(op.file) as Inode, op.op === 'fdatasync');
      rec.synced = op.file;
      return ret;
    }
    case 'writeback':
      return writebackInode(t, world.inodes.get(op.file) as Inode);
    case 'msync': {
      const r = world.regions.get(op.addr.region) as UserRegion;
      if (!r.file) return 0;
      const inode = world.inodes.get(r.file) as Inode;
      const start = r.fileOff + op.addr.offset;
      const ret = await inode.fs.ops.fsync(t, inode, start, start + op.len, false);
      rec.synced = r.file;
      rec.syncedRange = [start, start + op.len];
      return ret;
    }
    case 'evict': {
      const inode = world.inodes.get(op.file) as Inode;
      await t.point('invalidate_mapping_pages', inode.ino, true);
      invalidateMappingPage(t, inode.mapping, Math.floor(op.off / world.scenario.pageSize));
      return 0;
    }
  }
}

async function execReadWrite(
  t: Task,
  world: World,
  op: Extract<Op, { op: 'pread' | 'pwrite' }>,
  tag: number,
  privateUbuf: number,
  rec: OpRecord,
): Promise<number> {
  const inode = world.inodes.get(op.file) as Inode;
  const ubuf = op.buf ? userAddr(world, op.buf) : privateUbuf;
  if (op.op === 'pwrite') {
    if (!op.buf) fillPrivate(world, ubuf, opCells(tag, op.data, op.off, op.len));
    const ret = await sysPwrite(t, inode, op.off, op.len, ubuf, op.direct);
    if (ret > 0) rec.effects.push(writeEffect(world, op, ret, tag));
    if (ret > 0 && op.direct) fallbackEffect(world, op, rec);
    else if (ret < 0 && op.direct) partialEffects(world, rec, writeEffect(world, op, op.len, tag));
    return ret;
  }
  const ret = await sysPread(t, inode, op.off, op.len, ubuf, op.direct);
  if (ret > 0) {
    rec.observed = observe(world, op.file, op.off, ubuf, ret);
    if (op.buf) {
      const dst = refAddr(world, op.buf);
      rec.effects.push({
        k: 'copy',
        src: op.file,
        srcOff: op.off,
        dst: dst.region,
        dstOff: dst.off,
        len: ret,
        dstIsStore: true,
        ...(op.direct
          ? { bios: { block: world.scenario.blockSize, page: world.scenario.pageSize } }
          : { pieces: world.scenario.pageSize }),
      });
      if (op.direct && ret < op.len) rec.alternatives = zeroTails(world, rec.effects, dst, ret, op.len);
    }
  } else if (ret < 0 && op.direct && op.buf) {
    const dst = refAddr(world, op.buf);
    partialEffects(world, rec, {
      k: 'copy',
      src: op.file,
      srcOff: op.off,
      dst: dst.region,
      dstOff: dst.off,
      len: op.len,
      dstIsStore: true,
    });
  }
  return ret;
}

/**
 * An O_DIRECT op that fails (EFAULT: a buffer page that cannot be pinned; an error of a later
 * extent) may already have moved the sectors before it: iomap_dio_rw submits a bio per pinned
 * chunk and reports the error, not the progress (IOMAP_DIO_PARTIAL is for callers that ask). So
 * its effect is any sector-aligned prefix of the whole transfer, or nothing (the checker tries
 * nothing for every failed op). An error found before anything moved (EINVAL up front) is
 * over-approximated the same way: it can only hide a finding, never make one.
 */
function partialEffects(world: World, rec: OpRecord, whole: Effect): void {
  if (whole.k !== 'copy' && whole.k !== 'write') return;
  const len = whole.k === 'copy' ? whole.len : whole.cells.length;
  const ss = sectorSize(world.scenario);
  const prefix = (n: number): Effect =>
    whole.k === 'copy' ? { ...whole, len: n, dma: false } : { ...whole, cells: whole.cells.subarray(0, n) };
  rec.effects.push(whole);
  const alternatives: Effect[][] = [];
  for (let n = ss; n < len; n += ss) alternatives.push([prefix(n)]);
  if (alternatives.length) rec.alternatives = alternatives;
}

function writeEffect(world: World, op: Extract<Op, { op: 'pwrite' }>, len: number, tag: number): Effect {
  if (!op.buf) {
    const w: Effect = { k: 'write', region: op.file, off: op.off, cells: opCells(tag, op.data, op.off, len) };
    const bios = { block: world.scenario.blockSize, page: world.scenario.pageSize };
    return op.direct ? { ...w, bios } : { ...w, pieces: world.scenario.pageSize };
  }
  const src = refAddr(world, op.buf);
  const e: Effect = {
    k: 'copy',
    src: src.region,
    srcOff: src.off,
    dst: op.file,
    dstOff: op.off,
    len,
    dstIsStore: false,
  };
  const bios = { block: world.scenario.blockSize, page: world.scenario.pageSize };
  return op.direct ? { ...e, dma: true, bios } : { ...e, pieces: world.scenario.pageSize };
}

/**
 * An O_DIRECT write may be done as a buffered one: iomap_dio_rw returns -ENOTBLK when it cannot
 * invalidate the page cache over the range, and xfs_file_write_iter / ext4_dio_write_iter then
 * fall back to the buffered path (direct_write_fallback), whose copy goes a page at a time
 * (refmodel.ts, copyPieces). That differs from the DMA's read only when the buffer maps a file:
 * only then is the buffered copy offered as the other outcome (pagelab's scheme falls back too).
 */
function fallbackEffect(world: World, op: Extract<Op, { op: 'pwrite' }>, rec: OpRecord): void {
  const e = rec.effects[0];
  if (!op.buf || e?.k !== 'copy' || !(world.regions.get(op.buf.region) as UserRegion).file) return;
  rec.alternatives = [[{ ...e, dma: false, pieces: world.scenario.pageSize }]];
}

/**
 * An O_DIRECT read cut short by EOF moves whole blocks, and past the EOF block iomap zero-fills
 * the rest of the request in the user buffer (iomap_dio_hole_iter: iov_iter_zero): the buffer's
 * bytes past what the read returned may be zeroed, up to some sector boundary or to the end. The
 * model zeroes to the end of the request, as iomap_dio_hole_iter does (src/fs/iomap/direct-io.ts);
 * the oracle allows any.
 */
function zeroTails(
  world: World,
  effects: Effect[],
  dst: { region: string; off: number },
  ret: number,
  len: number,
): Effect[][] {
  const ss = sectorSize(world.scenario);
  const out: Effect[][] = [];
  for (let end = Math.ceil((ret + 1) / ss) * ss; ; end += ss) {
    const n = Math.min(end, len) - ret;
    out.push([...effects, { k: 'store', region: dst.region, off: dst.off + ret, cells: allocCells(n) }]);
    if (end >= len) return out;
  }
}

/**
 * A user address as the reference model names it: the file's bytes behind a shared mapping, the
 * private mapping itself (its own region: refmodel.ts, PrivateMap), or the anonymous buffer.
 */
function refAddr(world: World, a: Addr): { region: string; off: number } {
  const r = world.regions.get(a.region) as UserRegion;
  return r.file && r.shared
    ? { region: r.file, off: r.fileOff + a.offset }
    : { region: a.region, off: a.offset };
}

async function execLoadStore(
  t: Task,
  world: World,
  op: Extract<Op, { op: 'load' | 'store' }>,
  tag: number,
  rec: OpRecord,
): Promise<number> {
  const r = world.regions.get(op.addr.region) as UserRegion;
  const uaddr = userAddr(world, op.addr);
  const pos = r.fileOff + op.addr.offset;
  if (op.op === 'store') {
    const cells = opCells(tag, op.data, pos, op.len);
    // What follows the store (the op's end) records itself: AfterCopy.
    const ret = await userStore(t, uaddr, cells, 'recorded');
    if (ret === 0) rec.effects.push({ k: 'store', ...refAddr(world, op.addr), cells });
    return ret;
  }
  const got = await userLoad(t, uaddr, op.len, 'recorded');
  if (typeof got === 'number') return got;
  if (r.shared || !r.file) rec.observed = { region: r.file ?? op.addr.region, off: pos, cells: got };
  return 0;
}

function fillPrivate(world: World, ubuf: number, cells: Cells): void {
  const vma = world.mm.findVma(ubuf) as Vma;
  const ps = world.scenario.pageSize;
  for (let i = 0; i < cells.length; i++) {
    const a = ubuf + i - vma.start;
    const pte = vma.ptes.get(Math.floor(a / ps));
    if (pte) pte.folio.data[a % ps] = cells[i];
  }
}

/** Snapshot of what a read left in the user buffer, or null if the buffer is not mapped now. */
function observe(world: World, file: string, off: number, ubuf: number, len: number): Observation | null {
  const cells = allocCells(len);
  for (let i = 0; i < len; i++) {
    const c = peekUser(world.mm, ubuf + i);
    if (c === null) return null;
    cells[i] = c;
  }
  return { region: file, off, cells };
}

/** The three quiescent views of a file and what survives a crash (computed without side effects). */
export interface FileViews {
  cache: Region;
  mmap: Region;
  direct: Region;
  crashed: Region;
  /** With nodes: the buffered and mmap views on each node (cache and mmap are the first's). */
  perNode?: { node: string; cache: Region; mmap: Region }[];
}

export function fileViews(world: World, name: string): FileViews {
  const inode = world.inodes.get(name) as Inode;
  const size = inode.size;
  const ps = world.scenario.pageSize;
  const bs = world.scenario.blockSize;
  const direct = allocCells(size);
  // [from, end) of the file as the device has it now: a block not written there reads as zeroes.
  const disk = (from: number, end: number): void => {
    for (let p = from; p < end; ) {
      const lblk = Math.floor(p / bs);
      const stop = Math.min(end, (lblk + 1) * bs);
      if (inode.extents.state(lblk) === BlockState.Written) {
        world.bdev.copyOut(direct, p, inode.extents.pblk(lblk) * bs + (p - lblk * bs), stop - p);
      } else direct.fill(TAG_ZERO, p, stop);
      p = stop;
    }
  };
  // The direct view: the device, and over it the dirty pages of any node (with nodes, the glock
  // lets one node at a time, in EX, hold dirty pages of a file).
  const worlds = world.nodes ?? [world];
  for (let page = 0; page * ps < size; page++) {
    const folio = dirtyFolio(worlds, name, page);
    const start = page * ps;
    const end = Math.min(size, start + ps);
    if (folio) copyCells(direct, start, folio.data, 0, end - start);
    else disk(start, end);
  }
  // After a crash: the block map of the last commit (DurableExtents), stable media only; a block
  // not written there reads as zeroes (allocCells zeroes: TAG_ZERO).
  const crashed = allocCells(size);
  const durable = world.durable.get(name);
  for (let lblk = 0; durable && lblk * bs < size; lblk++) {
    if (durable.states[lblk] !== BlockState.Written) continue;
    const len = Math.min(size, (lblk + 1) * bs) - lblk * bs;
    world.bdev.copyOut(crashed, lblk * bs, durable.pblks[lblk] * bs, len, true);
  }
  const views = worlds.map((w) => nodeViews(w, name, size, direct));
  // Built field by field: an object spread here was a tenth of fileViews' cost.
  const out: FileViews = {
    cache: views[0].cache,
    mmap: views[0].mmap,
    direct: { size, cells: direct },
    crashed: { size, cells: crashed },
  };
  if (world.nodes) out.perNode = worlds.map((w, i) => ({ node: w.node as string, ...views[i] }));
  return out;
}

function dirtyFolio(worlds: readonly World[], name: string, page: number): Folio | null {
  for (const w of worlds) {
    const folio = (w.inodes.get(name) as Inode).mapping.get(page);
    if (folio?.uptodate && folio.dirty) return folio;
  }
  return null;
}

/**
 * What a buffered read and an mmap read on this world's node return: its uptodate pages, else
 * the direct view (on one node, the device: a page that is not uptodate is not dirty; across
 * nodes, what the read's SH request would make the EX node write back first).
 */
function nodeViews(world: World, name: string, size: number, direct: Cells): { cache: Region; mmap: Region } {
  const ps = world.scenario.pageSize;
  const inode = world.inodes.get(name) as Inode;
  const cache = allocCells(size);
  const mmap = allocCells(size);
  for (let page = 0; page * ps < size; page++) {
    const folio = inode.mapping.get(page);
    const start = page * ps;
    const end = Math.min(size, start + ps);
    if (folio?.uptodate) copyCells(cache, start, folio.data, 0, end - start);
    else copyCells(cache, start, direct, start, end - start);
  }
  copyCells(mmap, 0, cache, 0, size);
  for (const r of world.regions.values()) {
    if (r.file !== name || !r.shared) continue;
    for (const [i, pte] of r.vma.ptes) {
      for (let o = 0; o < ps; o++) {
        const p = r.fileOff + i * ps + o;
        if (p < size) mmap[p] = pte.folio.data[o];
      }
    }
  }
  return { cache: { size, cells: cache }, mmap: { size, cells: mmap } };
}

export { EFAULT };
