/**
 * `pagelab fsx`: fstests' fsx on the model. Flags are fsx's where they mean the same. Three modes:
 *
 * - a random op stream (`-N -S -l -o ...`), drawn as fsx draws it (glibc random(), the same op
 *   mix, trimming and gendata bytes), run on one file of the model and checked as fsx checks;
 * - `--replay FILE` (fsx's `--replay-ops`): an op log in fsx's syntax, run the same way;
 * - `--tasks K`: K streams on one file as tasks under the explorer, judged by the oracles.
 *
 * Exit codes as the rest of the CLI: 0 A-OK, 1 an fsx failure or a finding, 2 bad input.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CheckResult } from '../explore/check.js';
import { parseReplayString } from '../explore/run.js';
import { type FsxScenario, FsxScenarioError, fsxScenario } from '../fsx/concurrent.js';
import { FSX_DEFAULTS, Fsx, type FsxOptions, type ReplayCounting } from '../fsx/fsx.js';
import { FsxLogError, formatLogDump, formatOpLog, lastLogged, parseOpLog } from '../fsx/log.js';
import type { ModelFile } from '../fsx/model.js';
import type { LogEntry } from '../fsx/ops.js';
import { FsxRunner, type FsxRunResult, fsxModelFile } from '../fsx/run.js';
import { checkJson } from '../report/json.js';
import { formatCheck, terminalOptions } from '../report/text.js';
import type { Scheme } from '../schemes/index.js';
import { decodeSchedule, encodeSchedule } from '../sim/schedule.js';
import {
  replayCommand as commonReplayCommand,
  EXIT_FINDING,
  EXIT_INCONCLUSIVE,
  EXIT_OK,
  intOption,
  out,
  resolveScheme,
  selfCommand,
  UsageError,
  writeOut,
} from './common.js';
import { makeTicker } from './progress.js';
import { addReportFileOptions, writeCheckReports } from './reports.js';
import { addSearchOptions, runCheck, type SearchCliOpts, showReplay } from './search.js';

/** What commander gives the action (short flags under their letter). */
export interface FsxCliOpts extends SearchCliOpts {
  N?: number;
  S?: number;
  l?: number;
  o?: number;
  O?: boolean;
  r?: number;
  w?: number;
  t?: number;
  s?: number;
  Z?: boolean;
  R?: boolean;
  W?: boolean;
  F?: boolean;
  K?: boolean;
  H?: boolean;
  z?: boolean;
  C?: boolean;
  I?: boolean;
  E?: boolean;
  e?: number;
  y?: boolean;
  X?: boolean;
  n?: boolean;
  c?: number;
  L?: boolean;
  g?: string;
  f?: boolean;
  q?: boolean;
  i?: string;
  recordOps?: string | true;
  replay?: string;
  replayOps?: string;
  testcallsAs: string;
  dump?: string;
  scheme: string;
  json?: boolean;
  page?: number;
  block?: number;
  tasks?: number;
  schedule?: string;
  litmus?: string;
  html?: string;
  perfetto?: string;
}

/** Defaults of the concurrent mode: litmus-sized geometry, a few calls per stream. */
const TASKS_DEFAULTS = { page: 64, numops: 8, maxfilelen: 256, maxoplen: 64 } as const;
const SEQUENTIAL_NUMOPS = 10_000;
const MAX_LEN = 16 * 1024 * 1024;

/**
 * fsx's getnum(): strtoll(s, 0) and an optional unit b (512), k, m, w (4). Trailing junk, which
 * fsx ignores, is an error here.
 */
export function fsxNumber(flag: string, min: number, max: number) {
  return (value: string): number => {
    const m = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([bBkKmMwW]?)$/.exec(value);
    if (!m)
      throw new UsageError(
        `${flag} ${value}: not a number (decimal, 0x hex or 0 octal, optional unit b k m w)`,
      );
    const d = m[1];
    const n = /^0[xX]/.test(d)
      ? Number.parseInt(d.slice(2), 16)
      : d[0] === '0'
        ? Number.parseInt(d, 8)
        : Number(d);
    const unit = { b: 512, k: 1024, m: 1024 * 1024, w: 4, '': 1 }[m[2].toLowerCase()] as number;
    const v = n * unit;
    if (v < min || v > max) throw new UsageError(`${flag} ${value}: must be between ${min} and ${max}`);
    return v;
  };
}

function pow2(flag: string, v: number): void {
  if (v & (v - 1)) throw new UsageError(`${flag} ${v}: must be a power of two`);
}

interface Resolved {
  opts: FsxOptions;
  numops: number;
  replayFile: string | null;
  counting: ReplayCounting;
  tasks: number | null;
}

function resolve(o: FsxCliOpts, seedNow: () => number): Resolved {
  const tasks = o.tasks ?? null;
  const replayFile = o.replay ?? o.replayOps ?? null;
  if (o.replay && o.replayOps && o.replay !== o.replayOps)
    throw new UsageError('--replay and --replay-ops name two different files');
  if (tasks !== null && replayFile) throw new UsageError('--tasks and --replay cannot go together');
  if (tasks === null) {
    for (const [flag, v] of [
      ['--schedule', o.schedule],
      ['--litmus', o.litmus],
      ['--html', o.html],
      ['--perfetto', o.perfetto],
    ] as const)
      if (v !== undefined) throw new UsageError(`${flag} needs --tasks (the concurrent mode)`);
  } else {
    if (o.dump) throw new UsageError('--dump is for one stream (without --tasks)');
    if (o.recordOps) throw new UsageError('--record-ops is for one stream (without --tasks)');
    // A store past EOF has no defined effect once another stream can extend the file over it:
    // Linux may expose it (pagecache_isize_extended zeroes nothing when the block is the page),
    // the reference model drops it.
    if (o.e === 1)
      throw new UsageError(
        "-e 1 is for one stream: its stores past EOF race with other streams' extending writes",
      );
  }
  if (o.testcallsAs !== 'record' && o.testcallsAs !== 'replay')
    throw new UsageError(`--testcalls-as ${o.testcallsAs}: must be 'record' or 'replay'`);
  const page = o.page ?? (tasks !== null ? TASKS_DEFAULTS.page : 4096);
  const block = o.block ?? page;
  pow2('--page', page);
  pow2('--block', block);
  if (block > page) throw new UsageError(`--block ${block} is larger than --page ${page}`);
  if (block < 8)
    throw new UsageError(`--block ${block}: at least 8 (the O_DIRECT sector is an eighth of it)`);
  let seed = o.S ?? FSX_DEFAULTS.seed;
  if (seed === 0) seed = seedNow();
  const lite = o.L ?? false;
  const opts: FsxOptions = {
    ...FSX_DEFAULTS,
    seed,
    maxfilelen: o.l ?? (tasks !== null ? TASKS_DEFAULTS.maxfilelen : FSX_DEFAULTS.maxfilelen),
    maxoplen: o.o ?? (tasks !== null ? TASKS_DEFAULTS.maxoplen : FSX_DEFAULTS.maxoplen),
    randomoplen: !o.O,
    readbdy: o.r ?? 1,
    writebdy: o.w ?? 1,
    truncbdy: o.t ?? 1,
    // fsx's -s sets a local: main() declares `int i, style, ch;`, which shadows the global that
    // test() reads, so fsx -s 1 draws the same truncates as without it. So does pagelab fsx.
    style: 0,
    lite,
    filldata: o.g === undefined ? null : o.g.charCodeAt(0) & 0xff,
    closeprob: o.c ?? 0,
    polluteEof: (o.e ?? 0) === 1,
    doFsync: o.y ?? false,
    checkFile: o.X ?? false,
    sizechecks: !o.n,
    oDirect: o.Z ?? false,
    mappedReads: !o.R,
    mappedWrites: !o.W,
    fallocateCalls: !o.F,
    keepSizeCalls: !o.K,
    punchHoleCalls: !o.H,
    zeroRangeCalls: !o.z,
    collapseRangeCalls: !o.C,
    insertRangeCalls: !o.I,
    copyRangeCalls: !o.E,
    integrity: o.i !== undefined,
    pageSize: page,
    blockSize: block,
  };
  if (o.g === '') throw new UsageError('-g needs a character');
  const numops = o.N ?? (tasks !== null ? TASKS_DEFAULTS.numops : replayFile ? -1 : SEQUENTIAL_NUMOPS);
  return { opts, numops, replayFile, counting: o.testcallsAs as ReplayCounting, tasks };
}

/**
 * The flags that reproduce these options, fsx's spelling, non-defaults only: the replay command of
 * a failure, and what a recorded log's README needs.
 */
export function fsxFlags(r: Resolved, scheme: string): string[] {
  const o = r.opts;
  const d = FSX_DEFAULTS;
  const t = r.tasks !== null;
  const out: string[] = [];
  const num = (flag: string, v: number, def: number) => {
    if (v !== def) out.push(flag, String(v));
  };
  const bool = (flag: string, on: boolean) => {
    if (on) out.push(flag);
  };
  if (t) out.push('--tasks', String(r.tasks));
  if (r.numops >= 0) out.push('-N', String(r.numops));
  out.push('-S', String(o.seed));
  num('-l', o.maxfilelen, t ? TASKS_DEFAULTS.maxfilelen : d.maxfilelen);
  num('-o', o.maxoplen, t ? TASKS_DEFAULTS.maxoplen : d.maxoplen);
  bool('-O', !o.randomoplen);
  num('-r', o.readbdy, 1);
  num('-w', o.writebdy, 1);
  num('-t', o.truncbdy, 1);
  bool('-L', o.lite);
  if (o.filldata !== null) out.push('-g', String.fromCharCode(o.filldata));
  num('-c', o.closeprob, 0);
  if (o.polluteEof) out.push('-e', '1');
  bool('-y', o.doFsync);
  bool('-X', o.checkFile);
  bool('-n', !o.sizechecks);
  bool('-Z', o.oDirect);
  bool('-R', !o.mappedReads);
  bool('-W', !o.mappedWrites);
  bool('-F', !o.fallocateCalls);
  bool('-K', !o.keepSizeCalls);
  bool('-H', !o.punchHoleCalls);
  bool('-z', !o.zeroRangeCalls);
  bool('-C', !o.collapseRangeCalls);
  bool('-I', !o.insertRangeCalls);
  bool('-E', !o.copyRangeCalls);
  if (o.integrity) out.push('-i', 'none');
  num('--page', o.pageSize, t ? TASKS_DEFAULTS.page : 4096);
  num('--block', o.blockSize, o.pageSize);
  out.push('--scheme', scheme);
  return out;
}

function shellWord(w: string): string {
  return /^[A-Za-z0-9_./:=+,@%-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** `pagelab fsx WORDS` as it runs from here (npx from an install, the checkout's bin by path). */
function command(words: string[]): string {
  return [selfCommand(), ...['fsx', ...words].map(shellWord)].join(' ');
}

function readReplay(file: string): LogEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return parseOpLog(text, file);
  } catch (e) {
    if (e instanceof FsxLogError) throw new UsageError(e.message);
    throw e;
  }
}

/** The model file for a sequential run; a scheme that cannot model this geometry is bad input. */
function modelFile(scheme: Scheme, o: FsxOptions): ModelFile {
  try {
    return fsxModelFile(scheme, o);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** fsx's seed for -S 0: `time(0) % 10000 + getpid()`. */
function timeSeed(): number {
  return (Math.floor(Date.now() / 1000) % 10000) + process.pid;
}

/** How many log lines a failure prints: fsx prints them all; the op log has them all anyway. */
const DUMP_LINES = 40;

async function runSequentialFsx(r: Resolved, scheme: Scheme, o: FsxCliOpts, fname: string | undefined) {
  const opsFile = o.recordOps === true ? (fname ? `${fname}.fsxops` : null) : (o.recordOps ?? null);
  if (o.recordOps === true && !opsFile)
    throw new UsageError("--record-ops needs a FILE (or fsx's fname argument)");
  const entries = r.replayFile ? readReplay(r.replayFile) : null;
  const fsx = new Fsx(r.opts, entries, r.counting);
  const file = modelFile(scheme, r.opts);
  const runner = new FsxRunner(fsx, file);
  const ticker = makeTicker('fsx', 'test calls', r.numops > 0);
  runner.onTestCall = (done) =>
    ticker.update({ done, total: Math.max(0, r.numops), schedules: 0, findings: 0 });
  let result: Awaited<ReturnType<FsxRunner['run']>>;
  try {
    result = await runner.run(r.numops);
  } finally {
    ticker.stop();
  }
  const badoff = result.failure?.badoff ?? -1;
  if (opsFile) writeOut(opsFile, formatOpLog(lastLogged(result.log), badoff));
  if (o.dump) writeOut(o.dump, result.contents);
  const f = result.failure;
  const again = r.replayFile
    ? command([
        '--replay',
        r.replayFile,
        ...(r.counting === 'replay' ? ['--testcalls-as', 'replay'] : []),
        ...fsxFlags(r, scheme.name),
      ])
    : command(fsxFlags(f ? { ...r, numops: f.testcalls } : r, scheme.name));
  if (o.json) {
    out(JSON.stringify(sequentialJson(r, scheme, result, again, opsFile, o.dump ?? null)));
  } else {
    const replayLog = opsFile
      ? command(['--replay', opsFile, ...fsxFlags({ ...r, numops: -1 }, scheme.name)])
      : null;
    printSequential(
      r,
      result,
      again,
      opsFile ? { file: opsFile, replay: replayLog as string } : null,
      o.q ?? false,
    );
  }
  return result.failure ? EXIT_FINDING : EXIT_OK;
}

function sequentialJson(
  r: Resolved,
  scheme: Scheme,
  result: FsxRunResult,
  again: string,
  opsFile: string | null,
  dump: string | null,
) {
  const f = result.failure;
  return {
    mode: r.replayFile ? 'replay' : 'random',
    scheme: scheme.name,
    seed: r.opts.seed,
    testcalls: result.testcalls,
    syscalls: result.syscalls,
    size: result.contents.length,
    verdict: f ? 'fail' : 'ok',
    status: f ? f.status : 0,
    failure: f ? { status: f.status, testcalls: f.testcalls, lines: f.lines, badoff: f.badoff } : null,
    replay: f ? again : null,
    recordOps: opsFile,
    dump,
  };
}

function printSequential(
  r: Resolved,
  result: FsxRunResult,
  again: string,
  ops: { file: string; replay: string } | null,
  quiet: boolean,
) {
  if (!quiet) out(`Seed set to ${r.opts.seed}`);
  const f = result.failure;
  if (!f) {
    out(`All ${result.testcalls} operations completed A-OK!`);
    if (ops) out(`Log of operations saved to "${ops.file}"; replay with: ${ops.replay}`);
    return;
  }
  for (const line of f.lines) out(line);
  const dump = formatLogDump(result.log, f.badoff);
  const shown =
    dump.length - 1 > DUMP_LINES
      ? [dump[0], `... (${dump.length - 1 - DUMP_LINES} earlier)`, ...dump.slice(-DUMP_LINES)]
      : dump;
  for (const line of shown) out(line);
  if (ops) out(`Log of operations saved to "${ops.file}"; replay with: ${ops.replay}`);
  out(`fsx would exit with status ${f.status} at test call ${f.testcalls}`);
  out(`replay: ${again}`);
}

// --- the concurrent mode ----------------------------------------------------------------------

async function runTasks(r: Resolved, scheme: Scheme, o: FsxCliOpts): Promise<number> {
  const flags = fsxFlags(r, scheme.name);
  let fs: FsxScenario;
  try {
    fs = fsxScenario(r.opts, { tasks: r.tasks as number, numops: r.numops, command: command(flags) });
  } catch (e) {
    if (e instanceof FsxScenarioError) throw new UsageError(e.message);
    throw e;
  }
  if (o.litmus) writeOut(o.litmus, fs.text);
  if (o.schedule !== undefined) return replayTasks(fs, scheme, o, flags);
  const res = await runCheck(fs.scenario, scheme, o.litmus ?? fs.scenario.name, o);
  const again = res.replay ? replayCommand(res, flags) : null;
  if (o.json) {
    const j = checkJson(res);
    out(
      JSON.stringify({
        ...j,
        mode: 'tasks',
        tasks: r.tasks,
        streams: fs.streams.map((s) => ({ task: s.task, seed: s.seed, ops: s.ops })),
        mutating: fs.mutating,
        litmus: o.litmus ?? null,
        replay: again,
        findings: j.findings.map((f) => ({ ...f, replay: again })),
      }),
    );
  } else {
    out(formatCheck(res, again, terminalOptions()));
    if (res.replay && o.litmus) out(`or: ${commonReplayCommand(res.replay)}`);
  }
  await writeCheckReports(res, fs.scenario, scheme, o, o.stepBound);
  return res.finding ? EXIT_FINDING : res.verdict === 'inconclusive' ? EXIT_INCONCLUSIVE : EXIT_OK;
}

function replayCommand(res: CheckResult, flags: string[]): string {
  const { schedule } = parseReplayString(res.replay as string);
  return command([...flags, '--schedule', encodeSchedule(schedule)]);
}

async function replayTasks(fs: FsxScenario, scheme: Scheme, o: FsxCliOpts, flags: string[]): Promise<number> {
  let schedule: number[];
  try {
    schedule = decodeSchedule(o.schedule as string);
  } catch (e) {
    throw new UsageError(`--schedule: ${(e as Error).message}`);
  }
  const again = command([...flags, '--schedule', encodeSchedule(schedule)]);
  return showReplay(fs.scenario, scheme, schedule, again, o, (report, f) => ({
    mode: 'tasks',
    scenario: fs.scenario.name,
    scheme: scheme.name,
    schedule: encodeSchedule(schedule),
    verdict: f ? f.kind : 'ok',
    findings: report.findings.map((x) => ({ kind: x.kind, summary: x.summary, details: x.details })),
    replay: again,
  }));
}

export async function cmdFsx(fname: string | undefined, o: FsxCliOpts): Promise<number> {
  const r = resolve(o, timeSeed);
  const scheme = await resolveScheme(o.scheme);
  if (r.tasks !== null) return runTasks(r, scheme, o);
  return runSequentialFsx(r, scheme, o, fname);
}

const NOT_SUPPORTED =
  'Not supported (the model has no use for them): -b -d -D -m -p -P -j -k -x -A -U -h --duration. ' +
  'Accepted with no effect, as fsx on ext4: -a (atomic writes), -u (unshare), -J -B -0 (clone, ' +
  'dedupe, exchange range), -T (dontcache: a plain read or write), -f (mmap + msync(MS_INVALIDATE) ' +
  'without access changes nothing).';

/** Registers `pagelab fsx` on the program. `result.code` receives the exit code. */
export function registerFsx(p: Command, result: { code: number }, defaultJobs: number): void {
  const n = (flag: string, min: number, max: number) => fsxNumber(flag, min, max);
  const fsx = p
    .command('fsx [fname]')
    .description(
      "fstests' fsx on the model: a random op stream (or --replay LOG) checked as fsx checks, or --tasks K streams under the explorer",
    )
    .option(
      '-N <numops>',
      `test calls (default ${SEQUENTIAL_NUMOPS}; --replay: the whole log; --tasks: 8 per stream)`,
      n('-N', 0, 100_000_000),
    )
    .option('-S <seed>', 'seed of glibc random() (default 1; 0: time-based, printed)', n('-S', 0, 0x7fffffff))
    .option('-l <flen>', 'upper bound on file size (default 262144; --tasks: 256)', n('-l', 1, MAX_LEN))
    .option('-o <oplen>', 'upper bound on op size (default 65536; --tasks: 64)', n('-o', 1, MAX_LEN))
    .option('-O', 'every op is exactly oplen long')
    .option('-r <readbdy>', 'read alignment (default 1)', n('-r', 1, MAX_LEN))
    .option('-w <writebdy>', 'write alignment (default 1)', n('-w', 1, MAX_LEN))
    .option('-t <truncbdy>', 'truncate alignment (default 1)', n('-t', 1, MAX_LEN))
    .option(
      '-s <style>',
      "accepted, no effect: fsx's main() sets a local that shadows the global",
      n('-s', 0, 1),
    )
    .option('-Z', 'O_DIRECT reads and writes (use -r and -w too)')
    .option('-R', 'no mapped reads (mapread becomes read)')
    .option('-W', 'no mapped writes (mapwrite becomes write)')
    .option('-F', 'no fallocate')
    .option('-K', 'no keep_size')
    .option('-H', 'no punch hole')
    .option('-z', 'no zero range')
    .option('-C', 'no collapse range')
    .option('-I', 'no insert range')
    .option('-E', 'no copy range')
    .option('-e <pollute>', '1: pollute the EOF page past EOF before size changes', n('-e', 0, 1))
    .option('-y', 'fsync after every write')
    .option('-X', 'read and compare the whole file after every op')
    .option('-n', 'no file size checks')
    .option('-c <prob>', '1 in P chance of close + drop_caches + open at each op', n('-c', 1, 0x7fffffff))
    .option('-L', 'fsx lite: no size changes; the file starts -l bytes long (fsx: an existing file)')
    .option('-g <char>', 'write this character instead of the generated data')
    .option('-f', 'flush after writes (no effect: see below)')
    .option('-q', 'quieter')
    .option(
      '-i <logdev>',
      'integrity mode: fsync in the op mix (the device is ignored: no dm-log-writes marks)',
    )
    .option('-a', 'no atomic writes (no effect)')
    .option('-u', 'no unshare range (no effect)')
    .option('-J', 'no clone range (no effect)')
    .option('-B', 'no dedupe range (no effect)')
    .option('-0', 'no exchange range (no effect)')
    .option('-T', 'no dontcache I/O (no effect)')
    .option('--record-ops [file]', "write the op log in fsx's syntax to FILE (default: <fname>.fsxops)")
    .option('--replay <file>', "run an op log in fsx's syntax (fsx: --replay-ops)")
    .option('--replay-ops <file>', 'the same as --replay')
    .option(
      '--testcalls-as <how>',
      "numbering of a replay's test calls (the byte each writes): record (every line, as the run that recorded the log: its file) or replay (as fsx --replay-ops: skip lines do not count)",
      'record',
    )
    .option('--dump <file>', "write the model's final file to FILE")
    .option('--scheme <name>', 'locking scheme (pagelab list)', 'pagelab')
    .option('--page <bytes>', 'page size (default 4096, the host; --tasks: 64)', n('--page', 8, 65536))
    .option(
      '--block <bytes>',
      'block size (default: the page size); O_DIRECT needs block/8 alignment',
      n('--block', 8, 65536),
    )
    .option(
      '--tasks <k>',
      'K fsx streams (seeds S, S+1, ...) on one file as tasks under the explorer',
      intOption('--tasks', 1, 16),
    );
  addReportFileOptions(
    addSearchOptions(fsx, defaultJobs, '--tasks: ', ' (not of the streams: that is -S)'),
    '--tasks: ',
  )
    .option('--schedule <s>', '--tasks: re-run this one schedule (what a finding prints) and show its trace')
    .option('--litmus <file>', '--tasks: write the generated scenario to FILE (pagelab check/replay take it)')
    .option('--json', 'one JSON object on stdout')
    .addHelpText('after', `\n${NOT_SUPPORTED}\nDocumentation: docs/fsx.md`)
    .action(async (fname: string | undefined, opts: FsxCliOpts) => {
      result.code = await cmdFsx(fname, opts);
    });
}
