/**
 * Memos keyed by a value's content, exactly: two values get the same key exactly when they are
 * equal as data (numbers, strings, booleans, null/undefined, Uint32Arrays by element, arrays,
 * Maps by entry in order, other objects by enumerable field in order, as for-in lists them). For memos whose key is
 * what an oracle reads (explore/judge.ts), so exact, never a hash.
 *
 * Why not a JSON-like text built of parts (what judge.ts did): a run's history and file views are
 * hundreds of small values, and a string per value plus the join cost more than the judgement they
 * saved on the seed scenarios (measured: 18 % of a random run of collapse-vs-fault). Here the key
 * is written as 16-bit code units into one reused buffer — a tag per value, numbers and lengths as
 * two units, cells copied whole — then hashed; only a key not seen before is copied out. Strings
 * are numbered through the memo's own table (a label or region name is then three units).
 *
 * The encoding is prefix-free: every value starts with a tag, strings and cells carry their
 * length, and arrays, Maps and objects end with a tag no value starts with.
 */

/** The tags: the first code unit of every value, and End, which closes a container. */
const NULL = 1;
const UNDEFINED = 2;
const TRUE = 3;
const FALSE = 4;
const UINT = 5;
const NEGINT = 6;
const NUM = 7;
const STR = 8;
const CELLS = 9;
const ARR = 10;
const MAP = 11;
const OBJ = 12;
const TYPED = 13;
const OTHER = 14;
const END = 15;

/** Code units of the largest key made so far; the buffer only grows. */
let buf = new Uint16Array(1 << 14);
let n = 0;
let names: Map<string, number> = new Map();

function room(k: number): void {
  if (n + k <= buf.length) return;
  let size = buf.length * 2;
  while (size < n + k) size *= 2;
  const b = new Uint16Array(size);
  b.set(buf.subarray(0, n));
  buf = b;
}

function u32(v: number): void {
  buf[n++] = v & 0xffff;
  buf[n++] = v >>> 16;
}

function str(s: string): void {
  let id = names.get(s);
  if (id === undefined) {
    id = names.size;
    names.set(s, id);
  }
  room(3);
  buf[n++] = STR;
  u32(id);
}

function value(v: unknown): void {
  if (typeof v === 'number') {
    room(3);
    if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff) {
      buf[n++] = UINT;
      u32(v);
    } else if (Number.isInteger(v) && v < 0 && v >= -0xffffffff) {
      buf[n++] = NEGINT;
      u32(-v);
    } else {
      buf[n++] = NUM;
      str(String(v));
    }
  } else if (typeof v === 'string') {
    str(v);
  } else if (v === null || v === undefined || typeof v === 'boolean') {
    room(1);
    buf[n++] = v === null ? NULL : v === undefined ? UNDEFINED : v ? TRUE : FALSE;
  } else if (v instanceof Uint32Array) {
    room(3 + v.length * 2);
    buf[n++] = CELLS;
    u32(v.length);
    buf.set(new Uint16Array(v.buffer, v.byteOffset, v.length * 2), n);
    n += v.length * 2;
  } else if (Array.isArray(v)) {
    room(1);
    buf[n++] = ARR;
    for (let i = 0; i < v.length; i++) value(v[i]);
    room(1);
    buf[n++] = END;
  } else if (v instanceof Map) {
    room(1);
    buf[n++] = MAP;
    for (const [k, x] of v) {
      value(k);
      value(x);
    }
    room(1);
    buf[n++] = END;
  } else if (ArrayBuffer.isView(v)) {
    // Another typed array (none today): its kind, then its elements.
    const a = v as unknown as ArrayLike<number>;
    room(1);
    buf[n++] = TYPED;
    str(v.constructor.name);
    for (let i = 0; i < a.length; i++) value(a[i]);
    room(1);
    buf[n++] = END;
  } else if (typeof v === 'object') {
    room(1);
    buf[n++] = OBJ;
    const o = v as Record<string, unknown>;
    for (const k in o) {
      str(k);
      value(o[k]);
    }
    room(1);
    buf[n++] = END;
  } else {
    // A function, symbol or bigint: not data the oracles read, but keyed by its text all the same.
    room(1);
    buf[n++] = OTHER;
    str(String(v));
  }
}

/** Writes the key of `parts` (each keyed as by `value`, one after the other) into the buffer. */
function write(parts: readonly unknown[], table: Map<string, number>): number {
  n = 0;
  names = table;
  for (const p of parts) value(p);
  // A hash of every unit, two at a time (the buffer's length is even; a unit past n is zeroed).
  if (n & 1) buf[n] = 0;
  const words = new Uint32Array(buf.buffer, 0, (n + 1) >>> 1);
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  for (let i = 0; i < words.length; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h;
}

/** Is the key just written equal to `key`? */
function written(key: Uint16Array): boolean {
  if (key.length !== n) return false;
  for (let i = 0; i < n; i++) if (key[i] !== buf[i]) return false;
  return true;
}

/**
 * Values by the content of what they were computed from: `get(parts)` finds a value `set` with
 * parts of equal content (exactly: a hash picks the candidates, the whole key decides), so a
 * function of that content is computed once per distinct content. Keys are kept as code units,
 * never as strings (making a string of them, and hashing it again for a Map, cost more than
 * writing them).
 */
export class ContentMemo<V> {
  /** The numbering of the strings in this memo's keys. */
  private readonly names = new Map<string, number>();
  private readonly byHash = new Map<number, { key: Uint16Array; value: V }[]>();
  private count = 0;

  /** Distinct contents held. */
  get size(): number {
    return this.count;
  }

  /**
   * The value for content equal to `parts`', computed by `compute` if there is none yet (the key
   * is copied before `compute` runs: what it does to the parts cannot change the key).
   */
  get(parts: readonly unknown[], compute: () => V): V {
    const h = write(parts, this.names);
    let bucket = this.byHash.get(h);
    if (bucket) {
      for (const e of bucket) if (written(e.key)) return e.value;
    } else {
      bucket = [];
      this.byHash.set(h, bucket);
    }
    const key = buf.slice(0, n);
    const value = compute();
    bucket.push({ key, value });
    this.count++;
    return value;
  }
}
