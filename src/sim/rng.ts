/**
 * Deterministic pseudo-random numbers for the strategies: xoshiro128** seeded through splitmix32.
 * Math.random is never used anywhere in the model or the explorer: same seed, same run.
 */
export class Rng {
  /**
   * The state a, b, c, d in a typed array: as object fields, values of 2^30 and more are not V8
   * small integers, so the fields' representation changed under the JIT's feet (`not a Smi`
   * deoptimisations of nextU32, below and the strategies' pick, seen with --trace-deopt); an
   * Int32Array holds them unboxed whatever their value. Same sequence; no throughput change
   * measured.
   */
  private readonly s = new Int32Array(4);

  constructor(seed: number) {
    // splitmix32 steps written out (no closure: a strategy, so an Rng, is made per schedule).
    const x = seed >>> 0;
    const s = this.s;
    s[0] = splitmix32(x + 0x9e3779b9);
    s[1] = splitmix32(x + 2 * 0x9e3779b9);
    s[2] = splitmix32(x + 3 * 0x9e3779b9);
    s[3] = splitmix32(x + 4 * 0x9e3779b9);
    if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  }

  /** A uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
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
