/**
 * The seeded random generator, for bounds too large to enumerate (e.g. 3 tasks × 2 ops): each
 * program draws every op uniformly from the vocabulary of a geometry drawn uniformly. Program i is
 * drawn from its own seed mixSeed(seed, i), so any program can be regenerated alone. Programs equal
 * up to renaming are drawn once: a repeat of an earlier canonical key is skipped (its index is not
 * reused, so indices stay a function of the seed).
 */
import { mixSeed, Rng } from '../sim/rng.js';
import { canonical, canonicalKey } from './canon.js';
import type { Enumerated, SpaceBounds } from './enumerate.js';
import { GEOMETRIES, type Program } from './space.js';
import { vocabulary } from './vocab.js';

const VOCABS = GEOMETRIES.map((g) => vocabulary(g));

export function randomProgram(b: SpaceBounds, seed: number, i: number): Program {
  const rng = new Rng(mixSeed(seed, i));
  const g = rng.below(GEOMETRIES.length);
  const vocab = VOCABS[g];
  const tasks = Array.from({ length: b.tasks }, () =>
    Array.from({ length: b.ops }, () => vocab[rng.below(vocab.length)]),
  );
  return canonical({ geometry: GEOMETRIES[g], tasks });
}

/** `count` distinct programs (up to renaming); draws past 8 × count give up on finding more. */
export function* randomPrograms(b: SpaceBounds, count: number, seed: number): Generator<Enumerated> {
  const seen = new Set<string>();
  let drawn = 0;
  for (let i = 0; drawn < count && i < 8 * count; i++) {
    const program = randomProgram(b, seed, i);
    const key = canonicalKey(program);
    if (seen.has(key)) continue;
    seen.add(key);
    drawn++;
    yield { index: i, program };
  }
}
