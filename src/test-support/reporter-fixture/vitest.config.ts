// The plain reporter's fixture run (src/test-support/plain-reporter.test.ts): files that pass, fail,
// fail to load, run no test, or fail in a hook. Not part of `npm test`'s own include.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['*.fixture.ts'],
    reporters: ['../plain-reporter.ts'],
    maxWorkers: 1,
  },
});
