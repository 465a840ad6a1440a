/**
 * `playground.*`: random schedules of dio-write-vs-mmap-store under pagelab run by the playground's
 * Web Worker in headless Chromium (driven by playwright, the site built by vite into a temporary
 * directory), beside the same loop on Node in this process — `runOnce` with
 * `RandomStrategy(mixSeed(seed, i))`, the schedules a random search makes. Rounds alternate
 * between the two so that a change in the machine's load hits both; each figure is the median.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveSite } from '../cli/playground.js';
import { findBuiltin } from '../explore/builtin.js';
import { runOnce } from '../explore/run.js';
import { findScheme } from '../schemes/index.js';
import { mixSeed } from '../sim/rng.js';
import { RandomStrategy } from '../sim/strategy.js';
import { launchChromium } from '../test-support/chromium.js';
import { type Figure, register } from './registry.js';

const SCENARIO = 'dio-write-vs-mmap-store';
const SCHEME = 'pagelab';
const ROUNDS = 5;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Schedules per second of `n` random runs on Node, from `seed`'s stream. */
async function nodeRate(n: number, seed: number): Promise<number> {
  const sc = findBuiltin(SCENARIO)!;
  const sch = findScheme(SCHEME)!;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await runOnce(sc, sch, new RandomStrategy(mixSeed(seed, i)));
  return n / ((performance.now() - t0) / 1000);
}

async function buildSite(): Promise<string> {
  const { build } = await import('vite');
  const out = mkdtempSync(join(tmpdir(), 'pagelab-bench-site-'));
  await build({
    configFile: join(ROOT, 'src', 'playground', 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir: out, emptyOutDir: true },
  });
  return out;
}

register(
  'playground',
  `the playground's Web Worker in Chromium vs Node (${SCENARIO} under ${SCHEME})`,
  async (ctx) => {
    const n = Math.max(50, Math.round(2000 * ctx.timeScale));
    const site = await buildSite();
    const served = await serveSite(site, 0);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(served.url);
      await page.waitForFunction("document.body.dataset.state === 'idle'");
      type Bench = (
        sc: string,
        sch: string,
        n: number,
        seed: number,
      ) => Promise<{ schedules: number; ms: number }>;
      const inWorker = async (count: number, seed: number): Promise<number> => {
        const r = await page.evaluate(
          ([sc, sch, c, s]) => (globalThis as unknown as { pagelabBench: Bench }).pagelabBench(sc, sch, c, s),
          [SCENARIO, SCHEME, count, seed] as const,
        );
        return r.schedules / (r.ms / 1000);
      };
      // Warm both JITs up on the model first.
      await inWorker(n, 99);
      await nodeRate(n, 99);
      const web: number[] = [];
      const node: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        web.push(await inWorker(n, round));
        node.push(await nodeRate(n, round));
        ctx.log(`  round ${round}: worker ${web[round].toFixed(0)}/s, node ${node[round].toFixed(0)}/s`);
      }
      const w = median(web);
      const v = median(node);
      const figures: Figure[] = [
        {
          key: 'playground.schedules_per_sec',
          value: w,
          unit: 'schedules/s',
          label: `random runs of ${SCENARIO} under ${SCHEME} in the Web Worker`,
        },
        {
          key: 'playground.node_schedules_per_sec',
          value: v,
          unit: 'schedules/s',
          label: 'the same runs on Node, same process, alternating',
        },
        { key: 'playground.vs_node', value: w / v, unit: 'x', label: 'Web Worker / Node', target: 0.5 },
      ];
      return figures;
    } finally {
      await browser.close();
      served.server.close();
      rmSync(site, { recursive: true, force: true });
    }
  },
);
