/**
 * `npm run bench [-- --json] [-- --quick] [-- --only sched]`: runs every registered benchmark and
 * prints one table of figures. With --json the last stdout line is one JSON object
 * `{ "<group>.<name>": value, ... }`. Progress goes to stderr. Benchmarks are not tests: they never
 * run under `npm test`, and a missed target is shown, not turned into a failing exit code.
 *
 * To add a benchmark: write src/bench/<group>.ts calling `register(...)`, and import it below.
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { fmt } from './measure.js';
import { type BenchContext, type Figure, registered } from './registry.js';
import './sched.js';
import './explore.js';
import './native.js';
import './campaign.js';
import './playground.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
    },
  });
  const ctx: BenchContext = {
    timeScale: values.quick ? 0.1 : 1,
    log: (m) => process.stderr.write(`${m}\n`),
  };
  const only = values.only ?? [];
  const chosen = registered().filter((b) => only.length === 0 || only.includes(b.name));
  if (chosen.length === 0) throw new Error(`no benchmark matches --only ${only.join(',')}`);

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const load = loadavg().map((l) => l.toFixed(2));
  console.log(
    `pagelab bench: node ${process.version}, ${availableParallelism()} x ${cpu}, load ${load.join(' ')}`,
  );

  const figures: Figure[] = [];
  const started = performance.now();
  for (const b of chosen) {
    ctx.log(`${b.name}: ${b.description}`);
    const t0 = performance.now();
    figures.push(...(await b.run(ctx)));
    ctx.log(`${b.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const seen = new Set<string>();
  for (const f of figures) {
    if (seen.has(f.key)) throw new Error(`figure '${f.key}' reported twice`);
    seen.add(f.key);
  }

  console.log();
  console.log(table(figures));
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (values.json) {
    const out: Record<string, number> = {};
    // A figure that was not measured (a search cut off by its budget) is NaN: null here.
    for (const f of figures) out[f.key] = Number(f.value.toPrecision(6));
    console.log(JSON.stringify(out));
  }
}

function table(figures: readonly Figure[]): string {
  const rows = [
    ['figure', 'value', 'unit', '±', 'target', '', 'what'],
    ...figures.map((f) => [
      f.key,
      Number.isNaN(f.value) ? 'not finished' : fmt(f.value),
      f.unit,
      f.rme === undefined ? '' : `${f.rme.toFixed(1)}%`,
      f.target === undefined ? '' : `${f.lowerIsBetter ? '≤' : '≥'} ${fmt(f.target)}`,
      f.target === undefined
        ? ''
        : (f.lowerIsBetter ? f.value <= f.target : f.value >= f.target)
          ? 'ok'
          : 'MISS',
      f.label,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const right = new Set([1, 3, 4]);
  return rows
    .map((r) =>
      r
        .map((cell, c) =>
          c === r.length - 1 ? cell : right.has(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]),
        )
        .join('  '),
    )
    .join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
