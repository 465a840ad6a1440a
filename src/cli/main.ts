/**
 * The `pagelab` command: `list`, `check`, `matrix`, `replay` here, `fsx` in fsx.ts. Exit codes and
 * bad input as cli/common.ts has them (a contract).
 */
import { Command, CommanderError } from 'commander';
import { builtinScenarios } from '../explore/builtin.js';
import { DEFAULTS } from '../explore/defaults.js';
import { measureMatrix } from '../explore/matrix.js';
import { defaultJobs } from '../explore/pool.js';
import { parseReplayString } from '../explore/run.js';
import { checkJson, matrixJson, replayJson } from '../report/json.js';
import { formatCheck, formatMatrix, terminalOptions } from '../report/text.js';
import { SCHEMES } from '../schemes/index.js';
import {
  EXIT_FINDING,
  EXIT_INCONCLUSIVE,
  EXIT_OK,
  EXIT_USAGE,
  intOption,
  jobsOption,
  out,
  resolveScenario,
  resolveScheme,
  UsageError,
} from './common.js';
import { registerFsx } from './fsx.js';
import { registerNative } from './native.js';
import { registerPlayground } from './playground.js';
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
  else out(formatCheck(r, r.replay ? `pagelab replay '${r.replay}'` : null, terminalOptions()));
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
  return showReplay(scenario, scheme, parsed.schedule, s, opts, (report, f) =>
    replayJson(scenario.name, scheme.name, s, report, f),
  );
}

interface MatrixOpts {
  scheme?: string[];
  schedules: number;
  seed: number;
  jobs: number;
  json?: boolean;
  html?: string;
}

async function cmdMatrix(opts: MatrixOpts): Promise<number> {
  const schemes = opts.scheme ? await Promise.all(opts.scheme.map(resolveScheme)) : undefined;
  const m = await measureMatrix({ ...opts, schemes });
  if (opts.html) await writeMatrixHtml(opts.html, m);
  if (opts.json) out(JSON.stringify(matrixJson(m)));
  else for (const line of formatMatrix(m)) out(line);
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
  p.command('matrix')
    .description('every built-in scenario under every scheme')
    .option(
      '--scheme <ref>',
      'only this scheme, a name or a .js file (repeat for more; default: every built-in)',
      (v: string, acc: string[] | undefined) => [...(acc ?? []), v],
    )
    .option(
      '--schedules <n>',
      'random schedules per cell',
      intOption('--schedules', 1, 100_000_000),
      DEFAULTS.matrixSchedules,
    )
    .option('--seed <n>', 'seed of the search', intOption('--seed', 0, 0xffffffff), DEFAULTS.seed)
    .addOption(jobsOption(defaultJobs()))
    .option('--html <file>', "write the matrix as an HTML page, each finding's report embedded, to FILE")
    .option('--json', 'one JSON object on stdout')
    .action(async (opts: MatrixOpts) => {
      result.code = await cmdMatrix(opts);
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
