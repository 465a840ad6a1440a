/**
 * The two halves every command that explores shares (`check`, `replay`, `fsx --tasks`): the search
 * options and the check call they make, and the replay of one schedule with its report.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { Finding } from '../check/oracles.js';
import { type CheckResult, checkScenario } from '../explore/check.js';
import { DEFAULTS, defaultSchedules } from '../explore/defaults.js';
import { decisive } from '../explore/judge.js';
import { type RunReport, replaySchedule } from '../explore/run.js';
import type { Scenario } from '../litmus/ast.js';
import { fromRun } from '../report/input.js';
import { formatReport, terminalOptions } from '../report/text.js';
import type { Scheme } from '../schemes/index.js';
import {
  EXIT_FINDING,
  EXIT_INCONCLUSIVE,
  EXIT_OK,
  intOption,
  jobsOption,
  out,
  resolveStrategy,
  UsageError,
} from './common.js';
import { makeProgress } from './progress.js';
import { type ReportFiles, writeReportFiles } from './reports.js';

/** The search options as commander gives them (check; fsx --tasks). */
export interface SearchCliOpts {
  strategy: string;
  schedules?: number;
  seed: number;
  depth: number;
  preemptions: number | 'all';
  stateCache?: boolean;
  por: boolean;
  shrink: boolean;
  jobs: number;
  stepBound?: number;
  json?: boolean;
}

/**
 * Adds the search options to a command; `prefix` starts each description (fsx: '--tasks: ', the
 * mode they belong to), `seedNote` ends the seed's.
 */
export function addSearchOptions(cmd: Command, defaultJobs: number, prefix = '', seedNote = ''): Command {
  return cmd
    .option('--strategy <name>', `${prefix}random | pct | dfs`, 'random')
    .option(
      '--schedules <n>',
      `${prefix}schedules to try (random, pct; default ${DEFAULTS.schedules}) or most runs, the frontier's included (dfs; default ${DEFAULTS.dfsSchedules})`,
      intOption('--schedules', 1, 100_000_000),
    )
    .option(
      '--seed <n>',
      `${prefix}seed of the search${seedNote}`,
      intOption('--seed', 0, 0xffffffff),
      DEFAULTS.seed,
    )
    .option('--depth <d>', `${prefix}PCT bug depth d`, intOption('--depth', 1, 64), DEFAULTS.depth)
    .option(
      '--preemptions <k>',
      `${prefix}DFS preemption bound K, or 'all': every schedule up to equivalence, no bound`,
      preemptionsOption,
      DEFAULTS.preemptions,
    )
    .option(
      '--state-cache',
      `${prefix}with --preemptions all: cache visited states (sound, slower; docs/architecture.md)`,
    )
    .option('--no-por', `${prefix}DFS without partial-order reduction`)
    .option('--no-shrink', `${prefix}show the finding as found, not shrunk`)
    .addOption(jobsOption(defaultJobs, prefix))
    .option(
      '--step-bound <n>',
      `${prefix}steps after which a run is declared no-progress (default ${DEFAULTS.stepBound})`,
      intOption('--step-bound', 10, 100_000_000),
    );
}

const preemptionBound = intOption('--preemptions', 0, 64);

/** `--preemptions K` or `--preemptions all` (no bound: the stateful search, src/explore/stateful.ts). */
function preemptionsOption(value: string): number | 'all' {
  if (value === 'all') return 'all';
  if (!/^[0-9]+$/.test(value))
    throw new InvalidArgumentError("--preemptions must be a whole number or 'all'");
  return preemptionBound(value);
}

/** The check a command's search options ask for, with the progress line on a terminal. */
export async function runCheck(
  scenario: Scenario,
  scheme: Scheme,
  scenarioRef: string,
  o: SearchCliOpts,
): Promise<CheckResult> {
  const strategy = resolveStrategy(o.strategy);
  // The cache prunes the unbounded DFS only; anywhere else it would be ignored without a word.
  if (o.stateCache && (strategy !== 'dfs' || o.preemptions !== 'all'))
    throw new UsageError('--state-cache needs --strategy dfs --preemptions all');
  const schedules = o.schedules ?? defaultSchedules(strategy);
  const progress = makeProgress(strategy === 'dfs');
  try {
    return await checkScenario(scenario, scheme, {
      schedules,
      seed: o.seed,
      stepBound: o.stepBound,
      scenarioRef,
      strategy,
      depth: o.depth,
      preemptions: o.preemptions,
      ...(o.stateCache ? { stateCache: true } : {}),
      por: o.por,
      shrink: o.shrink,
      jobs: o.jobs,
      onProgress: (u) => progress.onUnit(u),
      onPlan: (n) => progress.onPlan(n),
    });
  } finally {
    progress.stop();
  }
}

export interface ReplayShow extends ReportFiles {
  json?: boolean;
  stepBound?: number;
}

/**
 * Re-runs one schedule with the trace on and shows it: the report files, then JSON (as `toJson`
 * shapes it: each command has its own fields) or the terminal report. `replay` is what the report
 * names as the way to replay it. Returns the exit code.
 */
export async function showReplay(
  scenario: Scenario,
  scheme: Scheme,
  schedule: readonly number[],
  replay: string,
  o: ReplayShow,
  toJson: (report: RunReport, decisive: Finding | null) => object,
): Promise<number> {
  const report = await replaySchedule(scenario, scheme, schedule, o.stepBound);
  const f = decisive(report.findings, scenario.forbid);
  const input = fromRun(report, { scheme: scheme.name, finding: f, replay, provenance: 'replayed' });
  writeReportFiles(input, o);
  out(o.json ? JSON.stringify(toJson(report, f)) : formatReport(input, null, terminalOptions()));
  return f ? EXIT_FINDING : report.inconclusive ? EXIT_INCONCLUSIVE : EXIT_OK;
}
