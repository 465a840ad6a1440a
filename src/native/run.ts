/**
 * `pagelab native`'s engine: runs a scenario on the running kernel through the C helper
 * (litmus.c), N iterations, in a fresh directory of its own that it removes afterwards, and folds
 * the iterations into a histogram of outcomes, each with the finding kinds the oracles give it.
 */

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Judgement } from '../check/finding.js';
import { type HostFeatures, parseProbe } from '../fsx/differential.js';
import type { Scenario } from '../litmus/ast.js';
import { type Scheme, scenarioNotApplicable } from '../schemes/scheme.js';
import { buildHelper, helperSource } from './build.js';
import { type Comparison, compareOutcomes, HUNG_KEY, type ModelSet, modelOutcomes } from './compare.js';
import {
  classifyNative,
  type NativeIteration,
  nativeOutcome,
  type Outcome,
  orderSignature,
  parseHelperOutput,
} from './outcome.js';
import {
  checkExpressible,
  NativeUnsupported,
  programText,
  type RunParams,
  type Scaling,
  scalingFor,
} from './program.js';

const HERE = dirname(fileURLToPath(import.meta.url));

export interface NativeOptions {
  iterations: number;
  /** Parent directory of the run's own directory (default: the OS temporary directory). */
  dir?: string;
  seed: number;
  /** Compared scheme's name, for what the host cannot express (DAX). */
  scheme?: string | null;
  delaySpinsMax?: number;
  timeoutMs?: number;
}

/** About 100 µs of spinning: enough to move a task's start across an O_DIRECT write of a page (measured: 3000 iterations of dio-write-vs-mmap-store lost 4 writes at 4000 spins, 13-15 at 50000-200000). */
export const DELAY_SPINS_MAX_DEFAULT = 100_000;
export const TIMEOUT_MS_DEFAULT = 10_000;

export interface HistogramRow {
  outcome: Outcome;
  count: number;
  /** Finding kinds ('ok' when none) → iterations classified so. */
  kinds: Map<string, number>;
  /** The first iteration that showed it. */
  first: number;
}

export interface NativeResult {
  scenario: string;
  host: HostFeatures;
  scaling: Scaling;
  iterations: number;
  elapsedMs: number;
  rows: HistogramRow[];
  /** The iteration the watchdog caught, or null. */
  hung: number | null;
}

/** The helpers, built (or found in the cache). */
function helpers(): { litmus: string; replay: string } {
  return {
    litmus: buildHelper(helperSource(HERE, '', 'litmus.c'), 'litmus'),
    replay: buildHelper(helperSource(join(HERE, '..', 'fsx'), 'native', 'replay.c'), 'replay'),
  };
}

function workDir(parent: string | undefined): string {
  const p = parent ?? tmpdir();
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(p);
  } catch {
    throw new NativeUnsupported(`--dir ${p}: no such directory`);
  }
  if (!st.isDirectory()) throw new NativeUnsupported(`--dir ${p}: not a directory`);
  try {
    return mkdtempSync(join(p, 'pagelab-native-'));
  } catch (e) {
    throw new NativeUnsupported(`--dir ${p}: cannot create a directory there (${(e as Error).message})`);
  }
}

/** What the host's filesystem under `dir` supports (the differential helper's probe). */
export function probeHost(replay: string, dir: string): HostFeatures {
  return parseProbe(execFileSync(replay, ['probe', dir], { encoding: 'utf8' }));
}

interface HelperExit {
  stdout: string;
  code: number | null;
  stderr: string;
  /** The runner's own watchdog killed it (the helper's did not fire). */
  killed: boolean;
}

/** Runs the helper; kills it if it prints nothing for `silenceMs` (a hang its own watchdog missed). */
function runHelper(bin: string, dir: string, input: string, silenceMs: number): Promise<HelperExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let killed = false;
    let timer = setTimeout(kill, silenceMs);
    function kill() {
      killed = true;
      child.kill('SIGKILL');
      // A thread in uninterruptible sleep keeps even a killed process alive: stop waiting for it.
      setTimeout(() => done(null), 2000).unref();
    }
    let finished = false;
    function done(code: number | null) {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        code,
        stderr: Buffer.concat(err).toString('utf8'),
        killed,
      });
    }
    child.stdout.on('data', (b: Buffer) => {
      out.push(b);
      clearTimeout(timer);
      timer = setTimeout(kill, silenceMs);
    });
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => done(code));
    child.stdin.end(input);
  });
}

function kindsText(j: Judgement): string {
  const k = [...new Set(j.findings.map((f) => f.kind))].sort();
  if (k.length) return k.join(',');
  return j.inconclusive ? 'inconclusive' : 'ok';
}

/** The quiescent views when they disagreed (the `incoherent` oracle reads them; usually all null). */
function viewsKey(it: NativeIteration): string {
  return it.views
    .map((v) =>
      v ? [v.buffered, v.mmap, v.direct].map((b) => Buffer.from(b).toString('base64')).join('/') : '-',
    )
    .join(' ');
}

/** Folds iterations into the histogram; each distinct (outcome, real-time order, views) is judged once. */
export function histogram(sc: Scenario, s: Scaling, its: readonly NativeIteration[]): HistogramRow[] {
  const rows = new Map<string, HistogramRow>();
  const judged = new Map<string, string>();
  for (const it of its) {
    const outcome = nativeOutcome(sc, s, it);
    const jkey = `${outcome.key}\n${orderSignature(it)}\n${viewsKey(it)}`;
    let kinds = judged.get(jkey);
    if (kinds === undefined) {
      kinds = kindsText(classifyNative(sc, s, it));
      judged.set(jkey, kinds);
    }
    let row = rows.get(outcome.key);
    if (!row) {
      row = { outcome, count: 0, kinds: new Map(), first: it.index };
      rows.set(outcome.key, row);
    }
    row.count++;
    row.kinds.set(kinds, (row.kinds.get(kinds) ?? 0) + 1);
  }
  return [...rows.values()].sort((a, b) => b.count - a.count || a.first - b.first);
}

/** Runs `sc` natively. Throws NativeUnsupported (bad input, exit 2) or NativeBuildError. */
export async function runNative(sc: Scenario, opts: NativeOptions): Promise<NativeResult> {
  const bins = helpers();
  const dir = workDir(opts.dir);
  try {
    const host = probeHost(bins.replay, dir);
    const scaling = scalingFor(sc, host);
    checkExpressible(sc, scaling, opts.scheme ?? null);
    const params: RunParams = {
      iterations: opts.iterations,
      seed: opts.seed,
      delaySpinsMax: opts.delaySpinsMax ?? DELAY_SPINS_MAX_DEFAULT,
      timeoutMs: opts.timeoutMs ?? TIMEOUT_MS_DEFAULT,
    };
    const t0 = performance.now();
    const exit = await runHelper(bins.litmus, dir, programText(sc, scaling, params), params.timeoutMs + 5000);
    const elapsedMs = performance.now() - t0;
    const opCount = sc.tasks.reduce((n, t) => n + t.ops.length, 0);
    const parsed = parseHelperOutput(exit.stdout, opCount, sc.files.length);
    let hung = parsed.hung;
    if (hung === null && exit.killed) hung = parsed.iterations.length;
    if (hung === null && exit.code !== 0)
      throw new Error(
        `native helper failed (status ${exit.code}): ${exit.stderr.trim().split('\n')[0] ?? ''}`,
      );
    const rows = histogram(sc, scaling, parsed.iterations);
    if (hung !== null)
      rows.push({
        outcome: { key: HUNG_KEY, lines: ['(hung)'] },
        count: 1,
        kinds: new Map([['hung', 1]]),
        first: hung,
      });
    return { scenario: sc.name, host, scaling, iterations: parsed.iterations.length, elapsedMs, rows, hung };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the host's filesystem under `parent` supports: probed in a directory of its own, removed after. */
export function probeParent(parent: string | undefined): HostFeatures {
  const bins = helpers();
  const dir = workDir(parent);
  try {
    return probeHost(bins.replay, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface NativeComparison {
  result: NativeResult;
  model: ModelSet;
  comparison: Comparison;
}

/**
 * `native --compare` and `campaign --native`: runs `sc` natively, then holds the model to it. The
 * model sees the host's O_DIRECT alignment scaled down (`option sector=`), as the run did. Throws
 * NativeUnsupported when the host or the scheme cannot express the scenario.
 */
export async function runAndCompare(
  sc: Scenario,
  scheme: Scheme,
  opts: NativeOptions,
): Promise<NativeComparison> {
  const result = await runNative(sc, { ...opts, scheme: scheme.name });
  const modelSc = { ...sc, options: { ...sc.options, sector: String(result.scaling.modelSector) } };
  const na = scenarioNotApplicable(scheme, modelSc);
  if (na) throw new NativeUnsupported(`${sc.name}: scheme ${scheme.name} cannot express it: ${na}`);
  const model = await modelOutcomes(modelSc, scheme);
  const comparison = compareOutcomes(
    result.rows.map((r) => r.outcome.key),
    model,
  );
  return { result, model, comparison };
}
