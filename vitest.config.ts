import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    reporters: ['default', './src/test-support/plain-reporter.ts'],
    testTimeout: 60_000,
  },
});
