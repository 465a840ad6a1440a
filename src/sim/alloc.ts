/**
 * Allocation helpers for the runtime's per-run objects (internal to src/sim).
 *
 * Why: V8 gives every array and object literal an allocation site and pretenures a site whose
 * objects keep surviving young-generation GCs. A long run (many steps) keeps the Sim's and Tasks'
 * literal arrays, and the RunResult, alive long enough for that; afterwards every short run
 * allocates them straight into the old generation, where, dead, they still keep the young Tasks
 * they point to alive through each scavenge. That survival re-tenures the sites, a loop V8 does not
 * leave: measured in src/bench, the two-task race fell from ~1,000,000 to ~100,000 schedules/s
 * after a few 65,536-point runs (and sometimes without them). Arrays made by `slice()` and
 * instances of classes carry no allocation site, so the runtime builds its per-run objects so.
 *
 * The model beyond the runtime (a world's Maps, inodes, address spaces, folios) is full of literals
 * and falls into the same loop: with 16 MB semi-spaces a random run of collapse-vs-fault left ~17
 * KB of its 58 KB surviving a scavenge and half its CPU went to the collector. The CLI therefore
 * turns V8's allocation-site pretenuring off before it loads the model (bin/pagelab.js), and runs
 * with 64 MB semi-spaces (its shebang, the npm scripts, the workers' resourceLimits), under which
 * the sites rarely tenure. A host that runs the model otherwise (a test, a script) may want the
 * same: `node --no-allocation-site-pretenuring` or v8.setFlagsFromString before the import.
 */

const NO_SITE: readonly never[] = [];

/** A new empty array that V8 will never pretenure. */
export function emptyArray<T>(): T[] {
  return NO_SITE.slice();
}
