/**
 * Step footprints, for partial-order reduction (src/explore/dfs.ts). A step's footprint is a short
 * list of accesses, each encoded in one integer: `obj * 2 + (write ? 1 : 0)`, a *group* access
 * (below), or ANYTHING (-1) for a step that may touch any state. Two steps are dependent when
 * either may touch anything, or both touch one object and one of them writes, or one makes a group
 * access and the other any other kind of access to that object (a read, a write, another group).
 *
 * Group accesses are for mode locks: locks shared within a mode and exclusive across modes
 * (bcachefs's two-state lock, "add" and "block"; the gfs2 glock's SH and DF). Two acquisitions or
 * releases in one mode commute — the count moves the same way in either order — but one in each
 * mode do not, which no read/write pair can say (two reads never conflict, two writes always do).
 * A lock records a group access only where the step is one that commutes with any other of the
 * same mode: a release that may wake a waiter, or a change a waiter's check reads, writes the lock
 * (src/sync/twostate.ts, src/fs/gfs2/glock.ts).
 *
 * Objects are of two kinds:
 * - what a scheduling point declares for the step it begins (`task.point(site, obj, write)`): an
 *   inode number, or an objectId;
 * - what the runtime records by itself during the step: every lock, wait queue and completion a
 *   task acquires, releases, sleeps on or wakes (src/sync/held.ts, Sim.block, Sim.wake), named by
 *   objectId(lock.name). So a step's declaration never has to cover the locks it takes.
 *
 * An objectId is a hash of the object's name, not a counter: the same object gets the same id in
 * every run and in every worker thread, whatever order objects are created or touched in, so a
 * footprint recorded in one run (a sleep set entry) means the same thing in the next. Two names that
 * hash alike only make two steps look dependent: more schedules explored, never fewer.
 */
export const ANYTHING = -1;
/** A declaration of nothing: the step's recorded accesses are all of it (Task.pointRecorded). */
export const RECORDED_ONLY = -2;

/**
 * Object spaces (an encoded access must stay below 2^31):
 * - [0, 2^20): an inode number — the inode as a whole (i_size, mapping-wide state), and, as the
 *   parent of its page granules, what a step touching any of its pages reads;
 * - [2^28, 2^28 + 2^27): granule(ino, index) — one page of one file: its page-cache slot, and the
 *   folio there (flags, data, counts);
 * - [2^28 + 2^27, 2^29): sectorObj(sector) — one logical block of the device;
 * - [2^29, 2^30): objectId(name) — locks, wait queues, page tables, extent maps, the allocator.
 * Encoded, a read or write is below 2^31; a group access of objectId `o` in group g (0-3) is
 * GROUP_BASE + (o - 2^29) * 4 + g, in [2^31, 2^32): still exact under `>>>`.
 */
const GRANULE_BASE = 1 << 28;
const SECTOR_BASE = GRANULE_BASE + (1 << 27);
const GROUP_BASE = 2 ** 31;
/** How many groups one object's group accesses tell apart. */
export const GROUPS = 4;

export function granule(ino: number, index: number): number {
  return GRANULE_BASE + (ino & 0x7f) * (1 << 20) + (index & 0xfffff);
}

export function sectorObj(sector: number): number {
  return SECTOR_BASE + (sector & ((1 << 27) - 1));
}

/** A step that touches pages [first, end) of an inode, beyond this many, touches the inode. */
export const MAX_GRANULES = 64;

/**
 * The task whose step is running, when footprints are recorded: data structures that cannot see the
 * task (a page cache's map, a page table, an extent map, i_size) record their accesses here.
 */
let recording: { fp: number[] } | null = null;

export function setRecordingTask(t: { fp: number[] } | null): void {
  recording = t;
}

/** Are footprints being recorded (for callers whose object costs something to name)? */
export function isRecording(): boolean {
  return recording !== null;
}

/** Records an access of the running step (nothing when footprints are not recorded). */
export function record(obj: number, write: boolean): void {
  if (recording) recording.fp.push(encodeAccess(obj, write));
}

/**
 * The encoded group access of objectId `obj` in group `group` (0 to GROUPS - 1): conflicts with
 * every access of `obj` except one in the same group.
 */
export function encodeGroupAccess(obj: number, group: number): number {
  if (obj < ID_BASE || group < 0 || group >= GROUPS || group !== Math.floor(group)) {
    throw new RangeError(
      `group access of object ${obj} in group ${group}: objectIds and groups 0-${GROUPS - 1} only`,
    );
  }
  return GROUP_BASE + (obj - ID_BASE) * GROUPS + group;
}

/** The object of an encoded access (not ANYTHING). */
export function accessObject(x: number): number {
  return x >= GROUP_BASE ? ID_BASE + ((x - GROUP_BASE) >>> 2) : x >>> 1;
}

/** Is an encoded access a group access? */
export function isGroupAccess(x: number): boolean {
  return x >= GROUP_BASE;
}

/** Is an encoded access a write (a group access is not: it conflicts only across groups)? */
export function isWriteAccess(x: number): boolean {
  return x < GROUP_BASE && (x & 1) === 1;
}

/** Do two encoded accesses (neither ANYTHING) conflict? */
export function accessesConflict(x: number, y: number): boolean {
  if (x < GROUP_BASE && y < GROUP_BASE) return x >>> 1 === y >>> 1 && ((x | y) & 1) === 1;
  if (x >= GROUP_BASE && y >= GROUP_BASE) return x >>> 2 === y >>> 2 && x !== y;
  return accessObject(x) === accessObject(y);
}

/**
 * A map whose every access is an access of the running step: each key an object of its own
 * (`keyObj`), read by a lookup (written, with `writes`, for maps where whoever finds a value may
 * change it in the same step) and written by set/delete; every keyed access also reads the whole
 * (`allObj`). Iteration, size and clear access the whole as a write: they see every key, so they
 * conflict with any keyed access, and two keyed accesses of different keys never conflict.
 */
export class RecordingMap<K, V> extends Map<K, V> {
  constructor(
    private readonly keyObj: (k: K) => number,
    private readonly allObj: () => number,
    private readonly writes = false,
  ) {
    super();
  }
  private keyed(k: K, write: boolean): void {
    record(this.keyObj(k), write);
    record(this.allObj(), false);
  }
  override get(k: K): V | undefined {
    if (recording) this.keyed(k, this.writes);
    return super.get(k);
  }
  override has(k: K): boolean {
    if (recording) this.keyed(k, this.writes);
    return super.has(k);
  }
  override set(k: K, v: V): this {
    if (recording) this.keyed(k, true);
    return super.set(k, v);
  }
  override delete(k: K): boolean {
    if (recording) this.keyed(k, true);
    return super.delete(k);
  }
  /** Records a change of the value at `k` made in place (the value is an object the map holds). */
  touch(k: K): void {
    if (recording) this.keyed(k, true);
  }
  override clear(): void {
    if (recording) record(this.allObj(), true);
    super.clear();
  }
  override get size(): number {
    if (recording) record(this.allObj(), true);
    return super.size;
  }
  override keys(): MapIterator<K> {
    if (recording) record(this.allObj(), true);
    return super.keys();
  }
  override values(): MapIterator<V> {
    if (recording) record(this.allObj(), true);
    return super.values();
  }
  override entries(): MapIterator<[K, V]> {
    if (recording) record(this.allObj(), true);
    return super.entries();
  }
  override [Symbol.iterator](): MapIterator<[K, V]> {
    if (recording) record(this.allObj(), true);
    return super.entries();
  }
  override forEach(cb: (v: V, k: K, m: Map<K, V>) => void, thisArg?: unknown): void {
    if (recording) record(this.allObj(), true);
    super.forEach(cb, thisArg);
  }
}

/** objectIds live above every inode number and folio id the model hands out. */
const ID_BASE = 1 << 29;
const ID_MASK = (1 << 29) - 1;
const ids = new Map<string, number>();

/**
 * What an object of a footprint is, for people reading one (a debugging aid: `ino 3`, `page 3:0`,
 * `sector 8`, or the name an objectId was made from in this thread).
 */
export function describeObject(obj: number): string {
  if (obj < GRANULE_BASE) return `ino ${obj}`;
  if (obj < SECTOR_BASE)
    return `page ${((obj - GRANULE_BASE) >>> 20) & 0x7f}:${(obj - GRANULE_BASE) & 0xfffff}`;
  if (obj < ID_BASE) return `sector ${obj - SECTOR_BASE}`;
  for (const [name, id] of ids) if (id === obj) return name;
  return `object ${obj}`;
}

/** A stable id for a named object (FNV-1a of the name, in [2^29, 2^30)). */
export function objectId(name: string): number {
  let id = ids.get(name);
  if (id === undefined) {
    let h = 0x811c9dc5;
    for (let i = 0; i < name.length; i++) {
      h ^= name.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    id = ID_BASE + ((h >>> 0) & ID_MASK);
    ids.set(name, id);
  }
  return id;
}

/**
 * Ids for a family of objects numbered 0, 1, 2... (a page table's PTEs, a page cache mark's slots),
 * named by `name(i)` and each named once: an index's id is cached after its first use.
 */
export function indexedObjectIds(name: (i: number) => string): (i: number) => number {
  const cached: number[] = [];
  return (i) => {
    let id = cached[i];
    if (id === undefined) {
      id = objectId(name(i));
      cached[i] = id;
    }
    return id;
  };
}

export function encodeAccess(obj: number, write: boolean): number {
  return obj < 0 ? ANYTHING : obj * 2 + (write ? 1 : 0);
}

/**
 * What a task's scheduling point declared for the step that starts when it next runs:
 * - `point(site)`: nothing known — ANYTHING;
 * - `point(site, ino, write)`: the inode as a whole, written (a read declaration is taken as a
 *   write too: such a step may look at any page of the file, so it must conflict with a step that
 *   changes one page, and pages only read their inode — see granule());
 * - `pointPages(site, ino, first, end, write)`: pages [first, end) of the inode (their slots and
 *   folios), and the inode itself read;
 * - `pointRecorded(site)`: nothing beyond what the step records as it runs (for a step that only
 *   walks page tables, takes locks and pins: every one of those records itself).
 * Everything else the step does is recorded as it happens.
 */
export function declareStep(t: {
  fp: number[];
  accessObj: number;
  accessFirst: number;
  accessEnd: number;
  accessWrite: boolean;
}): void {
  const ino = t.accessObj;
  if (ino === RECORDED_ONLY) return;
  if (ino < 0) {
    t.fp.push(ANYTHING);
    return;
  }
  if (t.accessFirst < 0 || t.accessEnd - t.accessFirst > MAX_GRANULES) {
    t.fp.push(encodeAccess(ino, true));
    return;
  }
  t.fp.push(encodeAccess(ino, false));
  for (let i = t.accessFirst; i < t.accessEnd; i++) t.fp.push(encodeAccess(granule(ino, i), t.accessWrite));
}

/** Do two steps' footprints conflict? */
export function dependent(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x === ANYTHING) return true;
    for (let j = 0; j < b.length; j++) {
      const y = b[j];
      if (y === ANYTHING) return true;
      if (x < GROUP_BASE && y < GROUP_BASE) {
        if (x >>> 1 === y >>> 1 && ((x | y) & 1) === 1) return true;
      } else if (accessesConflict(x, y)) return true;
    }
  }
  return false;
}

/** compactFootprint's working copy (it runs once per step of a DFS run: no allocation but the result). */
let scratch = new Float64Array(64);

/** A footprint without repeats (sorted), for keeping in a search node. */
export function compactFootprint(fp: readonly number[]): number[] {
  if (fp.length === 0) return [];
  if (fp.length > scratch.length) scratch = new Float64Array(Math.max(fp.length, scratch.length * 2));
  const a = scratch;
  // Insertion sort without repeats (a binary search, then a shift): a step's footprint is a few
  // objects, but a step that walks a page cache records the same ones many times (up to ~200).
  let len = 0;
  for (let i = 0; i < fp.length; i++) {
    const x = fp[i];
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    if (lo < len && a[lo] === x) continue;
    for (let j = len; j > lo; j--) a[j] = a[j - 1];
    a[lo] = x;
    len++;
  }
  if (a[0] === ANYTHING) return [ANYTHING];
  // Sorted, a read (2k) sits just before the write (2k + 1) of the same object, which covers it
  // (group accesses, above every read and write, are only deduplicated, above).
  const out: number[] = [];
  for (let i = 0; i < len; i++) {
    const x = a[i];
    if (i + 1 < len && x < GROUP_BASE && x % 2 === 0 && a[i + 1] === x + 1) continue;
    out.push(x);
  }
  return out;
}
