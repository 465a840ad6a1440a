/**
 * A canonical hash of the model's state, for the stateful search (`--preemptions all`,
 * src/explore/stateful.ts). The model is plain objects, arrays, Maps, Sets and typed arrays; the
 * hash walks everything reachable from the roots it is given, depth first in property order,
 * numbering each object at its first visit and hashing every later reference to it as that number:
 * two states hash alike only if their object graphs are isomorphic with equal values, sharing
 * included (two tasks holding the same lock, a folio in the page cache and in a PTE).
 *
 * What the walk cannot see, and how each is handled:
 * - a task's continuation (the async function it is parked in, its locals): not state here; the
 *   explorer tracks each task's position beside the hash (stateful.ts says how);
 * - state a module keeps beside an object in a WeakMap (jbd2's journal, DAX's device, the big
 *   kernel lock: one per FileSystem): the module attaches it to its owner (`attachState`) and the
 *   walk visits it with the owner;
 * - closures: a function is hashed by its source text; what it captures is invisible. The ones the
 *   model keeps in its state capture the world's own objects (an address_space's aops, a mapping's
 *   fault handlers, the world's commit-on-flush hook) or a task's locals (a bio's end_io, which
 *   the explorer treats as part of its submitter's position: stateful.ts).
 * Hashing more than needed (a Map's insertion order, an unused field) only makes two equal states
 * look different: the cache then prunes less, never wrongly.
 *
 * The hash is 64 bits (two 32-bit lanes, MurmurHash3's mixing with two seeds). Two different
 * states collide with probability about n²/2^65 over n states (n = 10^6: 3·10^-8).
 */
import type { Task } from './task.js';

const attached = new WeakMap<object, object[]>();

/**
 * Declares state a module keeps outside `owner`'s fields (a WeakMap keyed by it): the state hash
 * visits it with the owner.
 */
export function attachState(owner: object, state: object): void {
  const list = attached.get(owner);
  if (list) list.push(state);
  else attached.set(owner, [state]);
}

/** The parts of an object graph a hash skips, or hashes its own way. */
export interface StateHashHooks {
  /** Objects whose content is the same in every run (the scenario, the scheme): hashed by identity. */
  readonly skip: ReadonlySet<object>;
  /** Hashes `o` itself and returns true, or returns false for the generic walk. */
  readonly custom?: (o: object, h: StateHasher) => boolean;
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

enum Tag {
  Int = 1,
  Num,
  Str,
  True,
  False,
  Undef,
  BigInt,
  Symbol,
  Fn,
  Null,
  Ref,
  Skipped,
  Typed,
  Array,
  Map,
  Set,
  Opaque,
  Object,
}

const sources = new WeakMap<(...args: never) => unknown, number>();
const strings = new Map<string, number>();

/** FNV-1a of a string (memoised: keys and class names recur in every state). */
function strHash(s: string): number {
  let h = strings.get(s);
  if (h === undefined) {
    h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    if (strings.size < 100_000) strings.set(s, h);
  }
  return h;
}

export class StateHasher {
  private a: number;
  private b: number;
  private readonly seen = new Map<object, number>();

  constructor(
    private readonly hooks: StateHashHooks,
    seedA = 0x9747b28c,
    seedB = 0x5bd1e995,
  ) {
    this.a = seedA;
    this.b = seedB;
  }

  /** The hash so far: two 32-bit lanes. */
  digest(): [number, number] {
    return [this.a >>> 0, this.b >>> 0];
  }

  int(x: number): void {
    let k = Math.imul(x, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    let a = this.a ^ k;
    a = (a << 13) | (a >>> 19);
    this.a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    let l = Math.imul(x ^ 0x5bd1e995, C2);
    l = (l << 17) | (l >>> 15);
    l = Math.imul(l, C1);
    let b = this.b ^ l;
    b = (b << 19) | (b >>> 13);
    this.b = (Math.imul(b, 5) + 0x561ccd1b) | 0;
  }

  str(s: string): void {
    this.int(s.length);
    this.int(strHash(s));
  }

  value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        if ((v | 0) === v) {
          this.int(Tag.Int);
          this.int(v);
        } else {
          this.int(Tag.Num);
          this.str(String(v));
        }
        return;
      case 'string':
        this.int(Tag.Str);
        this.str(v);
        return;
      case 'boolean':
        this.int(v ? Tag.True : Tag.False);
        return;
      case 'undefined':
        this.int(Tag.Undef);
        return;
      case 'bigint':
        this.int(Tag.BigInt);
        this.str(v.toString());
        return;
      case 'symbol':
        this.int(Tag.Symbol);
        this.str(v.toString());
        return;
      case 'function':
        this.int(Tag.Fn);
        this.int(fnHash(v as (...args: never) => unknown));
        return;
      default:
        if (v === null) this.int(Tag.Null);
        else this.object(v as object);
    }
  }

  private object(o: object): void {
    const i = this.seen.get(o);
    if (i !== undefined) {
      this.int(Tag.Ref);
      this.int(i);
      return;
    }
    this.seen.set(o, this.seen.size);
    if (this.hooks.skip.has(o)) {
      this.int(Tag.Skipped);
      return;
    }
    if (!this.hooks.custom?.(o, this)) this.generic(o);
    const more = attached.get(o);
    if (more) this.value(more);
  }

  private generic(o: object): void {
    if (ArrayBuffer.isView(o)) {
      const a = o as unknown as ArrayLike<number>;
      this.int(Tag.Typed);
      this.int(a.length);
      for (let i = 0; i < a.length; i++) this.int(a[i] | 0);
      return;
    }
    if (Array.isArray(o)) {
      this.int(Tag.Array);
      this.int(o.length);
      for (let i = 0; i < o.length; i++) this.value(o[i]);
      return;
    }
    // The base class's iterators: a RecordingMap's own would record accesses (footprint.ts).
    if (o instanceof Map) {
      this.int(Tag.Map);
      let n = 0;
      for (const [k, v] of Map.prototype.entries.call(o)) {
        this.value(k);
        this.value(v);
        n++;
      }
      this.int(n);
      return;
    }
    if (o instanceof Set) {
      this.int(Tag.Set);
      let n = 0;
      for (const k of Set.prototype.values.call(o)) {
        this.value(k);
        n++;
      }
      this.int(n);
      return;
    }
    if (o instanceof Promise || o instanceof WeakMap || o instanceof WeakSet) {
      this.int(Tag.Opaque);
      return;
    }
    this.int(Tag.Object);
    this.str(o.constructor?.name ?? '');
    const rec = o as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      this.str(k);
      this.value(rec[k]);
    }
  }
}

function fnHash(f: (...args: never) => unknown): number {
  let h = sources.get(f);
  if (h === undefined) {
    h = strHash(Function.prototype.toString.call(f));
    sources.set(f, h);
  }
  return h;
}

/** Task fields that are not state: the continuation, the footprint being recorded, statistics. */
const TASK_SKIP: ReadonlySet<string> = new Set(['sim', 'resume', 'fp', 'counters']);

/**
 * Hashes a Task: every field but its continuation (`resume`: the explorer tracks positions
 * itself), the footprint of the step being recorded and the statistics no model path reads.
 */
export function hashTask(t: Task, h: StateHasher): void {
  h.str('Task');
  const rec = t as unknown as Record<string, unknown>;
  for (const k of Object.keys(t)) {
    if (TASK_SKIP.has(k)) continue;
    h.str(k);
    h.value(rec[k]);
  }
}
