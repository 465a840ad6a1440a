// Prints the plain closing line `vitest: N passed, N failed, N skipped` that CI reads to count the
// tests that ran (vitest's own summary is not among the formats it recognises).
//
// "failed" counts everything that makes vitest exit 1, not only failed tests: a file that fails to
// load or runs no test (vitest puts the error on the module, which has no test), a beforeAll/afterAll
// that throws (the error is on the module or suite; its tests end up skipped), and an error no test
// handled. Otherwise a run that exits 1 could close on "0 failed", and CI and people read this line.
import type { Reporter, SerializedError, TestModule, TestSuite } from 'vitest/node';

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

/** Counts the tests by outcome, plus one failure per module or suite that carries its own errors. */
function tally(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): Tally {
  const t: Tally = { passed: 0, failed: unhandled.length, skipped: 0 };
  for (const module of modules) {
    for (const test of module.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') t.passed++;
      else if (state === 'failed') t.failed++;
      else t.skipped++;
    }
    const carriers: ReadonlyArray<TestModule | TestSuite> = [module, ...module.children.allSuites()];
    for (const c of carriers) if (c.errors().length > 0) t.failed++;
  }
  return t;
}

function closingLine({ passed, failed, skipped }: Tally): string {
  return `vitest: ${passed} passed, ${failed} failed, ${skipped} skipped`;
}

export default class PlainSummary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): void {
    console.log(closingLine(tally(modules, unhandled)));
  }
}
