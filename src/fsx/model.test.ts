/**
 * A sequential run on the model has a step bound too: `calls` system calls of stepsPerCall steps.
 * A run that makes far more calls than it declared ends no-progress; one that declares them runs.
 */
import { describe, expect, it } from 'vitest';
import { findScheme } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import { ModelFile, runSequential, stepsPerCall } from './model.js';

const geometry = { pageSize: 4096, blockSize: 4096, sector: 512, maxFileLen: 16384, maxIo: 4096 };
const pagelab = findScheme('pagelab') as Scheme;

async function writes(calls: number, declared: number): Promise<void> {
  const file = new ModelFile(pagelab, geometry);
  await runSequential(file, declared, async (t) => {
    for (let i = 0; i < calls; i++)
      await file.pwrite(t, 0, new Uint8Array(4096).fill(i & 0xff), false, 3 + i);
  });
}

describe('runSequential: every run has a step bound', () => {
  it('is stepsPerCall per declared call: 16 a block of file and buffer, plus 16', () => {
    expect(stepsPerCall(geometry)).toBe(16 * (5 + 16));
  });

  it('a run within its declared calls completes', async () => {
    await expect(writes(50, 50)).resolves.toBeUndefined();
  });

  it('a run far past its declared calls ends no-progress', async () => {
    await expect(writes(5000, 1)).rejects.toThrow("the model's run ended no-progress");
  });
});
