/**
 * Our scheme and Chinner's range locks against the seed races: each test asserts the exact
 * verdict, and, where a historical scheme fails the same scenario, the failure too.
 */
import { describe, expect, it } from 'vitest';
import { findBuiltin } from '../explore/builtin.js';
import { checkScenario } from '../explore/check.js';
import { runOnce } from '../explore/run.js';
import { measureScalability } from '../explore/scalability.js';
import { parseLitmus } from '../litmus/parse.js';
import { ReplayStrategy } from '../sim/strategy.js';
import { findScheme } from './index.js';

function scheme(name: string) {
  const s = findScheme(name);
  if (!s) throw new Error(name);
  return s;
}

function builtin(name: string) {
  const s = findBuiltin(name);
  if (!s) throw new Error(name);
  return s;
}

const SEED_RACES = [
  'dio-write-vs-mmap-store',
  'dio-write-vs-mmap-load',
  'dio-write-vs-buffered-read',
  'punch-vs-fault',
  'collapse-vs-fault',
  'insert-vs-fault',
];

describe('pagelab and rangelock close the refault races of seed 004', () => {
  for (const name of ['pagelab', 'rangelock']) {
    for (const sc of SEED_RACES) {
      it(`${sc} is ok under ${name}`, async () => {
        const r = await checkScenario(builtin(sc), scheme(name), {
          schedules: 600,
          seed: 11,
          scenarioRef: sc,
        });
        expect(r.verdict).toBe('ok');
        expect(r.schedules).toBe(600);
      });
    }
  }

  it('the same schedule budget finds the lost write under xfs (the control)', async () => {
    const r = await checkScenario(builtin('dio-write-vs-mmap-store'), scheme('xfs'), {
      schedules: 600,
      seed: 11,
      scenarioRef: 'x',
    });
    expect(r.verdict).toBe('lost-write');
  });
});

describe('O_DIRECT from a mapping of the very range it writes (seeds 000, 004)', () => {
  const overlap = parseLitmus(`
litmus overlap
page 64
file f 2p written
map m f 0 2p shared
P0: pwrite f 64 64 direct buf=m+64
`);
  const result = async (name: string) => {
    const run = await runOnce(overlap, scheme(name), new ReplayStrategy([]));
    expect(run.result.outcome.kind).toBe('done');
    expect(run.findings).toEqual([]);
    return run.world.history.ops[0].ret;
  };

  it('pagelab falls back to buffered I/O and completes the write', async () => {
    expect(await result('pagelab')).toBe(64);
  });

  it('pagelab-edeadlk and rangelock refuse it with EDEADLK (Chinner)', async () => {
    expect(await result('pagelab-edeadlk')).toBe(-35);
    expect(await result('rangelock')).toBe(-35);
  });

  it('a buffer mapping another range of the same file is no conflict', async () => {
    const disjoint = parseLitmus(`
litmus disjoint
page 64
file f 2p written
map m f 0 2p shared
P0: pwrite f 64 64 direct buf=m+0
`);
    const run = await runOnce(disjoint, scheme('pagelab-edeadlk'), new ReplayStrategy([]));
    expect(run.world.history.ops[0].ret).toBe(64);
    expect(run.findings).toEqual([]);
  });
});

describe('scalability: O_DIRECT writers to disjoint ranges (race 8)', () => {
  it('pagelab reaches at least 0.9 × linear speedup at 8 writers; exclusive i_rwsem stays at 1×', async () => {
    const ours = await measureScalability(scheme('pagelab'));
    const old = await measureScalability(scheme('vfs2019'));
    const at8 = (rows: { writers: number; speedup: number }[]) =>
      rows.find((r) => r.writers === 8)?.speedup ?? 0;
    expect(at8(ours)).toBeGreaterThanOrEqual(0.9 * 8);
    expect(at8(old)).toBeLessThan(1.2);
  });
});
