import { describe, expect, it } from 'vitest';
import { progressLine } from './progress.js';

describe('the progress line says only what is known', () => {
  it('a DFS before its frontier is built: no total, no rate, no ETA', () => {
    expect(
      progressLine('exploring', 'subtrees', { done: 0, total: 0, schedules: 0, findings: 0 }, 18, false),
    ).toBe('exploring 0/? subtrees | 0 findings | 18 s');
  });

  it('a DFS under way: subtrees of planned, schedules and their rate, still no ETA', () => {
    expect(
      progressLine('exploring', 'subtrees', { done: 12, total: 64, schedules: 3400, findings: 0 }, 20, false),
    ).toBe('exploring 12/64 subtrees | 3400 schedules | 170/s | 0 findings | 20 s');
  });

  it('matrix cells: an ETA from the cells done', () => {
    expect(
      progressLine('matrix', 'cells', { done: 50, total: 200, schedules: 0, findings: 1 }, 10, true),
    ).toBe('matrix 50/200 cells | 1 finding | 10 s | ETA 30 s');
  });
});
