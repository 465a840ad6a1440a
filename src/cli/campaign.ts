/**
 * `pagelab campaign`: generated programs, each under every scheme (docs/campaign.md), and
 * `pagelab campaign merge`, which folds shard outputs into the summary one run gives.
 * Bad input is one line and exit 2 (cli/common.ts); a finding in any cell is exit 1; else a cell whose
 * data the oracles could not judge in full (verdict inconclusive) is exit 3, as `check` does.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type CellBudget, DEFAULT_BUDGET } from '../campaign/cell.js';
import {
  type ProgramSource,
  runCampaign,
  type Shard,
  type Slice,
  sourceSize,
  spaceName,
} from '../campaign/driver.js';
import { estimateCampaign, formatEstimate, shardCount } from '../campaign/estimate.js';
import {
  formatNativeSummary,
  formatNotAllowed,
  type NativeRecord,
  nativeFailed,
  runNativeCampaign,
  summarizeNative,
} from '../campaign/native.js';
import {
  type CampaignRecord,
  type CampaignSummary,
  firstBySignature,
  formatSummary,
  replayIn,
  summarize,
} from '../campaign/summary.js';
import { spaceSize } from '../gen/enumerate.js';
import { NativeBuildError } from '../native/build.js';
import { hostScheme } from '../native/host.js';
import { NativeUnsupported } from '../native/program.js';
import { probeParent } from '../native/run.js';
import { SCHEMES } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import {
  EXIT_FINDING,
  EXIT_INCONCLUSIVE,
  EXIT_OK,
  intOption,
  jobsOption,
  out,
  resolveScheme,
  UsageError,
  writeOut,
} from './common.js';

interface CampaignCliOpts {
  json?: boolean;
  scheme?: string;
  shard: Shard;
  programs?: Slice;
  tasks: number;
  ops: number;
  random?: number;
  seed: number;
  dfsRuns: number;
  certifyRuns: number;
  preemptions: number;
  pctSchedules: number;
  jobs: number;
  estimate?: boolean;
  sample: number;
  litmusDir?: string;
  native?: boolean;
  iterations: number;
  dir?: string;
}

/**
 * Writes the minimised example of each distinct finding as `<name>.litmus` in `dir` (the name its
 * replay strings use), and says how many on stderr.
 */
function writeDistinct(dir: string, records: readonly CampaignRecord[]): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`cannot create ${dir}: ${(e as Error).message}`);
  }
  const firsts = [...firstBySignature(records).values()];
  for (const { record } of firsts) {
    const text = record.minimised?.litmus ?? '';
    const name = /^litmus (\S+)/.exec(text)?.[1];
    // The replay comment runs from where the campaign ran: it names the file under DIR.
    const replay = record.minimised?.replay ?? '';
    const here = text.replace(`pagelab replay '${replay}'`, `npx pagelab replay '${replayIn(dir, replay)}'`);
    if (name) writeOut(join(dir, `${name}.litmus`), here);
  }
  process.stderr.write(`campaign: ${firsts.length} distinct findings written to ${dir}\n`);
}

/** What the summary and the .litmus writer need of a record: an ok cell's text is dropped. */
function kept(r: CampaignRecord): CampaignRecord {
  return r.minimised ? r : { ...r, litmus: '', program: '', findings: [] };
}

/** The largest space the enumerator walks (the default space: 117968 programs). */
const MAX_EXHAUSTIVE = 10_000_000;

function shardOption(value: string): Shard {
  const m = /^([0-9]+)\/([0-9]+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('--shard must be i/N (e.g. 0/4)');
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > 1_000_000 || index >= count)
    throw new InvalidArgumentError('--shard i/N needs 0 <= i < N <= 1000000');
  return { index, count };
}

function sliceOption(value: string): Slice {
  const m = /^([0-9]+)-([0-9]+)$/.exec(value);
  if (!m || Number(m[1]) >= Number(m[2]))
    throw new InvalidArgumentError('--programs must be FROM-TO with FROM < TO (indices, TO excluded)');
  return { from: Number(m[1]), to: Number(m[2]) };
}

/**
 * `--scheme`: registry names, in registry order, then scheme files (explore/schemefile.ts) in the
 * order given, each loaded and checked here (bad input: one line, exit 2). A file is named by its
 * path as given: the cells, workers and replay strings carry that path.
 */
async function schemeNames(list: string | undefined): Promise<string[]> {
  if (list === undefined) return SCHEMES.map((s) => s.name);
  const names = [...new Set(list.split(',').filter((s) => s !== ''))];
  if (names.length === 0) throw new UsageError('--scheme needs at least one scheme name');
  for (const n of names) await resolveScheme(n);
  const files = names.filter((n) => !SCHEMES.some((s) => s.name === n));
  return [...SCHEMES.map((s) => s.name).filter((n) => names.includes(n)), ...files];
}

function sourceOf(o: CampaignCliOpts): ProgramSource {
  const bounds = { tasks: o.tasks, ops: o.ops };
  if (o.random !== undefined) return { kind: 'random', bounds, count: o.random, seed: o.seed };
  const size = spaceSize(bounds);
  if (size > MAX_EXHAUSTIVE)
    throw new UsageError(
      `the exhaustive space of ${o.tasks} tasks x ${o.ops} ops holds ${size} programs (more than ${MAX_EXHAUSTIVE}): use --random N`,
    );
  return { kind: 'exhaustive', bounds };
}

/** A bar on a terminal; otherwise a heartbeat line on stderr at most every 10 s. */
function progress(total: number): { tick(done: number, findings: number): void; stop(): void } {
  const started = Date.now();
  if (process.stderr.isTTY && !process.env.CI) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'campaign {bar} {value}/{total} cells | {findings} findings | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { findings: 0 });
    return { tick: (done, findings) => bar.update(done, { findings }), stop: () => bar.stop() };
  }
  let last = { done: 0, findings: 0 };
  const beat = () => {
    const secs = Math.max(1, Math.round((Date.now() - started) / 1000));
    process.stderr.write(`campaign: ${last.done}/${total} cells, ${last.findings} findings, ${secs} s\n`);
  };
  const timer = setInterval(beat, 10_000);
  timer.unref();
  return {
    tick: (done, findings) => {
      last = { done, findings };
    },
    stop: () => clearInterval(timer),
  };
}

function budgetOf(o: CampaignCliOpts): CellBudget {
  return {
    dfsRuns: o.dfsRuns,
    certifyRuns: o.certifyRuns,
    preemptions: o.preemptions,
    pctSchedules: o.pctSchedules,
    seed: o.seed,
  };
}

/** The host's filesystem (probed under --dir) and the scheme compared: --scheme's one, else the host's. */
async function nativeScheme(o: CampaignCliOpts): Promise<{ fs: string; scheme: Scheme }> {
  if (o.scheme !== undefined && (await schemeNames(o.scheme)).length !== 1)
    throw new UsageError('campaign --native compares with one scheme: give one name to --scheme');
  let hs: ReturnType<typeof hostScheme>;
  try {
    hs = hostScheme(probeParent(o.dir));
  } catch (e) {
    if (e instanceof NativeUnsupported || e instanceof NativeBuildError) throw new UsageError(e.message);
    throw e;
  }
  const name = o.scheme ?? hs.scheme;
  if (name === null)
    throw new UsageError(`no scheme models this host's ${hs.fs} (${hs.why}): name one with --scheme`);
  return { fs: hs.fs, scheme: await resolveScheme(name) };
}

/** `campaign --native`: every selected program on the kernel, held to the scheme's outcome set. */
async function cmdNativeCampaign(o: CampaignCliOpts, source: ProgramSource): Promise<number> {
  if (o.estimate || o.litmusDir) throw new UsageError('--native takes neither --estimate nor --litmus-dir');
  const { fs, scheme } = await nativeScheme(o);
  const total = shardCount(sourceSize(source), o.shard, o.programs);
  const records: NativeRecord[] = [];
  let failed = 0;
  const bar = progress(total);
  try {
    await runNativeCampaign({
      source,
      shard: o.shard,
      slice: o.programs,
      scheme,
      iterations: o.iterations,
      dir: o.dir,
      seed: o.seed,
      onRecord: (r) => {
        records.push({ ...r, litmus: '', outcomes: r.not_allowed.length ? r.outcomes : [] });
        if (nativeFailed(r)) failed++;
        if (o.json) out(JSON.stringify(r));
        else for (const line of formatNotAllowed(r)) out(line);
        bar.tick(records.length, failed);
      },
    });
  } catch (e) {
    if (e instanceof NativeBuildError) throw new UsageError(e.message);
    throw e;
  } finally {
    bar.stop();
  }
  const summary = summarizeNative(spaceName(source), fs, scheme.name, records);
  if (o.json) out(JSON.stringify(summary));
  else for (const line of formatNativeSummary(summary)) out(line);
  return failed > 0 ? EXIT_FINDING : EXIT_OK;
}

async function cmdCampaign(o: CampaignCliOpts): Promise<number> {
  const source = sourceOf(o);
  if (o.native) return cmdNativeCampaign(o, source);
  const schemes = await schemeNames(o.scheme);
  if (o.estimate) {
    const bar = progress(
      Math.min(o.sample, shardCount(sourceSize(source), o.shard, o.programs)) * schemes.length,
    );
    const e = await estimateCampaign({
      source,
      schemes,
      shard: o.shard,
      slice: o.programs,
      budget: budgetOf(o),
      jobs: o.jobs,
      sample: o.sample,
      onCell: (done) => bar.tick(done, 0),
    });
    bar.stop();
    if (o.json) out(JSON.stringify(e));
    else for (const line of formatEstimate(e)) out(line);
    return EXIT_OK;
  }
  const size = sourceSize(source);
  const programs = shardCount(size, o.shard, o.programs);
  const bar = progress(programs * schemes.length);
  const records: CampaignRecord[] = [];
  let findings = 0;
  try {
    await runCampaign({
      source,
      schemes,
      shard: o.shard,
      slice: o.programs,
      budget: budgetOf(o),
      jobs: o.jobs,
      onRecord: (r) => {
        records.push(kept(r));
        if (o.json) out(JSON.stringify(r));
      },
      onCell: (done, r) => {
        if (isFinding(r.verdict)) findings++;
        bar.tick(done, findings);
      },
    });
  } finally {
    bar.stop();
  }
  const summary = summarize(spaceName(source), size, records);
  printSummary(summary, o.json, o.litmusDir);
  if (o.litmusDir) writeDistinct(o.litmusDir, records);
  return exitCode(records);
}

/** A cell's verdict is a finding: neither ok, n/a, nor inconclusive (the oracles gave up). */
function isFinding(verdict: CampaignRecord['verdict']): boolean {
  return verdict !== 'ok' && verdict !== 'n/a' && verdict !== 'inconclusive';
}

/** 1 if any cell has a finding, else 3 if any is inconclusive (as `check`), else 0. */
function exitCode(records: readonly CampaignRecord[]): number {
  if (records.some((r) => isFinding(r.verdict))) return EXIT_FINDING;
  return records.some((r) => r.verdict === 'inconclusive') ? EXIT_INCONCLUSIVE : EXIT_OK;
}

function printSummary(s: CampaignSummary, json?: boolean, litmusDir?: string): void {
  if (json) out(JSON.stringify(s));
  else for (const line of formatSummary(s, litmusDir)) out(line);
}

/** Reads shard outputs (`campaign --json`): their records, and the space their summaries name. */
function readShards(files: readonly string[]): { space: string; size: number; records: CampaignRecord[] } {
  const records: CampaignRecord[] = [];
  const seen = new Set<string>();
  let space: { name: string; size: number } | null = null;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
    }
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let v: CampaignRecord | CampaignSummary;
      try {
        v = JSON.parse(line);
      } catch {
        throw new UsageError(`${file}:${i + 1}: not a JSON line of pagelab campaign --json`);
      }
      if (v?.type === 'summary') {
        if (space && (space.name !== v.space || space.size !== v.space_size))
          throw new UsageError(`${file}: shard of another campaign ('${v.space}', not '${space.name}')`);
        space = { name: v.space, size: v.space_size };
      } else if (v?.type === 'record') {
        const key = `${v.index}\u0000${v.scheme}`;
        if (seen.has(key))
          throw new UsageError(`${file}:${i + 1}: program ${v.index} under ${v.scheme} twice`);
        seen.add(key);
        records.push(v);
      } else {
        throw new UsageError(`${file}:${i + 1}: not a record or summary of pagelab campaign --json`);
      }
    });
  }
  if (!space)
    throw new UsageError('no summary line in the shard outputs (was the campaign run with --json?)');
  const found = space as { name: string; size: number };
  return { space: found.name, size: found.size, records };
}

function cmdMerge(files: string[], o: { json?: boolean; litmusDir?: string }): number {
  const { space, size, records } = readShards(files);
  printSummary(summarize(space, size, records), o.json, o.litmusDir);
  if (o.litmusDir) writeDistinct(o.litmusDir, records);
  return exitCode(records);
}

export function registerCampaign(p: Command, result: { code: number }, defaultJobs: number): void {
  const c = p
    .command('campaign')
    .description('generated programs (docs/campaign.md), each checked under every scheme')
    .option('--json', 'JSON Lines on stdout: one record per program x scheme, then the summary')
    .option(
      '--scheme <names>',
      'comma-separated schemes: registry names or paths to .js scheme files (default: every built-in)',
    )
    .addOption(
      new Option('--shard <i/N>', 'check only the programs whose index is i modulo N')
        .argParser(shardOption)
        .default({ index: 0, count: 1 }, '0/1'),
    )
    .option('--programs <from-to>', 'check only programs with FROM <= index < TO', sliceOption)
    .option('--tasks <n>', 'tasks per program', intOption('--tasks', 1, 8), 2)
    .option('--ops <n>', 'ops per task', intOption('--ops', 1, 16), 1)
    .option(
      '--random <n>',
      'draw N random programs (seeded) instead of enumerating',
      intOption('--random', 1, 10_000_000),
    )
    .option('--seed <n>', 'seed of the random programs and of PCT', intOption('--seed', 0, 0xffffffff), 1)
    .option(
      '--dfs-runs <n>',
      'DFS runs per cell before PCT samples it',
      intOption('--dfs-runs', 1, 10_000_000),
      DEFAULT_BUDGET.dfsRuns,
    )
    .option(
      '--certify-runs <n>',
      'DFS runs in all, per cell that PCT found nothing in, to complete its certificate',
      intOption('--certify-runs', 1, 10_000_000),
      DEFAULT_BUDGET.certifyRuns,
    )
    .option(
      '--preemptions <k>',
      'DFS preemption bound',
      intOption('--preemptions', 0, 64),
      DEFAULT_BUDGET.preemptions,
    )
    .option(
      '--pct-schedules <n>',
      'PCT schedules of the fallback',
      intOption('--pct-schedules', 1, 10_000_000),
      DEFAULT_BUDGET.pctSchedules,
    )
    .addOption(jobsOption(defaultJobs))
    .option('--estimate', 'sample the space and predict programs, runs and minutes; check nothing else')
    .option('--litmus-dir <dir>', 'write each distinct finding, minimised, as a ready .litmus file in DIR')
    .option('--sample <n>', '--estimate: programs to sample', intOption('--sample', 1, 100_000), 20)
    .option(
      '--native',
      "run each program on the running kernel and hold the host's scheme to it (docs/native.md)",
    )
    .option(
      '--iterations <n>',
      '--native: iterations per program',
      intOption('--iterations', 1, 10_000_000),
      100,
    )
    .option('--dir <dir>', '--native: where to make the files (default: the OS temporary directory)')
    .action(async (o: CampaignCliOpts) => {
      result.code = await cmdCampaign(o);
    });
  c.command('merge <files...>')
    .description('fold the --json outputs of shards into the summary one run gives')
    .option('--json', 'the summary as one JSON line')
    .option('--litmus-dir <dir>', 'write each distinct finding, minimised, as a ready .litmus file in DIR')
    .action((files: string[], o: { json?: boolean; litmusDir?: string }, cmd: Command) => {
      // Options after `merge` may be taken by `campaign` itself (commander parses parent options
      // first): either place counts.
      const parent = cmd.parent?.opts() ?? {};
      result.code = cmdMerge(files, {
        json: o.json || parent.json,
        litmusDir: o.litmusDir ?? parent.litmusDir,
      });
    });
}
