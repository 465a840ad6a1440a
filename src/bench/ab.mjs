/**
 * A/B of two builds' bench figures on a shared machine: `node src/bench/ab.mjs OLD NEW [--rounds 3]
 * [--groups sched,sps,ttf,dfs,vsfc,por,par]`, where OLD and NEW are checkouts with `dist/` built
 * (`npm run build`). Each figure is measured by each build's own bench code (src/bench/explore.ts,
 * sched.ts: the functions `npm run bench` calls, reached through a copy of its dist/bench/explore.js
 * that exports them), in a fresh process per (round, build, group), the builds interleaved and their
 * order alternating from round to round, so a change of load hits both alike. Prints, per figure,
 * each build's median and spread ((max - min) / median over the rounds: the noise of repeated runs
 * of one build) and NEW / OLD; with --json, the raw values as the last line. The last column, best,
 * is NEW / OLD of each build's best round (the highest rate, the fewest seconds): the machine's
 * other processes only ever slow a round down, so on a busy machine the best rounds are the least
 * disturbed (— for a figure that is neither a rate nor a time).
 *
 * Besides the bench's own (wall-clock) figures, `cpu.*` figures count random runs per CPU second
 * (process.cpuUsage, a second of it after 5,000 runs of warm-up): less sensitive to the other
 * processes of a busy machine than wall time, though not immune (caches, memory bandwidth).
 *
 * Groups: sched (sched.*, from `dist/bench/main.js --only sched --json`), sps
 * (explore.schedules_per_sec.* and cpu.*), ttf (explore.time_to_first.*), dfs
 * (explore.dfs_seconds.<scenario> of the scenarios both have), vsfc (explore.vs_fastcheck.*), and two
 * that run in the first round only: por (explore.por_reduction.*: run counts, deterministic) and
 * par (explore.parallel_speedup: 1 thread ÷ 2, meaningless when other processes hold the cores).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

const EXPORTS = [
  'schedulesPerSec',
  'timeToFirst',
  'dfsRuns',
  'parallelSpeedup',
  'versusFastCheck',
  'scenario',
  'scheme',
  'SEED_SCENARIOS',
  'SEED_RACES',
  'POR_SCENARIOS',
  'builtinScenarios',
  'runOnce',
  'RandomStrategy',
  'mixSeed',
];

/** The build's explore bench with its functions exported, beside the original (same imports). */
async function benchOf(root) {
  const src = resolve(root, 'dist/bench/explore.js');
  const shim = resolve(root, 'dist/bench/explore-ab.js');
  writeFileSync(shim, `${readFileSync(src, 'utf8')}\nexport { ${EXPORTS.join(', ')} };\n`);
  return import(shim);
}

const ctx = { timeScale: 1, log: () => {} };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Random runs of a scenario per CPU second: batches of 200 runs until a second of CPU time, after
 * 5,000 runs of warm-up (the first few thousand runs of a process run at a fraction of the speed
 * while the JIT compiles the model). Seeds as schedulesPerSec.
 */
async function cpuRate(b, sc, sch) {
  let seed = 0;
  const batch = async () => {
    for (let i = 0; i < 200; i++) await b.runOnce(sc, sch, new b.RandomStrategy(b.mixSeed(7, seed++)));
  };
  for (let i = 0; i < 25; i++) await batch();
  const c = process.cpuUsage();
  let runs = 0;
  let used = 0;
  while (used < 1) {
    await batch();
    runs += 200;
    const u = process.cpuUsage(c);
    used = (u.user + u.system) / 1e6;
  }
  return runs / used;
}

const GROUPS = {
  async sps(b) {
    const out = {};
    for (const name of b.SEED_SCENARIOS)
      for (const s of ['vfs2019', 'pagelab']) {
        const r = await b.schedulesPerSec(ctx, b.scenario(name), b.scheme(s));
        out[`explore.schedules_per_sec.${name}.${s}`] = r.perSec;
        out[`cpu.runs_per_cpu_sec.${name}.${s}`] = await cpuRate(b, b.scenario(name), b.scheme(s));
      }
    return out;
  },
  async ttf(b) {
    const out = {};
    for (const [name, s] of b.SEED_RACES)
      for (const strategy of ['random', 'pct', 'dfs'])
        out[`explore.time_to_first.${name}.${strategy}`] = await b.timeToFirst(
          b.scenario(name),
          b.scheme(s),
          strategy,
        );
    return out;
  },
  async dfs(b, only) {
    const out = {};
    for (const sc of b.builtinScenarios()) {
      if (!only.includes(sc.name)) continue;
      let r;
      try {
        r = await b.dfsRuns(sc.name, true);
      } catch (e) {
        // A scenario the bench's scheme does not apply to (two-nodes-*: pagelab is one node).
        if (/ n\/a on /.test(String(e))) continue;
        throw e;
      }
      out[`explore.dfs_seconds.${sc.name}`] = r ? r.ms / 1000 : Number.NaN;
    }
    return out;
  },
  async vsfc(b) {
    const vs = await b.versusFastCheck(ctx, b.scenario('dio-write-vs-mmap-store'), b.scheme('vfs2019'));
    return { 'explore.vs_fastcheck.dio-write-vs-mmap-store': vs.ratio };
  },
  async por(b) {
    const out = {};
    for (const name of b.POR_SCENARIOS) {
      const without = await b.dfsRuns(name, false);
      const withPor = await b.dfsRuns(name, true);
      if (without && withPor) out[`explore.por_reduction.${name}`] = without.runs / withPor.runs;
    }
    return out;
  },
  async par(b) {
    return { 'explore.parallel_speedup': (await b.parallelSpeedup(ctx)).speedup };
  },
};

/** NEW / OLD of each build's best round: the highest rate, or the fewest seconds; '—' otherwise. */
function bestRatio(key, o, n) {
  const best = /per_(cpu_)?sec/.test(key) ? Math.max : /seconds|time_to_first/.test(key) ? Math.min : null;
  return best ? (best(...n) / best(...o)).toFixed(2) : '—';
}

/** One group of one build, in this process: prints its figures as one JSON line. */
async function probe(root, group, only) {
  if (group === 'sched') {
    const out = execFileSync(
      process.execPath,
      ['--max-semi-space-size=64', resolve(root, 'dist/bench/main.js'), '--only', 'sched', '--json'],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    console.log(out.trim().split('\n').pop());
    return;
  }
  console.log(JSON.stringify(await GROUPS[group](await benchOf(root), only)));
}

function run(root, group, only) {
  const t0 = performance.now();
  const out = execFileSync(
    process.execPath,
    ['--max-semi-space-size=64', new URL(import.meta.url).pathname, '--probe', root, group, only.join(',')],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
  );
  process.stderr.write(`  ${group} ${root}: ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  return JSON.parse(out.trim().split('\n').pop());
}

async function main() {
  if (process.argv[2] === '--probe') {
    const [root, group, only] = process.argv.slice(3);
    await probe(root, group, only ? only.split(',') : []);
    return;
  }
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      rounds: { type: 'string', default: '3' },
      groups: { type: 'string', default: 'sched,sps,ttf,dfs,vsfc,por,par' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 2)
    throw new Error('usage: node src/bench/ab.mjs OLD NEW [--rounds N] [--groups a,b]');
  const roots = positionals.map((p) => resolve(p));
  const groups = values.groups.split(',');
  const rounds = Number(values.rounds);
  const names = (root) =>
    new Set(
      execFileSync('ls', [resolve(root, 'scenarios')], { encoding: 'utf8' })
        .split('\n')
        .filter((f) => f.endsWith('.litmus'))
        .map((f) => f.slice(0, -'.litmus'.length)),
    );
  const [a, b] = roots.map(names);
  const common = [...a].filter((n) => b.has(n));
  const figures = roots.map(() => ({}));
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 ? [1, 0] : [0, 1];
    for (const g of groups) {
      if ((g === 'por' || g === 'par') && round > 0) continue;
      for (const i of order) {
        const figs = run(roots[i], g, common);
        for (const [k, v] of Object.entries(figs)) {
          figures[i][k] ??= [];
          figures[i][k].push(v);
        }
      }
    }
    process.stderr.write(`round ${round + 1} of ${rounds} done\n`);
  }
  const keys = Object.keys(figures[1]).filter((k) => k in figures[0]);
  const spread = (xs) => (xs.length > 1 ? (Math.max(...xs) - Math.min(...xs)) / median(xs) : Number.NaN);
  const pct = (x) => (Number.isNaN(x) ? '—' : `${(100 * x).toFixed(0)}%`);
  const rows = [['figure', 'old (median)', 'spread', 'new (median)', 'spread', 'new/old', 'n', 'best']];
  for (const k of keys) {
    const [o, n] = [figures[0][k], figures[1][k]];
    rows.push([
      k,
      median(o).toPrecision(4),
      pct(spread(o)),
      median(n).toPrecision(4),
      pct(spread(n)),
      (median(n) / median(o)).toFixed(2),
      String(Math.min(o.length, n.length)),
      bestRatio(k, o, n),
    ]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows)
    console.log(r.map((x, c) => (c ? x.padStart(widths[c]) : x.padEnd(widths[c]))).join('  '));
  if (values.json) console.log(JSON.stringify({ roots, values: figures }));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 2;
});
