/**
 * The built-in scenarios: the .litmus files of the package's scenarios/ directory. Their names are
 * a stable contract (users script `pagelab check <name>`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scenario } from '../litmus/ast.js';
import { parseLitmus } from '../litmus/parse.js';

/** scenarios/ of the package: two levels above this module both in src/ and in dist/. */
export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scenarios');

/**
 * Built-in scenarios where `pagelab` has a known race, found by a campaign and not fixed yet
 * (docs/pagelab-scheme.md, "Known races found by the campaign"): the certificate of every other
 * built-in under pagelab (explore.test.ts, the bench's complete search) leaves them out, and a test
 * pins the finding, so that the fix has to take the name off this list. Empty since truncate and
 * fallocate wait for DMA pins (insert-vs-pinned-dio-read, campaign 31216, was on it).
 */
export const PAGELAB_KNOWN_RACES: readonly string[] = [];

let cache: Scenario[] | null = null;

export function builtinScenarios(): Scenario[] {
  if (!cache) {
    cache = readdirSync(SCENARIO_DIR)
      .filter((f) => f.endsWith('.litmus'))
      .sort()
      .map((f) => parseLitmus(readFileSync(join(SCENARIO_DIR, f), 'utf8'), `scenarios/${f}`));
  }
  return cache;
}

export function findBuiltin(name: string): Scenario | undefined {
  return builtinScenarios().find((s) => s.name === name);
}
