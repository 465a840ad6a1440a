/**
 * What every `pagelab` command shares: the exit codes and bad input (a contract: 0 nothing
 * forbidden found, 1 a finding, 2 bad input, reported as one line `pagelab: <reason>` on stderr,
 * never a stack trace, 3 inconclusive: nothing forbidden found but the oracles could not decide
 * every run), option parsing, output, and scheme / scenario / strategy names.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError, Option } from 'commander';
import { findBuiltin } from '../explore/builtin.js';
import { STRATEGY_NAMES, type StrategyName } from '../explore/check.js';
import { stateBudget } from '../explore/judge.js';
import { resolveSchemeRef, SchemeRefError } from '../explore/schemefile.js';
import type { Scenario } from '../litmus/ast.js';
import { LitmusError, parseLitmus } from '../litmus/parse.js';
import type { Scheme } from '../schemes/index.js';

/** Bad input: reported as one line `pagelab: <reason>` and exit code 2. */
export class UsageError extends Error {}

export const EXIT_OK = 0;
export const EXIT_FINDING = 1;
export const EXIT_USAGE = 2;
/**
 * Nothing forbidden found, but the data oracles could not decide every run (src/check/linearize.ts):
 * not 0, which every script reads as "ok"; not 1, which promises a counterexample to replay.
 */
export const EXIT_INCONCLUSIVE = 3;

/** A whole-number option in [min, max]; anything else is bad input. */
export function intOption(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}`);
    return n;
  };
}

/** `--jobs N`: worker threads, by default the machine's cores (said so, not the number, in --help). */
export function jobsOption(defaultJobs: number, prefix = ''): Option {
  return new Option('--jobs <n>', `${prefix}worker threads`)
    .argParser(intOption('--jobs', 1, 256))
    .default(defaultJobs, "the machine's cores");
}

export function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a file the user named; an unwritable path is bad input. */
export function writeOut(path: string, data: string | Uint8Array): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new UsageError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export function resolveScenario(ref: string): Scenario {
  const builtin = findBuiltin(ref);
  if (builtin) return builtin;
  if (ref.endsWith('.litmus') || ref.includes('/')) {
    if (!existsSync(ref)) throw new UsageError(`no such scenario file: ${ref}`);
    let scenario: Scenario;
    try {
      scenario = parseLitmus(readFileSync(ref, 'utf8'), ref);
    } catch (e) {
      if (e instanceof LitmusError) throw new UsageError(e.message);
      throw e;
    }
    try {
      stateBudget(scenario); // `option oracle-states=N`, read in every run: refused here, once
    } catch (e) {
      throw new UsageError(`${ref}: ${(e as Error).message}`);
    }
    return scenario;
  }
  throw new UsageError(`unknown scenario '${ref}' (built-in names: pagelab list; or give a .litmus file)`);
}

/** `--scheme`: a registry name or a path to an ESM scheme file (explore/schemefile.ts); else bad input. */
export async function resolveScheme(ref: string): Promise<Scheme> {
  try {
    return await resolveSchemeRef(ref);
  } catch (e) {
    if (e instanceof SchemeRefError) throw new UsageError(e.message);
    throw e;
  }
}

export function resolveStrategy(name: string): StrategyName {
  const s = STRATEGY_NAMES.find((x) => x === name);
  if (!s) throw new UsageError(`unknown strategy '${name}' (known: ${STRATEGY_NAMES.join(', ')})`);
  return s;
}

/** A comma-separated list option (`--schemes a,b`): its names, each checked by `check`. */
export function listOption<T>(value: string | undefined, one: (name: string) => T): T[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!names.length) throw new UsageError(`empty list '${value}'`);
  return names.map(one);
}

/** Quotes a word for a POSIX shell, so that a printed command runs as printed. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:+,=@%-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

/**
 * How the user runs this CLI again: `npx pagelab` from an install (the package sits in a
 * node_modules, where npx finds its bin), else the checkout's bin/pagelab.js by its path from the
 * working directory (npx would look `pagelab` up in the registry there).
 */
export function selfCommand(here = import.meta.url, cwd = process.cwd()): string {
  const bin = fileURLToPath(new URL('../../bin/pagelab.js', here));
  if (bin.split(sep).includes('node_modules')) return 'npx pagelab';
  const rel = relative(cwd, bin);
  return `node ${shellQuote(rel.startsWith('..') || rel.startsWith(sep) ? rel : `.${sep}${rel}`)}`;
}

/** The command that replays a replay string, runnable as printed. */
export function replayCommand(replay: string): string {
  return `${selfCommand()} replay '${replay.replaceAll("'", "'\\''")}'`;
}
