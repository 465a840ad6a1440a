import { beforeAll, describe, expect, it } from 'vitest';

describe('a suite whose beforeAll throws', () => {
  beforeAll(() => {
    throw new Error('suite setup failed');
  });
  it('never runs 1', () => expect(1).toBe(1));
  it('never runs 2', () => expect(1).toBe(1));
});
it('runs outside the suite', () => expect(1).toBe(1));
