/**
 * The `pagelab` command: `list`, `check`, `matrix`, `replay` here, `fsx` in fsx.ts. Exit codes and
 * bad input as cli/common.ts has them (a contract).
 */
import { Command, CommanderError } from 'commander';
import { builtinScenarios, findBuiltin } from '../explore/builtin.js';
import { DFS_BUDGET } from '../explore/cell.js';
import { DEFAULTS } from '../explore/defaults.js';
import { measureMatrix } from '../explore/matrix.js';
import { defaultJobs } from '../explore/pool.js';
import { parseReplayString } from '../explore/run.js';
import type { Scenario } from '../litmus/ast.js';
import { checkJson, matrixJson, replayJson } from '../report/json.js';
import { formatMatrixMarkdown, formatMatrixText } from '../report/matrix-text.js';
import { formatCheck, terminalOptions, wantColor } from '../report/text.js';
import { SCHEMES } from '../schemes/index.js';
import { scenarioNotApplicable } from '../schemes/scheme.js';
import { registerCampaign } from './campaign.js';
import {
  EXIT_FINDING,
  EXIT_INCONCLUSIVE,
  EXIT_OK,
  EXIT_USAGE,
  intOption,
  jobsOption,
  listOption,
  out,
  replayCommand,
  resolveScenario,
  resolveScheme,
  UsageError,
} from './common.js';
import { registerFsx } from './fsx.js';
import { registerNative } from './native.js';
import { registerPlayground } from './playground.js';
import { makeCellProgress } from './progress.js';
import { addReportFileOptions, writeCheckReports, writeMatrixHtml } from './reports.js';
import { addSearchOptions, runCheck, type SearchCliOpts, showReplay } from './search.js';

async function cmdList(): Promise<number> {
  out('scenarios:');
  for (const s of builtinScenarios()) out(`  ${s.name.padEnd(28)} ${s.doc}`);
  out('schemes:');
  for (const s of SCHEMES) out(`  ${s.name.padEnd(28)} ${s.summary}`);
  return EXIT_OK;
}

interface CheckOpts extends SearchCliOpts {
  scheme: string;
  html?: string;
  perfetto?: string;
}

async function cmdCheck(ref: string, opts: CheckOpts): Promise<number> {
  const scheme = await resolveScheme(opts.scheme);
  const scenario = resolveScenario(ref);
  const r = await runCheck(scenario, scheme, ref, opts);
  if (opts.json) out(JSON.stringify(checkJson(r)));
  else out(formatCheck(r, r.replay ? replayCommand(r.replay) : null, terminalOptions()));
  await writeCheckReports(r, scenario, scheme, opts, opts.stepBound);
  return r.finding ? EXIT_FINDING : r.verdict === 'inconclusive' ? EXIT_INCONCLUSIVE : EXIT_OK;
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
  const scheme = await resolveScheme(parsed.scheme);
  const scenario = resolveScenario(parsed.scenario);
  // `check` never makes a replay string for these: one page cache would run every node's tasks.
  if (scenario.nodes) throw new UsageError(`${s}: ${scenarioNotApplicable(scheme, scenario)}`);
  return showReplay(scenario, scheme, parsed.schedule, s, opts, (report, f) =>
    replayJson(scenario.name, scheme.name, s, report, f),
  );
}

interface MatrixOpts {
  scheme?: string[];
  schedules: number;
  seed: number;
  jobs: number;
  dfsBudget: number;
  preemptions: number;
  schemes?: string;
  scenarios?: string;
  format?: string;
  json?: boolean;
  html?: string;
}

const MATRIX_FORMATS = ['terminal', 'text', 'markdown', 'json'] as const;
type MatrixFormat = (typeof MATRIX_FORMATS)[number];

function matrixFormat(opts: MatrixOpts): MatrixFormat {
  if (opts.json) return 'json';
  const f = MATRIX_FORMATS.find((x) => x === (opts.format ?? 'terminal'));
  if (!f) throw new UsageError(`unknown format '${opts.format}' (known: text, markdown, json)`);
  return f;
}

/** The scenarios of a matrix: the FILEs (or names) given, or the built-in ones `--scenarios` picks. */
function matrixScenarios(files: string[], opts: MatrixOpts): { scenarios?: Scenario[]; refs?: string[] } {
  if (files.length && opts.scenarios) throw new UsageError('give scenario FILEs or --scenarios, not both');
  const refs = files.length ? files : listOption(opts.scenarios, (n) => n);
  if (!refs) return {};
  for (const r of refs)
    if (!files.length && !findBuiltin(r))
      throw new UsageError(`unknown scenario '${r}' (built-in names: pagelab list)`);
  return { scenarios: refs.map(resolveScenario), refs };
}

async function cmdMatrix(files: string[], opts: MatrixOpts): Promise<number> {
  const format = matrixFormat(opts);
  const { scenarios, refs } = matrixScenarios(files, opts);
  const refs2 = [...(opts.scheme ?? []), ...(listOption(opts.schemes, (n) => n) ?? [])];
  const schemes = refs2.length ? await Promise.all(refs2.map(resolveScheme)) : undefined;
  const progress = makeCellProgress();
  let m: Awaited<ReturnType<typeof measureMatrix>>;
  try {
    m = await measureMatrix({
      schedules: opts.schedules,
      seed: opts.seed,
      jobs: opts.jobs,
      dfsBudget: opts.dfsBudget,
      preemptions: opts.preemptions,
      scenarios,
      scenarioRefs: refs,
      schemes,
      noMeasures: scenarios !== undefined,
      onCell: (done, total, r) => progress.onCell(done, total, r.finding !== null),
    });
  } finally {
    progress.stop();
  }
  if (opts.html) await writeMatrixHtml(opts.html, m);
  if (format === 'json') out(JSON.stringify(matrixJson(m)));
  else if (format === 'markdown') for (const line of formatMatrixMarkdown(m, replayCommand)) out(line);
  else {
    const tty = process.stdout.isTTY === true;
    const text = format === 'text';
    const lines = formatMatrixText(m, {
      width: text ? 80 : tty ? Math.max(60, process.stdout.columns ?? 100) : 100,
      color: !text && wantColor(process.stdout),
      ascii: text,
      replayCommand,
    });
    for (const line of lines) out(line);
  }
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
  const check = p
    .command('check <scenario>')
    .description('explore a scenario (built-in name or .litmus file) under a scheme')
    .requiredOption('--scheme <ref>', 'locking scheme: a name (pagelab list) or a .js scheme file');
  addReportFileOptions(addSearchOptions(check, defaultJobs()))
    .option('--json', 'one JSON object on stdout')
    .action(async (ref: string, opts: CheckOpts) => {
      result.code = await cmdCheck(ref, opts);
    });
  p.command('matrix [files...]')
    .description(
      'every scenario (built-in, or the .litmus FILEs given) under every scheme; each cell a bounded DFS where it completes, else random',
    )
    .option(
      '--scheme <ref>',
      'only this scheme, a name or a .js file (repeat for more; default: every built-in)',
      (v: string, acc: string[] | undefined) => [...(acc ?? []), v],
    )
    .option('--schemes <list>', 'only these schemes, comma-separated names (pagelab list)')
    .option('--scenarios <list>', 'only these built-in scenarios, comma-separated')
    .option(
      '--format <fmt>',
      'text (80 columns, plain ASCII: a mail reply) | markdown | json (default: the table for this terminal, 100 columns off a TTY)',
    )
    .option(
      '--dfs-budget <n>',
      "most runs of a cell's DFS before it falls back to random (0: random only)",
      intOption('--dfs-budget', 0, 100_000_000),
      DFS_BUDGET,
    )
    .option(
      '--preemptions <k>',
      'DFS preemption bound K',
      intOption('--preemptions', 0, 64),
      DEFAULTS.preemptions,
    )
    .option(
      '--schedules <n>',
      'random schedules per cell whose DFS does not complete',
      intOption('--schedules', 1, 100_000_000),
      DEFAULTS.matrixSchedules,
    )
    .option('--seed <n>', 'seed of the random search', intOption('--seed', 0, 0xffffffff), DEFAULTS.seed)
    .addOption(jobsOption(defaultJobs()))
    .option('--html <file>', "write the matrix as an HTML page, each finding's report embedded, to FILE")
    .option('--json', 'one JSON object on stdout (= --format json)')
    .action(async (files: string[], opts: MatrixOpts) => {
      result.code = await cmdMatrix(files, opts);
    });
  const replay = p
    .command('replay <replay-string>')
    .description("re-run one schedule ('<scenario>:<scheme>:<schedule>') and show its trace")
    .option(
      '--step-bound <n>',
      `steps after which a run is declared no-progress (default ${DEFAULTS.stepBound})`,
      intOption('--step-bound', 10, 100_000_000),
    );
  addReportFileOptions(replay)
    .option('--json', 'one JSON object on stdout, with the full trace')
    .action(async (s: string, opts: ReplayOpts) => {
      result.code = await cmdReplay(s, opts);
    });
  registerFsx(p, result, defaultJobs());
  registerNative(p, result);
  registerCampaign(p, result, defaultJobs());
  registerPlayground(p, result);
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
