import { beforeAll, expect, it } from 'vitest';

// A file-level beforeAll that throws, as a browser test's does when Chromium cannot launch.
beforeAll(() => {
  throw new Error('setup failed');
});
it('never runs 1', () => expect(1).toBe(1));
it('never runs 2', () => expect(1).toBe(1));
