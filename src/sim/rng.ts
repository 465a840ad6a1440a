/**
 * Deterministic pseudo-random numbers for the strategies: xoshiro128** seeded through splitmix32.
 * Math.random is never used anywhere in the model or the explorer: same seed, same run.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 steps written out (no closure: a strategy, so an Rng, is made per schedule).
    const s = seed >>> 0;
    this.a = splitmix32(s + 0x9e3779b9);
    this.b = splitmix32(s + 2 * 0x9e3779b9);
    this.c = splitmix32(s + 3 * 0x9e3779b9);
    this.d = splitmix32(s + 4 * 0x9e3779b9);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** An integer in [0, n). n must be in [1, 2^32). */
  below(n: number): number {
    // Multiply-shift (Lemire) without the rejection step: the bias is < n / 2^32, irrelevant for
    // choosing among a handful of tasks, and it keeps the hot path branch-free.
    return Math.floor((this.nextU32() * n) / 4294967296);
  }

  /** A float in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }
}

/** The splitmix32 output function of state `s` (any number; reduced to 32 bits first). */
function splitmix32(s: number): number {
  let z = s | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Mixes two integers into one seed (for "seed of schedule i of a run seeded s"). */
export function mixSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 0x632be5ab, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}
