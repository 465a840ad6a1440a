import { afterEach, describe, expect, it, vi } from 'vitest';
import { HEARTBEAT_MS, makeTicker, progressLine } from './progress.js';

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

describe('off a terminal: a heartbeat on stderr at most every 10 s, nothing for a short run', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('one line at 10 s and one at 20 s of a 25 s run; none after stop', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => lines.push(s) > 0 };
    const t = makeTicker('matrix', 'cells', true, stream);
    t.update({ done: 1, total: 4, schedules: 0, findings: 0 });
    vi.advanceTimersByTime(9_000);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(HEARTBEAT_MS - 9_000);
    t.update({ done: 2, total: 4, schedules: 0, findings: 1 });
    vi.advanceTimersByTime(15_000);
    t.stop();
    vi.advanceTimersByTime(60_000);
    expect(lines).toEqual([
      'pagelab: matrix 1/4 cells | 0 findings | 10 s | ETA 30 s\n',
      'pagelab: matrix 2/4 cells | 1 finding | 20 s | ETA 20 s\n',
    ]);
  });
});
