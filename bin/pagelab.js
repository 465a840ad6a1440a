#!/usr/bin/env -S node --max-semi-space-size=64
// The compiled CLI lives in dist/ (built by `npm ci` through the `prepare` script).
import { setFlagsFromString } from 'node:v8';

// No allocation-site pretenuring, set before the model is loaded (so the import below is dynamic).
// A search builds a world per run and drops it; V8 pretenures an object literal's site once enough
// of its objects survive a scavenge, and then allocates every run's world objects from that site
// straight into the old generation, where, dead, they keep the run's young objects alive through
// each scavenge until the next mark-compact (src/sim/alloc.ts). Measured with `node bin/pagelab.js`
// (16 MB semi-spaces: the shebang's --max-semi-space-size=64 does not apply then): random runs of
// collapse-vs-fault under pagelab 14,000 -> 30,000 per CPU second, 21 mark-compacts per 40,000
// runs -> 2. Only where the model's objects are allocated changes, never what a run does.
setFlagsFromString('--no-allocation-site-pretenuring');
const { main } = await import('../dist/cli/main.js');

// `pagelab ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await main(process.argv);
