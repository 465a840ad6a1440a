/**
 * `pagelab native` benchmarks (issue 15), on the kernel this machine runs, in a directory under the
 * OS temporary directory. Figures:
 * - native.iterations_per_sec: iterations of dio-write-vs-mmap-store per second, helper and
 *   classification included (the helper is built before the clock starts);
 * - native.hits_per_1000.<scenario>: iterations per 1000 the oracles give a finding, for the seed
 *   races the kernel can show (those whose model under the host's ext4 scheme has a finding: a race
 *   the kernel prevents stays at 0 and is not listed).
 * The kernel's timing is not the model's: hits depend on the machine and its load.
 */
import { findBuiltin } from '../explore/builtin.js';
import { runNative } from '../native/run.js';
import { type Figure, register } from './registry.js';

/**
 * The seed races the kernel can show: those with a finding in the model's outcome set under `ext4`
 * (`pagelab native --all --compare ext4`, docs/fidelity.md). The others (fallocate vs fault,
 * dio-write-vs-mmap-load, dio-write-vs-buffered-read) have none there: their hit rate is 0 by
 * construction, not a measurement.
 */
const KERNEL_RACES = ['dio-write-vs-mmap-store'];
const ITERATIONS = 1000;

function hitsPer1000(rows: Awaited<ReturnType<typeof runNative>>['rows'], iterations: number): number {
  let hits = 0;
  for (const row of rows) for (const [kinds, n] of row.kinds) if (kinds !== 'ok') hits += n;
  return (hits * 1000) / iterations;
}

register('native', 'pagelab native: iterations/s on this kernel, hits per 1000 iterations', async (ctx) => {
  const figures: Figure[] = [];
  const iterations = Math.max(50, Math.round(ITERATIONS * ctx.timeScale));
  for (const name of KERNEL_RACES) {
    const sc = findBuiltin(name);
    if (!sc) throw new Error(`bench: no scenario ${name}`);
    // Build and cache the helpers outside the timed run.
    if (figures.length === 0) await runNative(sc, { iterations: 1, seed: 1 });
    const t0 = performance.now();
    const r = await runNative(sc, { iterations, seed: 1 });
    const seconds = (performance.now() - t0) / 1000;
    ctx.log(`native: ${name}: ${r.iterations} iterations in ${seconds.toFixed(1)} s`);
    if (name === KERNEL_RACES[0]) {
      figures.push({
        key: 'native.iterations_per_sec',
        value: r.iterations / seconds,
        unit: 'iterations/s',
        label: `${name} on the host kernel (${r.iterations} iterations)`,
      });
    }
    figures.push({
      key: `native.hits_per_1000.${name}`,
      value: hitsPer1000(r.rows, r.iterations),
      unit: 'hits',
      label: `iterations of ${name} the oracles give a finding, per 1000`,
    });
  }
  return figures;
});
