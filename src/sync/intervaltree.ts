/**
 * An augmented interval tree (the structure of include/linux/interval_tree_generic.h, which the
 * kernel's range lock proposals use): a balanced search tree of half-open intervals [start, end)
 * ordered by (start, seq), each node also keeping the largest `end` of its subtree, so that all
 * intervals overlapping a query are found in O(log n + k), in key order.
 *
 * Why not node-interval-tree from npm: it keys on `low` with buckets of equal lows and compares
 * payloads by shallow equality to delete; we need the arrival sequence number as a tie-break (FIFO
 * among equal starts), deletion by identity, deterministic in-order results, and no dependency in
 * the hot path of the explorer. An AVL tree is small enough to own (balanced by height, so no
 * randomness: the same operations give the same shape).
 */

export interface Interval {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
  /** Tie-break among equal starts; unique within a tree. */
  readonly seq: number;
}

interface Node<T extends Interval> {
  item: T;
  left: Node<T> | null;
  right: Node<T> | null;
  height: number;
  /** Max `end` in this subtree. */
  maxEnd: number;
}

function cmp(a: Interval, b: Interval): number {
  return a.start !== b.start ? a.start - b.start : a.seq - b.seq;
}

function h<T extends Interval>(n: Node<T> | null): number {
  return n ? n.height : 0;
}

function update<T extends Interval>(n: Node<T>): void {
  n.height = 1 + Math.max(h(n.left), h(n.right));
  let m = n.item.end;
  if (n.left && n.left.maxEnd > m) m = n.left.maxEnd;
  if (n.right && n.right.maxEnd > m) m = n.right.maxEnd;
  n.maxEnd = m;
}

function rotateRight<T extends Interval>(n: Node<T>): Node<T> {
  const l = n.left as Node<T>;
  n.left = l.right;
  l.right = n;
  update(n);
  update(l);
  return l;
}

function rotateLeft<T extends Interval>(n: Node<T>): Node<T> {
  const r = n.right as Node<T>;
  n.right = r.left;
  r.left = n;
  update(n);
  update(r);
  return r;
}

function balance<T extends Interval>(n: Node<T>): Node<T> {
  update(n);
  const bf = h(n.left) - h(n.right);
  if (bf > 1) {
    if (h((n.left as Node<T>).left) < h((n.left as Node<T>).right)) n.left = rotateLeft(n.left as Node<T>);
    return rotateRight(n);
  }
  if (bf < -1) {
    if (h((n.right as Node<T>).right) < h((n.right as Node<T>).left))
      n.right = rotateRight(n.right as Node<T>);
    return rotateLeft(n);
  }
  return n;
}

export class IntervalTree<T extends Interval> {
  private root: Node<T> | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  insert(item: T): void {
    if (!(item.start < item.end)) throw new RangeError(`interval [${item.start}, ${item.end}) is empty`);
    this.root = this.insertAt(this.root, item);
    this.count++;
  }

  /** Removes `item` (found by its (start, seq) key, checked by identity). Returns false if absent. */
  remove(item: T): boolean {
    const before = this.count;
    this.root = this.removeAt(this.root, item);
    return this.count < before;
  }

  /** Calls `visit` for every interval overlapping [start, end), in (start, seq) order. */
  overlapping(start: number, end: number, visit: (item: T) => void): void {
    this.search(this.root, start, end, visit);
  }

  /** Every interval, in (start, seq) order. */
  items(): T[] {
    const out: T[] = [];
    const walk = (n: Node<T> | null): void => {
      if (!n) return;
      walk(n.left);
      out.push(n.item);
      walk(n.right);
    };
    walk(this.root);
    return out;
  }

  /** Checks the AVL and max-end invariants (for tests); returns a message or null. */
  validate(): string | null {
    let bad: string | null = null;
    const walk = (n: Node<T> | null, lo: T | null, hi: T | null): void => {
      if (!n || bad) return;
      if ((lo && cmp(n.item, lo) <= 0) || (hi && cmp(n.item, hi) >= 0))
        bad = `order broken at seq ${n.item.seq}`;
      walk(n.left, lo, n.item);
      walk(n.right, n.item, hi);
      const height = 1 + Math.max(h(n.left), h(n.right));
      const maxEnd = Math.max(n.item.end, n.left?.maxEnd ?? -Infinity, n.right?.maxEnd ?? -Infinity);
      if (n.height !== height) bad = `height wrong at seq ${n.item.seq}`;
      if (n.maxEnd !== maxEnd) bad = `maxEnd wrong at seq ${n.item.seq}`;
      if (Math.abs(h(n.left) - h(n.right)) > 1) bad = `unbalanced at seq ${n.item.seq}`;
    };
    walk(this.root, null, null);
    return bad;
  }

  private insertAt(n: Node<T> | null, item: T): Node<T> {
    if (!n) return { item, left: null, right: null, height: 1, maxEnd: item.end };
    if (cmp(item, n.item) < 0) n.left = this.insertAt(n.left, item);
    else n.right = this.insertAt(n.right, item);
    return balance(n);
  }

  private removeAt(n: Node<T> | null, item: T): Node<T> | null {
    if (!n) return null;
    const c = cmp(item, n.item);
    if (c < 0) n.left = this.removeAt(n.left, item);
    else if (c > 0) n.right = this.removeAt(n.right, item);
    else {
      if (n.item !== item) return n;
      this.count--;
      if (!n.left) return n.right;
      if (!n.right) return n.left;
      // Replace by the in-order successor, removed from the right subtree.
      let s = n.right;
      while (s.left) s = s.left;
      n.right = this.removeMin(n.right);
      s.left = n.left;
      s.right = n.right;
      return balance(s);
    }
    return balance(n);
  }

  private removeMin(n: Node<T>): Node<T> | null {
    if (!n.left) return n.right;
    n.left = this.removeMin(n.left);
    return balance(n);
  }

  private search(n: Node<T> | null, start: number, end: number, visit: (item: T) => void): void {
    // Nothing in this subtree ends after `start`: no overlap possible.
    if (!n || n.maxEnd <= start) return;
    this.search(n.left, start, end, visit);
    if (n.item.start < end && n.item.end > start) visit(n.item);
    // Right subtree starts at or after n.item.start: skip it once that is past the query.
    if (n.item.start < end) this.search(n.right, start, end, visit);
  }
}
