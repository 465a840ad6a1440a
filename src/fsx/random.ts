/**
 * glibc's random(3) exactly: srandom(seed) then random(), the default TYPE_3 state (degree 31,
 * separation 3) of glibc stdlib/random_r.c. fsx draws every op, offset, length and the bytes of
 * its original_buf from this generator, so pagelab can only write the bytes fsx writes by
 * reproducing it bit for bit.
 *
 * srandom_r: r[0] = seed (1 if 0), r[i] = 16807 · r[i-1] mod (2^31 - 1) by Schrage's method for
 * i = 1..30, front pointer at 3, rear at 0, then 310 outputs discarded.
 * random_r: *fptr += *rptr (mod 2^32); result = (uint32) *fptr >> 1; both pointers advance.
 * Equivalently r[i] = r[i-3] + r[i-31] and out = r[i] >> 1.
 */
const DEG = 31;
const SEP = 3;
const DISCARD = DEG * 10;

export class GlibcRandom {
  private readonly state = new Int32Array(DEG);
  private f = SEP;
  private r = 0;

  constructor(seed: number) {
    this.srandom(seed);
  }

  /** srandom(seed): seed is an unsigned int, as in glibc. */
  srandom(seed: number): void {
    // `int32_t word = seed` (0 taken as 1): a seed of 2^31 or more starts negative, and C's division
    // truncates toward zero.
    let word = (seed >>> 0 || 1) | 0;
    this.state[0] = word;
    for (let i = 1; i < DEG; i++) {
      const hi = Math.trunc(word / 127773);
      const lo = word % 127773;
      word = 16807 * lo - 2836 * hi;
      if (word < 0) word += 2147483647;
      this.state[i] = word;
    }
    this.f = SEP;
    this.r = 0;
    for (let i = 0; i < DISCARD; i++) this.random();
  }

  /** random(): a number in [0, 2^31). */
  random(): number {
    const s = this.state;
    const val = (s[this.f] + s[this.r]) | 0;
    s[this.f] = val;
    this.f = (this.f + 1) % DEG;
    this.r = (this.r + 1) % DEG;
    return (val >>> 0) >>> 1;
  }
}
