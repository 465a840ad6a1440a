/**
 * The block device: sectors of provenance-tagged bytes, bios with a modelled latency, a volatile
 * write cache, FLUSH and FUA, and crash (lose what was not flushed).
 *
 * Addresses are bytes, in whole sectors (the logical block size, bdev_logical_block_size: the
 * O_DIRECT alignment unit, 512 bytes under 4 KiB filesystem blocks in Linux; the same 1:8 ratio by
 * default here). A bio's completion is a separate scheduling event: submitBio spawns an
 * interrupt-like task that performs the transfer when the scheduler runs it and then completes the
 * bio. So the explorer can put any other step between submission and completion, and a DMA reads
 * (or writes) the memory pages at completion time, as a real device would: a page changed after
 * submission is what the device sees.
 *
 * Departures from Linux: one bio covers contiguous sectors with one latency; there is no request
 * merging, queue depth or timeout, and no torn writes inside a sector.
 */
import { EINVAL } from '../sim/errno.js';
import { ANYTHING, objectId, record, sectorObj } from '../sim/footprint.js';
import type { Task } from '../sim/task.js';
import { Completion } from '../sync/completion.js';
import { allocCells, type Cells, copyCells, garbageCell } from './data.js';

export type BioOp = 'read' | 'write' | 'flush';

/** The volatile write cache as a whole, as a footprint object: written by a flush. */
const WRITE_CACHE = objectId('device write cache');

/** A piece of memory a bio transfers to or from (a folio's data, a pinned user page). */
export interface BioSeg {
  buf: Cells;
  off: number;
  len: number;
  /**
   * The memory's footprint object (a folio's fpObj), PRIVATE_BUFFER for a buffer only this bio
   * sees, or undefined: unknown — the transfer may touch anything (src/sim/footprint.ts).
   */
  obj?: number;
}

export const PRIVATE_BUFFER = -2;

export interface Bio {
  readonly id: number;
  readonly op: BioOp;
  /** Device byte address (a multiple of the sector size). */
  readonly addr: number;
  readonly segs: BioSeg[];
  /** FUA: the write reaches stable media before completion. */
  readonly fua: boolean;
  readonly done: Completion;
  error: number;
  /** The completion (interrupt) task that will finish this bio. */
  irq: Task | null;
  /** Runs in the completion task after the transfer (bi_end_io), before waiters are woken. */
  endIo: ((t: Task, bio: Bio) => void) | null;
}

export class BlockDevice {
  /** Stable media. */
  private readonly media: Cells;
  /** Volatile write cache: sectors written but not yet flushed (sector number → contents). */
  private readonly cache = new Map<number, Cells>();
  private bioSeq = 0;
  /**
   * Called when a flush completes (REQ_PREFLUSH). The crash model's metadata becomes durable
   * there: a journal commit (jbd2, xfs log force) is written with REQ_PREFLUSH | REQ_FUA, so what
   * the metadata exposes is stable first (src/litmus/world.ts, durableExtents).
   */
  readonly onFlush: (() => void)[] = [];

  constructor(
    /** Logical block size: the unit of addressing and of O_DIRECT alignment. */
    readonly sectorSize: number,
    readonly nbytes: number,
    readonly latency: number,
  ) {
    this.media = allocCells(nbytes).fill(garbageCell());
  }

  /**
   * submit_bio: queues the bio; a completion task transfers the data after `latency` ticks of
   * virtual time and completes `bio.done`. Context: any task; does not sleep.
   */
  submitBio(t: Task, op: BioOp, addr: number, segs: BioSeg[], fua = false): Bio {
    const id = ++this.bioSeq;
    const bio: Bio = {
      id,
      op,
      addr,
      segs,
      fua,
      done: new Completion(`bio#${id}`, 'bio'),
      error: 0,
      irq: null,
      endIo: null,
    };
    const len = segs.reduce((n, s) => n + s.len, 0);
    if (
      op !== 'flush' &&
      (addr % this.sectorSize !== 0 || len % this.sectorSize !== 0 || addr < 0 || addr + len > this.nbytes)
    ) {
      throw new Error(`bio#${id}: ${op} of ${len} bytes at ${addr} is unaligned or outside the device`);
    }
    if (op !== 'flush' && !this.dmaAligned(segs)) bio.error = -EINVAL;
    if (t.tracing)
      t.event(
        'submit_bio',
        `bio#${id} ${op}${op === 'flush' ? '' : ` [${addr},${addr + len})`}${fua ? ' FUA' : ''}${bio.error ? ' -EINVAL (misaligned memory)' : ''}`,
      );
    const irq = t.sim.spawn(`irq:bio#${id}`, async (it) => this.complete(it, bio), {
      irq: true,
      time: t.time + this.latency,
    });
    bio.irq = irq;
    bio.done.setWaker(irq);
    // bio ids follow submission order, which differs between interleavings: the completion's
    // footprint object is named by the submitter and its own count instead.
    if (t.sim.recording) bio.done.fpObj = objectId(`bio ${t.name}#${++t.bios}`);
    return bio;
  }

  /**
   * Declares that the bio's completion records everything it touches: its segments say what memory
   * they are (BioSeg.obj) and its endIo records its own accesses. Otherwise the completion task's
   * step may touch anything. Context: right after submitBio, before the completion can run.
   */
  footprintRecorded(bio: Bio): void {
    if (bio.irq) bio.irq.fp.length = 0;
  }

  /** submit_bio_wait: submits and sleeps until completion; returns the bio's error (0 or -errno). */
  async submitBioWait(
    t: Task,
    op: BioOp,
    addr: number,
    segs: BioSeg[],
    site: string,
    fua = false,
    /** The segments name their memory and there is no endIo: see footprintRecorded. */
    recorded = false,
  ): Promise<number> {
    const bio = this.submitBio(t, op, addr, segs, fua);
    if (recorded) this.footprintRecorded(bio);
    await bio.done.wait(t, site);
    return bio.error;
  }

  /**
   * The memory check of submit_bio (Linux 6.18: __bio_split_to_limits → bio_split_rw_at →
   * bio_split_io_at, "block: check for valid bio while splitting", Keith Busch): `if
   * (bv.bv_offset & lim->dma_alignment || bv.bv_len & len_align_mask) return -EINVAL`, and the bio
   * ends with BLK_STS_INVAL (-EINVAL) without a transfer. Only a bio that bio_may_need_split() sends
   * there is checked: more than one bio_vec, or one reaching past max_fast_segment_size (a page).
   * A segment here never crosses a page (one per pinned page), so one segment is the fast path, and
   * an O_DIRECT buffer misaligned inside one page is accepted. dma_alignment is the logical block
   * size less one (the default SECTOR_SIZE - 1 of blk_validate_limits at 512-byte sectors).
   */
  private dmaAligned(segs: readonly BioSeg[]): boolean {
    if (segs.length <= 1) return true;
    return segs.every((s) => s.off % this.sectorSize === 0 && s.len % this.sectorSize === 0);
  }

  private complete(t: Task, bio: Bio): void {
    if (bio.op === 'flush') {
      record(WRITE_CACHE, true);
      this.flush();
    } else if (!bio.error) this.transfer(bio);
    if (t.tracing) t.event('bio_endio', `bio#${bio.id} ${bio.op}`);
    bio.endIo?.(t, bio);
    bio.done.complete(t);
  }

  private transfer(bio: Bio): void {
    const ss = this.sectorSize;
    let sector = bio.addr / ss;
    for (const seg of bio.segs) {
      if (seg.obj !== PRIVATE_BUFFER) record(seg.obj ?? ANYTHING, bio.op === 'read');
      for (let o = 0; o < seg.len; o += ss, sector++) {
        record(sectorObj(sector), bio.op !== 'read');
        if (bio.op === 'read') {
          seg.buf.set(this.readSector(sector), seg.off + o);
          continue;
        }
        const data = seg.buf.slice(seg.off + o, seg.off + o + ss);
        // A cached write and a flush do not commute (the flush makes it durable or not); a FUA
        // write and a flush do, and no read can tell a cached sector from a flushed one.
        if (!bio.fua) record(WRITE_CACHE, false);
        if (bio.fua) {
          this.media.set(data, sector * ss);
          this.cache.delete(sector);
        } else {
          this.cache.set(sector, data);
        }
      }
    }
  }

  private readSector(sector: number): Cells {
    return (
      this.cache.get(sector) ?? this.media.subarray(sector * this.sectorSize, (sector + 1) * this.sectorSize)
    );
  }

  /** The byte at `addr` as a read would see it now (write cache first). */
  readByte(addr: number): number {
    const ss = this.sectorSize;
    const cached = this.cache.get(Math.floor(addr / ss));
    return cached ? cached[addr % ss] : this.media[addr];
  }

  /** The byte at `addr` on stable media (what survives a crash). */
  mediaByte(addr: number): number {
    return this.media[addr];
  }

  /**
   * Copies bytes [addr, addr+len) into `dst` at `at`: as readByte sees them (write cache first),
   * or with `media`, as mediaByte does. A sector at a time (the file views of every judged run).
   */
  copyOut(dst: Cells, at: number, addr: number, len: number, media = false): void {
    const ss = this.sectorSize;
    for (let done = 0; done < len; ) {
      const a = addr + done;
      const sector = Math.floor(a / ss);
      const off = a - sector * ss;
      const n = Math.min(len - done, ss - off);
      const cached = media ? undefined : this.cache.get(sector);
      if (cached) copyCells(dst, at + done, cached, off, n);
      else copyCells(dst, at + done, this.media, a, n);
      done += n;
    }
  }

  /**
   * A live view of stable media [addr, addr+len): what dax_direct_access() hands a DAX filesystem
   * (persistent memory is byte-addressable; stores through the view bypass the write cache and
   * the bios). Departure: CPU caches in front of pmem are not modelled, so a store is durable at
   * once (Linux needs the flush of dax_writeback_mapping_range or a non-temporal copy).
   */
  mediaView(addr: number, len: number): Cells {
    if (addr < 0 || addr + len > this.nbytes)
      throw new Error(`mediaView [${addr},${addr + len}) outside the device`);
    return this.media.subarray(addr, addr + len);
  }

  /** Writes bytes directly (scenario set-up, not a bio): straight to stable media. */
  setupWrite(addr: number, data: Cells): void {
    this.media.set(data, addr);
  }

  /** REQ_PREFLUSH: every cached write becomes stable. */
  flush(): void {
    for (const [sector, data] of this.cache) this.media.set(data, sector * this.sectorSize);
    this.cache.clear();
    for (const f of this.onFlush) f();
  }

  /** Power failure: the volatile cache is lost; returns how many cached sectors were dropped. */
  crash(): number {
    const n = this.cache.size;
    this.cache.clear();
    return n;
  }
}
