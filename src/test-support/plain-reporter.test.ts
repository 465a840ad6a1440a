/**
 * The closing line CI reads, on a real vitest run of reporter-fixture/: one file of each way a run
 * can fail (a failing test, a file that fails to load, a file with no test, a file-level and a
 * suite-level beforeAll that throws, an unhandled rejection) beside one that passes.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';

const FIXTURE = join(import.meta.dirname, 'reporter-fixture');
const VITEST = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');

/** The environment without the outer run's VITEST* variables, so the inner run is a run of its own. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
}

it('counts failed tests, files that fail to load or run no test, hook and unhandled errors', () => {
  const run = spawnSync(process.execPath, [VITEST, 'run'], {
    cwd: FIXTURE,
    env: cleanEnv(),
    encoding: 'utf8',
  });
  const lines = run.stdout.trim().split('\n');
  // passes: 1 passed 1 skipped; fails: 1 passed 1 failed; load-error: 1 failed; no-test: 1 failed;
  // hook-error: 1 failed 2 skipped; suite-hook-error: 1 passed 1 failed 2 skipped; unhandled:
  // 1 passed 1 failed.
  expect(lines.at(-1)).toBe('vitest: 4 passed, 6 failed, 5 skipped');
  expect(run.status).toBe(1);
}, 60_000);

it('a clean run closes on 0 failed and exits 0', () => {
  const run = spawnSync(process.execPath, [VITEST, 'run', 'passes.fixture.ts'], {
    cwd: FIXTURE,
    env: cleanEnv(),
    encoding: 'utf8',
  });
  expect(run.stdout.trim().split('\n').at(-1)).toBe('vitest: 1 passed, 0 failed, 1 skipped');
  expect(run.status).toBe(0);
}, 60_000);
