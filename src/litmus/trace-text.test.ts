/**
 * A trace line's detail text is built only when the trace is on (Task.tracing): a search runs
 * without it, and building the text of every lock acquisition, bio and fault of every run cost a
 * few per cent of a random run for nothing. With the trace on, the text is as before.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findScheme } from '../schemes/index.js';
import { Sim } from '../sim/sched.js';
import { RandomStrategy } from '../sim/strategy.js';
import type { TraceEvent } from '../sim/trace.js';
import { parseLitmus } from './parse.js';
import { buildWorld, spawnTasks } from './world.js';

// collapse-vs-fault: a collapse (fallocate, writeback, bios) against read faults through a mapping.
const SCENARIO = `litmus trace-text
page 64
file f 3p written
map m f 0 3p shared
P0: fallocate f collapse 0 64
P1: load m+72 8; load m+72 8
`;

async function run(trace: boolean): Promise<TraceEvent[]> {
  const scheme = findScheme('pagelab');
  if (!scheme) throw new Error('pagelab');
  const sim = new Sim({ strategy: new RandomStrategy(1), trace });
  const world = buildWorld(parseLitmus(SCENARIO), scheme);
  spawnTasks(sim, world);
  const r = await sim.run();
  expect(r.outcome.kind).toBe('done');
  return sim.trace?.events() ?? [];
}

/** The detail of the first event of `kind` at `site`. */
function detail(events: TraceEvent[], kind: string, site: string): string | undefined {
  return events.find((e) => e.kind === kind && e.site === site)?.detail;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('trace detail text', () => {
  it('is built when the trace is on, as before', async () => {
    const ev = await run(true);
    expect(detail(ev, 'event', 'fallocate:collapse')).toBe('f [0,64) removed, size 128');
    expect(detail(ev, 'event', 'bio_endio')).toBe('bio#1 read');
    expect(detail(ev, 'event', 'submit_bio')).toBe('bio#1 read [128,192)');
    expect(detail(ev, 'event', 'set_pte')).toMatch(/^m\+64 → folio f:1 r[ow]$/);
    expect(detail(ev, 'acquire', 'pagelab_fallocate:inode_lock')).toBe('i_rwsem(f) write');
    expect(detail(ev, 'result', 'op-return')).toMatch(/ = 0$/);
    expect(ev.filter((e) => e.kind === 'release').every((e) => e.detail !== undefined)).toBe(true);
  });

  it('is not built when the trace is off: no acquire, release, result or detailed event is passed on', async () => {
    const seen: string[] = [];
    const orig = Sim.prototype.traceEvent;
    vi.spyOn(Sim.prototype, 'traceEvent').mockImplementation(function (this: Sim, t, kind, site, obj, d) {
      if (d !== undefined) seen.push(`${kind} ${site}`);
      return orig.call(this, t, kind, site, obj, d);
    });
    await run(false);
    // What is left is passed on as it already is (a label printed once per scenario, a folio's name).
    expect([...new Set(seen)].sort()).toEqual(['event filemap_add_folio', 'event op']);
  });
});
