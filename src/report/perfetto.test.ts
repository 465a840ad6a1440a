/**
 * The Perfetto / chrome://tracing JSON against the Trace Event Format: the required fields of
 * every phase, B/E matched per thread, timestamps monotonic per track, metadata naming every
 * track, async slices paired by id, the finding a global instant with its explanation.
 */
import { describe, expect, it } from 'vitest';
import { checkReport, randomReport } from './fixtures.test-support.js';
import type { ReportInput } from './input.js';
import { assignLanes, type ChromeTrace, type ChromeTraceEvent, perfettoTrace } from './perfetto.js';
import type { Span } from './state.js';

const PHASES = new Set(['B', 'E', 'i', 'b', 'e', 'M']);

function fieldErrors(e: ChromeTraceEvent): string[] {
  const errs: string[] = [];
  const need = (ok: boolean, what: string) => {
    if (!ok) errs.push(`${JSON.stringify(e)}: ${what}`);
  };
  need(typeof e.name === 'string' && e.name.length > 0, 'name');
  need(PHASES.has(e.ph), 'ph');
  need(Number.isFinite(e.ts) && e.ts >= 0, 'ts (µs, finite, ≥ 0)');
  need(Number.isInteger(e.pid) && Number.isInteger(e.tid), 'pid/tid');
  need(typeof e.cat === 'string', 'cat');
  if (e.ph === 'M')
    need(typeof e.args?.name === 'string' || typeof e.args?.sort_index === 'number', 'M args');
  if (e.ph === 'i') need(e.s === 'g' || e.s === 'p' || e.s === 't', 'instant scope');
  if (e.ph === 'b' || e.ph === 'e') need(typeof e.id === 'string' && e.cat.length > 0, 'async id and cat');
  return errs;
}

/** Every structural rule the UIs rely on; returns the violations. */
function validate(t: ChromeTrace): string[] {
  const errs: string[] = [];
  const round = JSON.parse(JSON.stringify(t)) as ChromeTrace;
  if (!Array.isArray(round.traceEvents)) return ['traceEvents is not an array'];
  const stacks = new Map<number, string[]>();
  const lastTs = new Map<string, number>();
  const named = new Set<number>();
  const async = new Map<string, number>();
  for (const e of round.traceEvents) {
    errs.push(...fieldErrors(e));
    if (e.ph === 'M') {
      if (e.name === 'thread_name') named.add(e.tid);
      continue;
    }
    const track = `${e.pid}/${e.tid}`;
    if ((lastTs.get(track) ?? 0) > e.ts) errs.push(`ts goes back on ${track} at ${JSON.stringify(e)}`);
    lastTs.set(track, e.ts);
    const stack = stacks.get(e.tid) ?? [];
    stacks.set(e.tid, stack);
    if (e.ph === 'B') stack.push(e.name);
    if (e.ph === 'E' && stack.pop() !== e.name) errs.push(`unmatched E ${e.name} on tid ${e.tid}`);
    if (e.ph === 'b')
      async.set(`${e.cat}/${e.id}/${e.name}`, (async.get(`${e.cat}/${e.id}/${e.name}`) ?? 0) + 1);
    if (e.ph === 'e')
      async.set(`${e.cat}/${e.id}/${e.name}`, (async.get(`${e.cat}/${e.id}/${e.name}`) ?? 0) - 1);
    if (!named.has(e.tid)) errs.push(`tid ${e.tid} has no thread_name before its first event`);
  }
  for (const [tid, stack] of stacks) if (stack.length) errs.push(`tid ${tid}: ${stack.join(', ')} never end`);
  for (const [k, n] of async) if (n !== 0) errs.push(`async ${k}: b and e do not pair`);
  return errs;
}

describe('perfettoTrace', () => {
  it('dio-write-vs-mmap-store under vfs2019: tracks, holds, waits, bios, the finding', async () => {
    const input = await checkReport('dio-write-vs-mmap-store', 'vfs2019');
    const t = perfettoTrace(input);
    expect(validate(t)).toEqual([]);
    const names = t.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args?.name);
    expect(names).toEqual(expect.arrayContaining(['P0', 'P1']));
    const b = t.traceEvents.filter((e) => e.ph === 'B');
    expect(b.map((e) => e.name)).toEqual(
      expect.arrayContaining([
        'pwrite f 0 32 direct',
        'hold i_rwsem(f) write',
        'wait: bio#1',
        'hold folio f:0 excl',
      ]),
    );
    const bios = t.traceEvents.filter((e) => e.ph === 'b');
    expect(bios.map((e) => e.name)).toEqual(['bio#1 write [0,32)', 'bio#2 read [0,64)']);
    const endio = t.traceEvents.find((e) => e.ph === 'e' && e.id === bios[0].id);
    expect(endio?.tid).not.toBe(bios[0].tid);
    const finding = t.traceEvents.filter((e) => e.cat === 'finding');
    expect(finding).toHaveLength(1);
    expect(finding[0]).toMatchObject({ ph: 'i', s: 'g' });
    expect(finding[0].args?.summary).toBe(input.finding?.summary);
    expect(finding[0].args?.details).toEqual(input.finding?.details);
    expect(String(finding[0].args?.replay)).toMatch(/^npx pagelab replay 'dio-write-vs-mmap-store:vfs2019:/);
    expect(t.otherData.timebase).toMatch(/1 µs = 1 step/);
  });

  it('a deadlock: holds that do not nest get a second track; open slices end after the last step', async () => {
    const input = await checkReport('pinned-page-fsync', 'ext4-pin-block');
    expect(input.verdict).toBe('deadlock');
    const t = perfettoTrace(input);
    expect(validate(t)).toEqual([]);
    expect(t.traceEvents.some((e) => e.name === 'thread_name' && /overlap/.test(String(e.args?.name)))).toBe(
      true,
    );
    const open = t.traceEvents.filter((e) => e.ph === 'B' && e.args?.ended);
    expect(open.length).toBeGreaterThan(0);
  });

  it('validates on random schedules of every built-in race', async () => {
    const cases: [string, string][] = [
      ['dio-write-vs-buffered-read', 'xfs'],
      ['punch-vs-fault', 'vfs2019'],
      ['pinned-page-fsync', 'ext4-pin-skip'],
      ['gup-nofault-reentry', 'gfs2-2021'],
      ['dax-hole-fault-vs-write', 'dax2017'],
    ];
    for (const [scenario, scheme] of cases)
      for (let seed = 1; seed <= 8; seed++) {
        const input: ReportInput = await randomReport(scenario, scheme, seed);
        expect(validate(perfettoTrace(input)), `${scenario} ${scheme} seed ${seed}`).toEqual([]);
      }
  });
});

describe('assignLanes', () => {
  const s = (start: number, end: number) => ({ start, end }) as Span;
  it('keeps nesting spans on one lane and moves the one that overlaps to the next', () => {
    expect(assignLanes([s(0, 10), s(1, 3), s(4, 9), s(5, 12), s(13, 14)])).toEqual([0, 0, 0, 1, 0]);
  });
});
