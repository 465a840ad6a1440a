/**
 * The `pagelab` command. Exit codes (a contract): 0 nothing forbidden found, 1 a finding,
 * 2 bad input (unknown scheme or scenario, malformed litmus file or replay string, bad option).
 * Bad input prints one line `pagelab: <reason>` on stderr, never a stack trace.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { Finding } from '../check/oracles.js';
import { decisive } from '../explore/judge.js';
import { fairnessTable } from '../explore/measures.js';
import { defaultJobs, runCells } from '../explore/pool.js';
import {
  type CheckResult,
  checkScenario,
  parseReplayString,
  replaySchedule,
  STRATEGY_NAMES,
  type StrategyName,
} from '../explore/run.js';
import { disjointWritersScenario, measureScalability, type ScalabilityRow } from '../explore/scalability.js';
import type { CellTask } from '../explore/worker.js';
import type { Scenario } from '../litmus/ast.js';
import { builtinScenarios, findBuiltin } from '../litmus/builtin.js';
import { LitmusError, parseLitmus } from '../litmus/parse.js';
import { fromRun } from '../report/input.js';
import { formatCheck, formatReport, terminalOptions } from '../report/text.js';
import { findScheme, SCHEMES, type Scheme } from '../schemes/index.js';
import { registerFsx } from './fsx.js';
import { registerNative } from './native.js';
import { makeProgress } from './progress.js';
import { writeCheckReports, writeMatrixHtml, writeReportFiles } from './reports.js';

/** Bad input: reported as one line and exit code 2. */
export class UsageError extends Error {}

export const EXIT_OK = 0;
export const EXIT_FINDING = 1;
export const EXIT_USAGE = 2;

function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

export function resolveScenario(ref: string): Scenario {
  const builtin = findBuiltin(ref);
  if (builtin) return builtin;
  if (ref.endsWith('.litmus') || ref.includes('/')) {
    if (!existsSync(ref)) throw new UsageError(`no such scenario file: ${ref}`);
    try {
      return parseLitmus(readFileSync(ref, 'utf8'), ref);
    } catch (e) {
      if (e instanceof LitmusError) throw new UsageError(e.message);
      throw e;
    }
  }
  throw new UsageError(`unknown scenario '${ref}' (built-in names: pagelab list; or give a .litmus file)`);
}

export function resolveScheme(name: string): Scheme {
  const s = findScheme(name);
  if (!s) throw new UsageError(`unknown scheme '${name}' (known: ${SCHEMES.map((x) => x.name).join(', ')})`);
  return s;
}

function findingJson(f: Finding, replay: string | null) {
  return {
    kind: f.kind,
    summary: f.summary,
    details: f.details,
    bytes: f.bytes ?? null,
    ops: f.ops,
    reported: f.reported ?? null,
    replay,
  };
}

export function checkJson(r: CheckResult) {
  return {
    scenario: r.scenario,
    scheme: r.scheme,
    seed: r.seed,
    schedules: r.schedules,
    verdict: r.verdict,
    ...(r.reason ? { reason: r.reason } : {}),
    coverage: r.coverage,
    ...(r.shrunk ? { shrunk: r.shrunk } : {}),
    findings: r.findings.map((f) => findingJson(f, r.replay)),
  };
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function cmdList(): Promise<number> {
  out('scenarios:');
  for (const s of builtinScenarios()) out(`  ${s.name.padEnd(28)} ${s.doc}`);
  out('schemes:');
  for (const s of SCHEMES) out(`  ${s.name.padEnd(28)} ${s.summary}`);
  return EXIT_OK;
}

interface CheckOpts {
  scheme: string;
  schedules?: number;
  seed: number;
  json?: boolean;
  stepBound?: number;
  strategy: string;
  depth: number;
  preemptions: number;
  por: boolean;
  shrink: boolean;
  jobs: number;
  html?: string;
  perfetto?: string;
}

function resolveStrategy(name: string): StrategyName {
  const s = STRATEGY_NAMES.find((x) => x === name);
  if (!s) throw new UsageError(`unknown strategy '${name}' (known: ${STRATEGY_NAMES.join(', ')})`);
  return s;
}

async function cmdCheck(ref: string, opts: CheckOpts): Promise<number> {
  const scheme = resolveScheme(opts.scheme);
  const scenario = resolveScenario(ref);
  const strategy = resolveStrategy(opts.strategy);
  const schedules = opts.schedules ?? (strategy === 'dfs' ? 1_000_000 : 1000);
  const progress = makeProgress(!opts.json, strategy === 'dfs' ? 0 : schedules);
  const r = await checkScenario(scenario, scheme, {
    schedules,
    seed: opts.seed,
    stepBound: opts.stepBound,
    scenarioRef: ref,
    strategy,
    depth: opts.depth,
    preemptions: opts.preemptions,
    por: opts.por,
    shrink: opts.shrink,
    jobs: opts.jobs,
    onProgress: (u) => progress.onUnit(u),
  });
  progress.stop();
  if (opts.json) out(JSON.stringify(checkJson(r)));
  else out(formatCheck(r, r.replay ? `pagelab replay '${r.replay}'` : null, terminalOptions()));
  await writeCheckReports(r, scenario, scheme, opts, opts.stepBound);
  return r.finding ? EXIT_FINDING : EXIT_OK;
}

interface ReplayOpts {
  json?: boolean;
  stepBound?: number;
  html?: string;
  perfetto?: string;
}

async function cmdReplay(s: string, opts: ReplayOpts): Promise<number> {
  let parsed: ReturnType<typeof parseReplayString>;
  try {
    parsed = parseReplayString(s);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const scheme = resolveScheme(parsed.scheme);
  const scenario = resolveScenario(parsed.scenario);
  const report = await replaySchedule(scenario, scheme, parsed.schedule, opts.stepBound);
  const f = decisive(report.findings, scenario.forbid);
  const input = fromRun(report, { scheme: scheme.name, finding: f, replay: s, provenance: 'replayed' });
  writeReportFiles(input, opts);
  if (opts.json) {
    out(
      JSON.stringify({
        scenario: scenario.name,
        scheme: scheme.name,
        schedule: s,
        verdict: f ? f.kind : 'ok',
        findings: report.findings.map((x) => findingJson(x, s)),
        trace: report.result.trace?.events() ?? [],
      }),
    );
  } else {
    out(formatReport(input, null, terminalOptions()));
  }
  return f ? EXIT_FINDING : EXIT_OK;
}

interface MatrixOpts {
  schedules: number;
  seed: number;
  jobs: number;
  json?: boolean;
  html?: string;
}

async function cmdMatrix(opts: MatrixOpts): Promise<number> {
  const scenarios = builtinScenarios();
  const rows: {
    scenario: string;
    scheme: string;
    verdict: string;
    schedules: number;
    replay: string | null;
    summary: string | null;
  }[] = [];
  const cells: CellTask[] = [];
  for (const scenario of scenarios) {
    for (const scheme of SCHEMES) {
      cells.push({
        scenarioText: scenario.text,
        scenarioSource: scenario.source,
        scenarioRef: scenario.name,
        scheme: scheme.name,
        opts: { schedules: opts.schedules, seed: opts.seed },
      });
    }
  }
  const results = await runCells(cells, opts.jobs);
  for (const [i, r] of results.entries()) {
    const { scenarioRef: scenario, scheme } = cells[i];
    rows.push({
      scenario,
      scheme,
      verdict: r.verdict,
      schedules: r.schedules,
      replay: r.replay,
      summary: r.finding?.summary ?? r.reason ?? null,
    });
  }
  const scalability: ScalabilityRow[] = [];
  const disjointWriters = disjointWritersScenario(1);
  for (const scheme of SCHEMES)
    if (!scheme.notApplicable?.(disjointWriters)) scalability.push(...(await measureScalability(scheme)));
  const fairness = await fairnessTable(SCHEMES);
  const measures = {
    fairness,
    scalability: scalability.map(({ scheme, writers, speedup }) => ({ scheme, writers, speedup })),
  };
  if (opts.html) await writeMatrixHtml(opts.html, { ...opts, rows, scenarios, measures });
  if (opts.json) {
    out(JSON.stringify({ seed: opts.seed, schedules: opts.schedules, rows, measures }));
    return EXIT_OK;
  }
  const w = Math.max(...scenarios.map((s) => s.name.length)) + 2;
  const cw = Math.max(12, ...SCHEMES.map((s) => s.name.length + 2));
  out(`${'scenario'.padEnd(w)}${SCHEMES.map((s) => s.name.padEnd(cw)).join('')}`);
  for (const scenario of scenarios) {
    const cells = SCHEMES.map((s) =>
      (rows.find((r) => r.scenario === scenario.name && r.scheme === s.name)?.verdict ?? '?').padEnd(cw),
    );
    out(`${scenario.name.padEnd(w)}${cells.join('')}`);
  }
  out('');
  out(
    'scalability: speedup of N O_DIRECT writers to disjoint ranges of one file (virtual time, timed strategy)',
  );
  out(`${''.padEnd(w)}${SCHEMES.map((s) => s.name.padEnd(cw)).join('')}`);
  for (const n of [1, 2, 4, 8]) {
    const cells = SCHEMES.map((s) => {
      const r = scalability.find((x) => x.scheme === s.name && x.writers === n);
      return (r ? `${r.speedup.toFixed(2)}×` : 'n/a').padEnd(cw);
    });
    out(`${`${n} writer${n > 1 ? 's' : ''}`.padEnd(w)}${cells.join('')}`);
  }
  out('');
  out('fairness: longest wait of the O_DIRECT write in a fault storm of N faults per task (virtual ticks)');
  out(`${''.padEnd(w)}${SCHEMES.map((s) => s.name.padEnd(cw)).join('')}`);
  for (const storm of [...new Set(fairness.map((f) => f.storm))]) {
    const cells = SCHEMES.map((s) => {
      const r = fairness.find((x) => x.scheme === s.name && x.storm === storm);
      return (r ? (r.dio_wait_max === null ? 'no finish' : String(r.dio_wait_max)) : 'n/a').padEnd(cw);
    });
    out(`${`storm ${storm}`.padEnd(w)}${cells.join('')}`);
  }
  out('');
  out(
    `${opts.schedules} random schedules per cell, seed ${opts.seed}. Replay a cell: pagelab replay '<scenario>:<scheme>:<schedule>'`,
  );
  for (const r of rows) if (r.replay) out(`  ${r.verdict.padEnd(11)} pagelab replay '${r.replay}'`);
  return EXIT_OK;
}

function program(result: { code: number }): Command {
  const p = new Command('pagelab')
    .description(
      'Model of the Linux file I/O stack with pluggable locking schemes, and an explorer that finds their races',
    )
    .exitOverride()
    .configureOutput({
      writeErr: (s) => process.stderr.write(s.startsWith('error:') ? `pagelab: ${s.slice(7)}` : s),
    });
  p.command('list')
    .description('built-in scenarios and schemes')
    .action(async () => {
      result.code = await cmdList();
    });
  p.command('check <scenario>')
    .description('explore a scenario (built-in name or .litmus file) under a scheme')
    .requiredOption('--scheme <name>', 'locking scheme (pagelab list)')
    .option('--strategy <name>', 'random | pct | dfs', 'random')
    .option(
      '--schedules <n>',
      'schedules to try (random, pct; default 1000) or most runs (dfs; default 1000000)',
      intOption('--schedules', 1, 100_000_000),
    )
    .option('--seed <n>', 'seed of the search', intOption('--seed', 0, 0xffffffff), 1)
    .option('--depth <d>', 'PCT bug depth d', intOption('--depth', 1, 64), 3)
    .option('--preemptions <k>', 'DFS preemption bound K', intOption('--preemptions', 0, 64), 2)
    .option('--no-por', 'DFS without partial-order reduction')
    .option('--no-shrink', 'show the finding as found, not shrunk')
    .option(
      '--jobs <n>',
      "worker threads (default: the machine's cores)",
      intOption('--jobs', 1, 256),
      defaultJobs(),
    )
    .option(
      '--step-bound <n>',
      'steps after which a run is declared no-progress',
      intOption('--step-bound', 10, 100_000_000),
    )
    .option('--html <file>', 'write the HTML report (timeline, state at each step) to FILE')
    .option(
      '--perfetto <file>',
      'write the trace as Chrome Trace Event JSON (Perfetto UI, chrome://tracing) to FILE',
    )
    .option('--json', 'one JSON object on stdout')
    .action(async (ref: string, opts: CheckOpts) => {
      result.code = await cmdCheck(ref, opts);
    });
  p.command('matrix')
    .description('every built-in scenario under every scheme')
    .option('--schedules <n>', 'random schedules per cell', intOption('--schedules', 1, 100_000_000), 1000)
    .option('--seed <n>', 'seed of the search', intOption('--seed', 0, 0xffffffff), 1)
    .option(
      '--jobs <n>',
      "worker threads (default: the machine's cores)",
      intOption('--jobs', 1, 256),
      defaultJobs(),
    )
    .option('--html <file>', "write the matrix as an HTML page, each finding's report embedded, to FILE")
    .option('--json', 'one JSON object on stdout')
    .action(async (opts: MatrixOpts) => {
      result.code = await cmdMatrix(opts);
    });
  p.command('replay <replay-string>')
    .description("re-run one schedule ('<scenario>:<scheme>:<schedule>') and show its trace")
    .option(
      '--step-bound <n>',
      'steps after which a run is declared no-progress',
      intOption('--step-bound', 10, 100_000_000),
    )
    .option('--html <file>', 'write the HTML report (timeline, state at each step) to FILE')
    .option(
      '--perfetto <file>',
      'write the trace as Chrome Trace Event JSON (Perfetto UI, chrome://tracing) to FILE',
    )
    .option('--json', 'one JSON object on stdout, with the full trace')
    .action(async (s: string, opts: ReplayOpts) => {
      result.code = await cmdReplay(s, opts);
    });
  registerFsx(p, result, defaultJobs());
  registerNative(p, result);
  return p;
}

/** Runs the CLI on process.argv-style arguments and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const result = { code: EXIT_OK };
  try {
    await program(result).parseAsync(argv);
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`pagelab: ${e.message}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
