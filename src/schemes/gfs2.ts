/**
 * gfs2 and gfs2-2021: GFS2's per-inode glock (src/fs/gfs2/glock.ts) around every path, and the two
 * answers to "the user buffer of a read or write is an mmap of a gfs2 file" (seeds 000, 001).
 *
 * Lock ordering (gfs2-glocks.rst: "i_rwsem -> rename glock -> inode glocks -> ... -> page lock"):
 *   i_rwsem                  (exclusive: write(2), O_DIRECT write, truncate, fallocate)
 *     inode glock            EX: buffered write, truncate, fallocate
 *                            DF: O_DIRECT read and write
 *                            SH: buffered read
 *       mmap_lock            (GUP, copy_{to,from}_user: faults while the glock is held)
 *         inode glock        SH: gfs2_fault; EX: gfs2_page_mkwrite
 *           invalidate_lock (shared, filemap_fault adding a folio; `gfs2`, not `gfs2-2021`)
 *             folio_lock
 * The glock appears twice: a fault on a mapping of a gfs2 file, taken while that task holds an
 * inode glock, is the inversion seed 001 is about. On the same glock it is add_to_queue()'s
 * trap_recursive (BUG()); on two files and two tasks an ABBA deadlock (Jan Kara's example).
 *
 * `gfs2` — Linux 5.16 (merge c03098d4b9ad: 00bfe02f4796 buffered I/O, b01b2d72da25 direct I/O),
 * fs/gfs2/file.c:
 *   gfs2_file_read_iter    O_DIRECT: gfs2_file_direct_read; else SH, buffered read
 *   gfs2_file_direct_read  DF; pagefault_disable + to->nofault + iomap_dio_rw(IOMAP_DIO_PARTIAL)
 *   gfs2_file_write_iter   inode_lock; O_DIRECT: gfs2_file_direct_write, the rest buffered with
 *                          IOCB_DSYNC, then generic_write_sync + invalidate_mapping_pages
 *   gfs2_file_direct_write DF; beyond EOF: fall back to buffered ("Silently fall back to
 *                          buffered I/O when writing beyond EOF"); from->nofault + iomap_dio_rw
 *                          (IOMAP_DIO_PARTIAL); -ENOTBLK → 0 (buffered for the rest)
 *   gfs2_iomap_begin       O_DIRECT write: maps, never allocates; a hole → -ENOTBLK, the DIO
 *                          completes what it submitted, the rest goes buffered under EX
 *   gfs2_file_buffered_write EX; pagefault_disable + iomap_file_buffered_write
 *   gfs2_fault             SH around filemap_fault
 *   gfs2_page_mkwrite      EX: i_size check (SIGBUS), page lock, uptodate/truncated check (NOPAGE),
 *                          blocks; the page dirtied after gfs2_glock_dq (gfs2PageMkwrite)
 *   gfs2_setattr, gfs2_fallocate  i_rwsem + EX
 * and around each glock-holding I/O the loop of kernel.md §5: if should_fault_in_pages():
 * gfs2_holder_allow_demote, fault_in_iov_iter_{readable,writeable}(window),
 * gfs2_holder_disallow_demote; if something was faulted in: retry under the glock if
 * gfs2_holder_queued(), else re-acquire it and retry — except in the buffered paths, which then
 * return what they did if they did anything (`if (written) goto out_uninit;`). Nothing bounds the
 * loop: with the buffer mapping the very page an O_DIRECT write targets, each pass invalidates the
 * page (kiocb_invalidate_pages), GUP with FOLL_NOFAULT fails, the fault-in reads it back — "it
 * will currently livelock in an indefinite retry loop" (Kara, seed 000; fstests generic/729). The
 * model names the loop in the no-progress report (Task.retryLoop).
 *
 * `gfs2-2021` — the state Al Viro reviews in seed 001 (Gruenbacher's RFC of June 2021, "gfs2: Fix
 * mmap + page fault deadlocks (part 1)"): the same glock modes, pagefault_disable() around the
 * I/O while the glock is held, and on -EFAULT: drop the glock, fault in, retry. There is no
 * FOLL_NOFAULT and no IOMAP_DIO_PARTIAL yet, so iomap_dio_bio_iter → bio_iov_iter_get_pages →
 * GUP → faultin_page → handle_mm_fault reaches gfs2_fault / gfs2_page_mkwrite with the glock held
 * ("pagefault_disable() prevents that for real page faults, but not for get_user_pages_fast()",
 * Viro). No holder auto-demotion either (dc732906c245 came in August 2021). Kernel before 5.15:
 * no invalidate_lock.
 *
 * Departures from Linux, and why:
 * - should_fault_in_pages(): in 5.16 the larger window is computed into a local `pages` that
 *   shadows the outer one, so the window is one page minus the in-page offset whatever progress
 *   was made; the model follows the code (later kernels compute the intended window).
 * - Later history, not modelled: 5.18 dropped auto-demotion (e1fa9ea85ce8: gfs2_glock_dq before
 *   the fault-in, the same loop shape), and fa58cc888d67 "gfs2: Don't get stuck writing page onto
 *   itself under direct I/O" (6.4, reported by Kara after seed 000) bounds the loop: a retry that
 *   faulted in no more than a page and made no progress falls back to buffered I/O.
 * - gfs2_file_read_iter's first, lockless attempt (IOCB_NOIO + pagefault_disable: copy what is
 *   cached and uptodate without the glock) is omitted: every buffered read takes SH. It only
 *   shortens waits; it adds no page and takes no lock the SH path does not.
 * - gfs2-2021's fault-in window is the rest of the buffer; the RFC's exact retry code is not in
 *   the corpus, its shape (drop, fault in, retry) is what the seed discusses. Other 2021 drafts
 *   caught the same-glock recursion in gfs2_fault (gfs2_glock_is_locked_by_me → VM_FAULT_SIGBUS,
 *   kernel.md §5) and Kara's two-file case with LM_FLAG_OUTER + LM_FLAG_TRY inner locks; neither
 *   was merged, and gfs2-2021 models neither: it is the state Viro's review is about.
 * - One node (see glock.ts): no DLM, no lock-state caching, no go_sync/go_inval — unless the
 *   scenario has `node` lines: then each node's glock runs src/fs/gfs2/cluster.ts over one DLM
 *   (dlm.ts), with inode_go_sync / inode_go_inval below (docs/cluster.md). Writes beyond EOF are
 *   zeroed up to the write as in every scheme here (writeChecksZeroEof); no journal.
 *
 * `gfs2-nodf-read` — `gfs2` (5.16) whose gfs2_file_direct_read takes no glock: what Viro's question
 * ("What exactly are those cluster locks for in O_DIRECT read?") asks about, run across nodes;
 * n/a without nodes.
 * - No stuffed inodes (a small file's data in the dinode block): gfs2_iomap_begin answers every
 *   O_DIRECT write to one with -ENOTBLK, so on such a file all of it goes buffered.
 */
import { BlockState } from '../fs/extent.js';
import { fallocateLocked, truncateLocked } from '../fs/fallocate.js';
import { type FileOperations, type Inode, inodeDioWait } from '../fs/fs.js';
import { GlockCluster, type GlockOperations } from '../fs/gfs2/cluster.js';
import { Dlm, type LmState } from '../fs/gfs2/dlm.js';
import { Glock, type GlockState } from '../fs/gfs2/glock.js';
import { allocateUnwritten, iomapFileBufferedWrite, iomapWritepages } from '../fs/iomap/buffered-io.js';
import { type DioFlags, iomapDioRw } from '../fs/iomap/direct-io.js';
import { filemapRead, writeChecksZeroEof } from '../fs/read_write.js';
import { inRetryLoop, withPagefaultDisabled } from '../fs/retry.js';
import { genericFsync } from '../fs/sync.js';
import type { Scenario } from '../litmus/ast.js';
import {
  filemapFault,
  filemapWriteAndWaitRange,
  folioMarkDirty,
  invalidateMappingPage,
  truncateInodePagesRange,
  unmapMappingPages,
  VM_FAULT_LOCKED,
  VM_FAULT_NOPAGE,
  VM_FAULT_SIGBUS,
  type VmFault,
} from '../mm/filemap.js';
import type { Folio } from '../mm/folio.js';
import { type AfterCopy, faultInIovIterReadable, faultInIovIterWriteable } from '../mm/memory.js';
import { EFAULT, ENOTBLK } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import { fsPrivateOf } from './locks.js';
import type { Scheme } from './scheme.js';

/** `nodf-read`: 5.16 with gfs2_file_direct_read taking no glock (docs/cluster.md). */
type Variant = '5.16' | '2021' | 'nodf-read';

function glock(inode: Inode): Glock {
  return fsPrivateOf(inode, 'glock', Glock);
}

/** One I/O done under the glock, a pass at a time, with the fault-in-and-retry loop around it. */
interface GlockedIo {
  /** The kernel function (names the sites and the retry loop). */
  readonly fn: string;
  readonly inode: Inode;
  readonly state: GlockState;
  readonly len: number;
  readonly ubuf: number;
  /** fault_in_iov_iter_writeable (the I/O stores into the buffer: reads) or _readable. */
  readonly faultInWrite: boolean;
  /** Bytes [done, done+count) under the glock: bytes done (> 0), 0, or -errno. */
  pass(done: number, count: number): Promise<number>;
  /** Checked under the glock before each pass: stop without a pass (beyond-EOF fallback). */
  stop?(done: number): boolean;
  /**
   * gfs2_file_buffered_write: after a fault-in, the next pass covers only what was faulted in —
   * `from->count = min(from->count, window_size - leftover)`, 554c577cee95 "gfs2: Prevent endless
   * loops in gfs2_file_buffered_write", pulled for v5.16-rc2 (tag gfs2-v5.16-rc2-fixes), so in 5.16.
   */
  readonly clampToWindow?: boolean;
  /**
   * 5.16's buffered paths (gfs2_file_read_iter, gfs2_file_buffered_write): a holder demoted during
   * the fault-in ends the call when bytes are done — `if (!gfs2_holder_queued(gh)) { if (written)
   * goto out_uninit; goto retry; }` (`read` in the write path). The O_DIRECT paths always `goto
   * retry` (re-acquire the glock and go on).
   */
  readonly shortIfDemoted?: boolean;
}

interface IoResult {
  /** Bytes done over all passes. */
  done: number;
  /** What the last pass returned (0 if none ran). */
  ret: number;
}

function faultIn(t: Task, io: GlockedIo, uaddr: number, len: number): Promise<number> {
  return io.faultInWrite ? faultInIovIterWriteable(t, uaddr, len) : faultInIovIterReadable(t, uaddr, len);
}

/**
 * should_fault_in_pages() of 5.16: false when nothing is left, or the pass failed with anything but
 * -EFAULT; otherwise the window to fault in: one page minus the offset of the next user address.
 */
function shouldFaultInPages(ret: number, count: number, uaddr: number, ps: number): number {
  if (count === 0) return 0;
  if (ret <= 0 && ret !== -EFAULT) return 0;
  return ps - (uaddr % ps);
}

/**
 * The 5.16 loop (kernel.md §5): retry: gfs2_glock_nq; retry_under_glock: pass; if
 * should_fault_in_pages: allow demote, fault in the window, disallow demote; if anything was
 * faulted in, retry under the glock if gfs2_holder_queued(), else return short (buffered paths,
 * bytes done) or start again from `retry`.
 */
async function glockedIo516(t: Task, io: GlockedIo): Promise<IoResult> {
  const gl = glock(io.inode);
  const gh = gl.holderInit(t, io.state);
  const ps = io.inode.fs.pageSize;
  const r: IoResult = { done: 0, ret: 0 };
  let count = io.len;
  try {
    await gl.nq(t, gh, `${io.fn}:gfs2_glock_nq(${io.state})`);
    for (;;) {
      if (io.stop?.(r.done)) return r;
      r.ret = await io.pass(r.done, count);
      if (r.ret > 0) r.done += r.ret;
      count = io.len - r.done;
      const window = shouldFaultInPages(r.ret, count, io.ubuf + r.done, ps);
      if (!window) return r;
      const want = Math.min(window, count);
      gl.allowDemote(t, gh);
      const faulted = want - (await faultIn(t, io, io.ubuf + r.done, want));
      gl.disallowDemote(t, gh);
      if (faulted === 0) return r;
      if (io.clampToWindow) count = faulted;
      if (!gl.queued(gh) && io.shortIfDemoted && r.done > 0) {
        if (t.tracing)
          t.event(
            io.fn,
            `${io.inode.name}: glock demoted during the fault-in, ${r.done} bytes done: return them`,
          );
        return r;
      }
      t.retries++;
      await t.point(`${io.fn}:retry`, io.inode.ino);
      if (!gl.queued(gh)) await gl.nq(t, gh, `${io.fn}:gfs2_glock_nq(${io.state}) (retry)`);
    }
  } finally {
    if (gh.holder) gl.dq(t, gh);
  }
}

/**
 * The 2021 RFC loop: under the glock with page faults disabled; on -EFAULT drop the glock, fault
 * in the rest of the buffer and retry (no holder auto-demotion yet).
 */
async function glockedIo2021(t: Task, io: GlockedIo): Promise<IoResult> {
  const gl = glock(io.inode);
  const r: IoResult = { done: 0, ret: 0 };
  for (;;) {
    const gh = gl.holderInit(t, io.state);
    await gl.nq(t, gh, `${io.fn}:gfs2_glock_nq(${io.state})`);
    try {
      if (io.stop?.(r.done)) return r;
      r.ret = await io.pass(r.done, io.len - r.done);
      if (r.ret > 0) r.done += r.ret;
    } finally {
      gl.dq(t, gh);
    }
    const count = io.len - r.done;
    if (r.ret !== -EFAULT || count === 0) return r;
    if ((await faultIn(t, io, io.ubuf + r.done, count)) === count) return r;
    t.retries++;
    await t.point(`${io.fn}:retry`, io.inode.ino);
  }
}

function glockedIo(t: Task, v: Variant, io: GlockedIo): Promise<IoResult> {
  return inRetryLoop(t, io.fn, () => (v === '2021' ? glockedIo2021(t, io) : glockedIo516(t, io)));
}

function dioFlags(v: Variant, write: boolean): DioFlags {
  const flags: DioFlags = v === '2021' ? {} : { nofault: true, partial: true };
  // gfs2IomapBeginDirectWrite reads the extent map only (which records itself).
  return write ? { ...flags, iomapBegin: gfs2IomapBeginDirectWrite, iomapBeginRecorded: true } : flags;
}

/**
 * gfs2_iomap_begin() for IOMAP_WRITE | IOMAP_DIRECT (fs/gfs2/bmap.c): it maps and never allocates —
 * "Silently fall back to buffered I/O for stuffed files or if we've got a hole (see
 * gfs2_file_direct_write)": `if (iomap->type != IOMAP_MAPPED) ret = -ENOTBLK;`. The DIO stops
 * there (__iomap_dio_rw completes what it submitted) and gfs2_file_write_iter writes the rest
 * buffered, under EX, where gfs2_iomap_begin_write allocates. gfs2 has no unwritten extents
 * (gfs2_fallocate allocates and zeroes its blocks, which map as IOMAP_MAPPED); the model's
 * unwritten blocks are allocated blocks that read as zeroes, so they count as mapped.
 * Context: DF glock; the same in gfs2-2021, which this predates.
 */
async function gfs2IomapBeginDirectWrite(t: Task, inode: Inode, lblk: number): Promise<number> {
  if (inode.extents.state(lblk) !== BlockState.Hole) return 0;
  if (t.tracing)
    t.event('gfs2_iomap_begin', `${inode.name} lblk ${lblk} is a hole: -ENOTBLK (buffered under EX)`);
  return -ENOTBLK;
}

/**
 * gfs2_file_direct_read(): DF, page faults disabled (and FOLL_NOFAULT in 5.16). gfs2-nodf-read:
 * iomap_dio_rw with no glock at all — no DF request, so no other node is called back; what
 * iomap_dio_rw itself does (write back and invalidate this node's cache over the range) remains.
 */
async function directRead(t: Task, v: Variant, inode: Inode, pos: number, len: number, ubuf: number) {
  if (v === 'nodf-read') {
    if (t.tracing) t.event('gfs2_file_direct_read', `${inode.name}: no glock (gfs2-nodf-read)`);
    return iomapDioRw(t, inode, pos, len, ubuf, false, {});
  }
  const r = await glockedIo(t, v, {
    fn: 'gfs2_file_direct_read',
    inode,
    state: 'DF',
    len,
    ubuf,
    faultInWrite: true,
    pass: (done, count) =>
      withPagefaultDisabled(t, () =>
        iomapDioRw(t, inode, pos + done, count, ubuf + done, false, dioFlags(v, false)),
      ),
  });
  return r.ret < 0 ? r.ret : r.done;
}

/** gfs2_file_direct_write(): DF; stops (for a buffered fallback) when the write passes EOF. */
async function directWrite(t: Task, v: Variant, inode: Inode, pos: number, len: number, ubuf: number) {
  const r = await glockedIo(t, v, {
    fn: 'gfs2_file_direct_write',
    inode,
    state: 'DF',
    len,
    ubuf,
    faultInWrite: false,
    // iocb->ki_pos + iov_iter_count(from) > i_size: the position moves as the count shrinks.
    stop: () => pos + len > inode.size,
    async pass(done, count) {
      const ret = await iomapDioRw(t, inode, pos + done, count, ubuf + done, true, dioFlags(v, true));
      // `if (ret == -ENOTBLK) ret = 0;`: the pre-write invalidation failed; buffered for the rest.
      return ret === -ENOTBLK ? 0 : ret;
    },
  });
  return r.ret < 0 ? r.ret : r.done;
}

/**
 * gfs2_file_buffered_write(): EX, the copy with page faults disabled. `tail`: what its caller does
 * after it returns (AfterCopy); glockedIo's own tail records itself (see bufferedRead).
 */
async function bufferedWrite(
  t: Task,
  v: Variant,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  tail: AfterCopy = 'anything',
) {
  const r = await glockedIo(t, v, {
    fn: 'gfs2_file_buffered_write',
    inode,
    state: 'EX',
    len,
    ubuf,
    faultInWrite: false,
    clampToWindow: true,
    shortIfDemoted: true,
    pass: (done, count) =>
      withPagefaultDisabled(t, () => iomapFileBufferedWrite(t, inode, pos + done, count, ubuf + done, tail)),
  });
  return r.done || r.ret;
}

/** gfs2_file_read_iter(), buffered part: SH, the copy to the user with page faults disabled. */
async function bufferedRead(t: Task, v: Variant, inode: Inode, pos: number, len: number, ubuf: number) {
  const r = await glockedIo(t, v, {
    fn: 'gfs2_file_read_iter',
    inode,
    state: 'SH',
    len,
    ubuf,
    faultInWrite: true,
    shortIfDemoted: true,
    pass: (done, count) =>
      // After filemap_read, glockedIo's tail records itself: the glock's demotion flag, queued
      // check and dq record the glock; the fault-in faults record themselves; the rest is the
      // task's own (its counts, pagefault_disable depth, retry loop).
      withPagefaultDisabled(t, () => filemapRead(t, inode, pos + done, count, ubuf + done, 'recorded')),
  });
  return r.done || r.ret;
}

/**
 * The end of gfs2_file_write_iter's O_DIRECT branch: the rest buffered (IOCB_DSYNC), written back
 * (generic_write_sync) and dropped from the cache (invalidate_mapping_pages).
 */
async function directWriteRest(
  t: Task,
  v: Variant,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  direct: number,
): Promise<number> {
  if (t.tracing) t.event('gfs2_file_write_iter', `${inode.name} [${pos + direct},${pos + len}) buffered`);
  const buffered = await bufferedWrite(t, v, inode, pos + direct, len - direct, ubuf + direct);
  if (buffered <= 0) return direct || buffered;
  const start = pos + direct;
  const err = await filemapWriteAndWaitRange(t, inode.mapping, start, start + buffered);
  const ps = inode.fs.pageSize;
  for (let i = Math.floor(start / ps); i <= Math.floor((start + buffered - 1) / ps); i++)
    invalidateMappingPage(t, inode.mapping, i);
  return err ? direct || err : direct + buffered;
}

async function writeIter(
  t: Task,
  v: Variant,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  direct: boolean,
): Promise<number> {
  await inode.iRwsem.downWrite(t, 'gfs2_file_write_iter:inode_lock');
  try {
    const zerr = await writeChecksZeroEof(t, inode, pos);
    if (zerr) return zerr;
    // After it: inode_unlock, which records itself, and the return.
    if (!direct) return await bufferedWrite(t, v, inode, pos, len, ubuf, 'recorded');
    const ret = await directWrite(t, v, inode, pos, len, ubuf);
    if (ret < 0 || ret === len) return ret;
    return await directWriteRest(t, v, inode, pos, len, ubuf, ret);
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

/** The glock around `fn`, released whatever `fn` returns. */
async function withGlock(
  t: Task,
  inode: Inode,
  state: GlockState,
  site: string,
  fn: () => Promise<number>,
): Promise<number> {
  const gl = glock(inode);
  const gh = gl.holderInit(t, state);
  await gl.nq(t, gh, site);
  try {
    return await fn();
  } finally {
    gl.dq(t, gh);
  }
}

/** i_rwsem exclusive, then EX (gfs2_fallocate, gfs2_setattr_size). */
async function withInodeLockAndEx(t: Task, inode: Inode, fn: string, body: () => Promise<number>) {
  await inode.iRwsem.downWrite(t, `${fn}:inode_lock`);
  try {
    return await withGlock(t, inode, 'EX', `${fn}:gfs2_glock_nq(EX)`, body);
  } finally {
    inode.iRwsem.upWrite(t);
  }
}

/** The site of a fault handler's glock request, naming the path that raised the fault. */
function faultSite(fn: string, state: GlockState, vmf: VmFault): string {
  return `${fn}:gfs2_glock_nq(${state})${vmf.via ? ` via ${vmf.via}` : ''}`;
}

/**
 * gfs2_page_mkwrite() (fs/gfs2/file.c; 5.16 on struct page, the same order today on folios), in
 * Linux's order: the EX glock; `if (offset >= size) { ret = VM_FAULT_SIGBUS; goto out_unlock; }`
 * under EX, before the page lock; the page locked, and "If truncated, we must retry the operation,
 * we may have raced with the glock demotion code": `!PageUptodate(page) || page->mapping !=
 * inode->i_mapping` → VM_FAULT_NOPAGE; the page's blocks allocated if it has holes
 * (gfs2_write_alloc_required → gfs2_allocate_page_backing); gfs2_glock_dq; and only then, the page
 * still locked, `set_page_dirty(page); wait_for_stable_page(page);`. In that window the page is
 * locked and clean and no glock is held: an O_DIRECT writer can take DF, find nothing to write
 * back, then wait for the page lock in the invalidation and find the page dirty (-EBUSY →
 * -ENOTBLK → buffered). The same in gfs2-2021 (this order predates the RFC).
 */
async function gfs2PageMkwrite(t: Task, inode: Inode, vmf: VmFault): Promise<number> {
  const folio = vmf.folio as Folio;
  const site = faultSite('gfs2_page_mkwrite', 'EX', vmf);
  const ret = await withGlock(t, inode, 'EX', site, () => pageMkwriteUnderEx(t, inode, folio));
  if (ret !== VM_FAULT_LOCKED) return ret;
  // After gfs2_glock_dq, the page locked and still clean.
  await t.pointPages('gfs2_page_mkwrite:set_page_dirty', inode.ino, folio.index, folio.index + 1, true);
  folioMarkDirty(t, folio);
  await folio.waitWriteback(t, 'gfs2_page_mkwrite:wait_for_stable_page');
  return VM_FAULT_LOCKED;
}

/** gfs2_page_mkwrite() from its i_size check to out_unlock; returns with the page locked if LOCKED. */
async function pageMkwriteUnderEx(t: Task, inode: Inode, folio: Folio): Promise<number> {
  const ps = inode.fs.pageSize;
  if (folio.index * ps >= inode.size) return VM_FAULT_SIGBUS;
  // set_bit(GIF_SW_PAGED, &ip->i_flags): inode_go_sync unmaps the shared mappings on a demotion.
  const remote = glock(inode).remote;
  if (remote instanceof GlockCluster) remote.swPaged = true;
  await folio.lock.lock(t, 'gfs2_page_mkwrite:lock_page');
  if (!folio.uptodate || folio.mapping !== inode.mapping) {
    folio.lock.unlock(t);
    return VM_FAULT_NOPAGE;
  }
  const bs = inode.blockSize;
  const first = (folio.index * ps) / bs;
  const end = Math.min(inode.size, (folio.index + 1) * ps);
  if (allocateUnwritten(t, inode, first, Math.ceil(end / bs) - first)) {
    folio.lock.unlock(t);
    return VM_FAULT_SIGBUS; // block_page_mkwrite_return(-ENOSPC)
  }
  return VM_FAULT_LOCKED;
}

function makeOps(v: Variant): FileOperations {
  return {
    readIter: (t, inode, pos, len, ubuf, direct) =>
      direct ? directRead(t, v, inode, pos, len, ubuf) : bufferedRead(t, v, inode, pos, len, ubuf),
    writeIter: (t, inode, pos, len, ubuf, direct) => writeIter(t, v, inode, pos, len, ubuf, direct),
    fallocate: (t, inode, mode, off, len, keepSize) =>
      withInodeLockAndEx(t, inode, 'gfs2_fallocate', () =>
        fallocateLocked(t, inode, mode, off, len, keepSize),
      ),
    setattrSize: (t, inode, size) =>
      withInodeLockAndEx(t, inode, 'gfs2_setattr_size', () => truncateLocked(t, inode, size)),
    fsync: (t, inode, start, end) => genericFsync(t, inode, start, end),
    fsyncRecorded: true, // genericFsync over iomapWritepages
    fault: (t, inode, vmf) =>
      withGlock(t, inode, 'SH', faultSite('gfs2_fault', 'SH', vmf), () => filemapFault(t, vmf)),
    pageMkwrite: (t, inode, vmf) => gfs2PageMkwrite(t, inode, vmf),
    writepages: (t, inode, wbc) => iomapWritepages(t, inode, wbc),
  };
}

function setupInode(inode: Inode): void {
  const node = inode.fs.node;
  if (!node) {
    inode.fsPrivate.set('glock', new Glock(`glock(${inode.name})`));
    return;
  }
  const gl = new Glock(`glock(${inode.name})@${node.name}`);
  const dlm = node.shared.get('gfs2:dlm') ?? new Dlm(node.dlmLatency);
  node.shared.set('gfs2:dlm', dlm);
  gl.remote = new GlockCluster(node.name, gl, (dlm as Dlm).resource(`dlm(${inode.name})`), inodeGlops(inode));
  inode.fsPrivate.set('glock', gl);
}

/** gfs2_inode_glops' ->go_sync and ->go_inval (fs/gfs2/glops.c) on this node's inode. */
function inodeGlops(inode: Inode): GlockOperations {
  return {
    goSync: (t, gl) => inodeGoSync(t, inode, gl),
    goInval: (t, _gl, target) => inodeGoInval(t, inode, target),
  };
}

/**
 * inode_go_sync(): `if (test_and_clear_bit(GIF_SW_PAGED, &ip->i_flags))
 * unmap_shared_mapping_range(ip->i_inode.i_mapping, 0, 0); inode_dio_wait(&ip->i_inode);` and, if
 * the glock is dirty (GLF_DIRTY, only ever under EX: `GLOCK_BUG_ON(gl, gl->gl_state !=
 * LM_ST_EXCLUSIVE)`), gfs2_log_flush then `filemap_fdatawrite(mapping); error =
 * filemap_fdatawait(mapping);`. The model writes back whenever the node leaves EX: the data
 * writeback of a clean mapping does nothing, and the journal is not modelled.
 */
async function inodeGoSync(t: Task, inode: Inode, gl: GlockCluster): Promise<void> {
  const mapping = inode.mapping;
  if (gl.swPaged) {
    gl.swPaged = false;
    if (t.tracing) t.event('inode_go_sync', `${gl.gl.name}: GIF_SW_PAGED: unmap_shared_mapping_range`);
    unmapMappingPages(t, mapping, 0, Number.MAX_SAFE_INTEGER, false);
  }
  await inodeDioWait(t, inode);
  if (gl.glState !== 'EX') return;
  if (t.tracing) t.event('inode_go_sync', `${gl.gl.name}: filemap_fdatawrite + filemap_fdatawait`);
  await filemapWriteAndWaitRange(t, mapping, 0, Number.MAX_SAFE_INTEGER);
}

/**
 * inode_go_inval() into UN or DF: `truncate_inode_pages(ip->i_inode.i_mapping, 0)`, every page
 * of the file on this node (the metadata cache it also drops into UN is not modelled: the
 * dinode is shared, see src/fs/gfs2/cluster.ts).
 */
async function inodeGoInval(t: Task, inode: Inode, target: LmState): Promise<void> {
  if (t.tracing)
    t.event('inode_go_inval', `${inode.name}@${inode.fs.node?.name}: truncate_inode_pages (into ${target})`);
  await truncateInodePagesRange(t, inode.mapping, 0, Number.MAX_SAFE_INTEGER);
}

export const gfs2: Scheme = {
  name: 'gfs2',
  summary:
    'GFS2 5.16: inode glock (EX/SH/DF); O_DIRECT with FOLL_NOFAULT, partial DIO, fault-in with auto-demote, retry',
  invalidateLock: true,
  cluster: true,
  setupInode,
  ops: makeOps('5.16'),
};

/** Which schemes run across nodes: gfs2 and its variant; every other scheme is one node. */
function oneNodeOnly(scenario: Scenario): string | null {
  return scenario.nodes
    ? null
    : 'gfs2-nodf-read differs from gfs2 in what other nodes see: it is defined for scenarios with node lines (docs/cluster.md)';
}

export const gfs2NoDfRead: Scheme = {
  name: 'gfs2-nodf-read',
  summary:
    "gfs2 across nodes with O_DIRECT read taking no glock: the history of Viro's question (docs/cluster.md)",
  invalidateLock: true,
  cluster: true,
  setupInode,
  ops: makeOps('nodf-read'),
  notApplicable: oneNodeOnly,
};

export const gfs2In2021: Scheme = {
  name: 'gfs2-2021',
  summary:
    'GFS2 RFC of June 2021 (seed 001): pagefault_disable() under the glock, but GUP still faults into gfs2_fault',
  invalidateLock: false,
  setupInode,
  ops: makeOps('2021'),
};
