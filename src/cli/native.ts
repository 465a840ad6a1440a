/**
 * `pagelab native SCENARIO|FILE|--all [--iterations N] [--dir DIR] [--json] [--compare SCHEME]`:
 * litmus7 for file I/O. Runs the scenario on the running kernel (src/native), prints the
 * histogram of outcomes with the finding kind the oracles give each, and with --compare holds the
 * model to it. Exit codes: 0; 1 an iteration hung, or an outcome the model does not allow; 2 bad
 * input, including what the host cannot express (no gcc, no O_DIRECT, a missing fallocate mode,
 * DAX), one line on stderr.
 */
import type { Command } from 'commander';
import { builtinScenarios } from '../explore/builtin.js';
import type { Scenario } from '../litmus/ast.js';
import { NativeBuildError } from '../native/build.js';
import type { Comparison, ModelSet } from '../native/compare.js';
import { hostScheme } from '../native/host.js';
import { NativeUnsupported } from '../native/program.js';
import { type NativeResult, runAndCompare, runNative } from '../native/run.js';
import type { Scheme } from '../schemes/scheme.js';
import {
  EXIT_FINDING,
  EXIT_OK,
  intOption,
  out,
  resolveScenario,
  resolveScheme,
  UsageError,
} from './common.js';

interface NativeCliOpts {
  all?: boolean;
  iterations: number;
  dir?: string;
  json?: boolean;
  compare?: string;
  seed: number;
}

interface ScenarioReport {
  scenario: string;
  result: NativeResult | null;
  /** Why the host cannot run it (--all goes on). */
  unsupported: string | null;
  model: ModelSet | null;
  comparison: Comparison | null;
}

async function runOne(sc: Scenario, scheme: Scheme | null, o: NativeCliOpts): Promise<ScenarioReport> {
  // One host is one node: its tasks would share the page cache the nodes are there to separate.
  if (sc.nodes)
    throw new NativeUnsupported(`${sc.name}: 'node' lines: one host is one node (one page cache)`);
  const opts = { iterations: o.iterations, dir: o.dir, seed: o.seed };
  if (!scheme) {
    const result = await runNative(sc, opts);
    return { scenario: sc.name, result, unsupported: null, model: null, comparison: null };
  }
  const { result, model, comparison } = await runAndCompare(sc, scheme, opts);
  return { scenario: sc.name, result, unsupported: null, model, comparison };
}

function kindsLabel(kinds: Map<string, number>): string {
  return [...kinds].map(([k, n]) => (kinds.size > 1 ? `${k}×${n}` : k)).join(' ');
}

function printResult(r: NativeResult): void {
  const h = r.host;
  const s = r.scaling;
  out(
    `native ${r.scenario}: ${r.iterations} iterations in ${(r.elapsedMs / 1000).toFixed(1)} s on ${hostScheme(h).fs} ` +
      `(page ${h.page} = scenario page × ${s.factor}, block ${h.block}, O_DIRECT alignment ${h.sector})`,
  );
  for (const n of s.notes) out(`  note: ${n}`);
  out('outcomes (iterations, finding kinds under the oracles):');
  for (const row of r.rows) {
    out(`  ${String(row.count).padStart(6)}  ${kindsLabel(row.kinds)}`);
    for (const l of row.outcome.lines) out(`          ${l}`);
  }
  if (r.hung !== null) out(`  hung: ${r.scenario}, iteration ${r.hung}: the watchdog stopped the run`);
}

function printComparison(rep: ScenarioReport): void {
  const m = rep.model as ModelSet;
  const c = rep.comparison as Comparison;
  const r = rep.result as NativeResult;
  const count = (k: string) => r.rows.find((x) => x.outcome.key === k)?.count ?? 0;
  out(`model: ${m.scheme}, ${m.outcomes.size} outcomes (${m.coverage})`);
  const show = (title: string, keys: string[], counted: boolean) => {
    out(`  ${title} (${keys.length})${keys.length ? ':' : ''}`);
    for (const k of keys) {
      const mo = m.outcomes.get(k);
      const lines = mo?.outcome.lines ?? r.rows.find((x) => x.outcome.key === k)?.outcome.lines ?? [k];
      const model = mo
        ? `model: ${mo.kinds.join(',')}, pagelab replay '${rep.scenario}:${m.scheme}:${mo.schedule}'`
        : '';
      out(`    ${counted ? String(count(k)).padStart(6) : '     -'}  ${model}`);
      for (const l of lines) out(`            ${l}`);
    }
  };
  show('observed and allowed', c.allowed, true);
  show('observed but NOT allowed by the model', c.notAllowed, true);
  show('allowed but never observed', c.unobserved, false);
}

function reportJson(rep: ScenarioReport) {
  const r = rep.result;
  return {
    scenario: rep.scenario,
    unsupported: rep.unsupported,
    ...(r
      ? {
          host: { ...r.host, fs: hostScheme(r.host).fs, scheme: hostScheme(r.host).scheme },
          factor: r.scaling.factor,
          notes: r.scaling.notes,
          iterations: r.iterations,
          elapsed_ms: Math.round(r.elapsedMs),
          hung: r.hung,
          outcomes: r.rows.map((row) => ({
            count: row.count,
            kinds: Object.fromEntries(row.kinds),
            outcome: row.outcome.lines,
          })),
        }
      : {}),
    ...(rep.model && rep.comparison
      ? {
          model: {
            scheme: rep.model.scheme,
            complete: rep.model.complete,
            coverage: rep.model.coverage,
            outcomes: [...rep.model.outcomes.values()].map((o) => ({
              outcome: o.outcome.lines,
              kinds: o.kinds,
              schedule: o.schedule,
            })),
          },
          comparison: {
            allowed: rep.comparison.allowed.length,
            not_allowed: rep.comparison.notAllowed.map((k) => k.split('\n')),
            unobserved: rep.comparison.unobserved.length,
          },
        }
      : {}),
  };
}

function failed(rep: ScenarioReport): boolean {
  return (rep.result?.hung ?? null) !== null || (rep.comparison?.notAllowed.length ?? 0) > 0;
}

async function cmdNative(ref: string | undefined, o: NativeCliOpts): Promise<number> {
  if (o.all && ref) throw new UsageError('give a scenario or --all, not both');
  if (!o.all && !ref) throw new UsageError('give a scenario (built-in name or .litmus file) or --all');
  const scheme = o.compare ? await resolveScheme(o.compare) : null;
  const scenarios = o.all ? builtinScenarios() : [resolveScenario(ref as string)];
  const reports: ScenarioReport[] = [];
  try {
    for (const sc of scenarios) {
      try {
        reports.push(await runOne(sc, scheme, o));
      } catch (e) {
        if (!(e instanceof NativeUnsupported) || !o.all) throw e;
        reports.push({
          scenario: sc.name,
          result: null,
          unsupported: e.message,
          model: null,
          comparison: null,
        });
      }
      const rep = reports[reports.length - 1];
      if (o.json) continue;
      if (rep.result) printResult(rep.result);
      else out(`native ${rep.scenario}: n/a: ${rep.unsupported}`);
      if (rep.model) printComparison(rep);
      out('');
    }
    const host = reports.find((r) => r.result)?.result?.host;
    if (host && !o.json) {
      const hs = hostScheme(host);
      out(`the scheme that models this host (${hs.fs}): ${hs.scheme ?? `none (${hs.why})`}`);
    }
  } catch (e) {
    if (e instanceof NativeUnsupported || e instanceof NativeBuildError) throw new UsageError(e.message);
    throw e;
  }
  if (o.json) out(JSON.stringify(o.all ? reports.map(reportJson) : reportJson(reports[0])));
  return reports.some(failed) ? EXIT_FINDING : EXIT_OK;
}

export function registerNative(p: Command, result: { code: number }): void {
  p.command('native [scenario]')
    .description(
      'run a scenario on the running kernel (real threads, real files), histogram its outcomes, and with --compare hold the model to them',
    )
    .option('--all', 'every built-in scenario the host can express')
    .option('--iterations <n>', 'iterations per scenario', intOption('--iterations', 1, 10_000_000), 1000)
    .option(
      '--dir <dir>',
      'where to make the files (in a fresh directory, removed afterwards; default: the OS temporary directory)',
    )
    .option('--compare <scheme>', "the model's outcome set under SCHEME against the observed outcomes")
    .option('--seed <n>', "seed of the tasks' start delays", intOption('--seed', 0, 0xffffffff), 1)
    .option('--json', 'one JSON object on stdout (an array with --all)')
    .action(async (ref: string | undefined, opts: NativeCliOpts) => {
      result.code = await cmdNative(ref, opts);
    });
}
