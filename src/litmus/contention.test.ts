import { describe, expect, it } from 'vitest';
import { findBuiltin } from '../explore/builtin.js';
import { contendedOps } from './contention.js';
import { formatOp, parseLitmus } from './parse.js';

/** The contended ops of a scenario, as `task: op` lines. */
function contended(text: string): string[] {
  const s = parseLitmus(text);
  const set = contendedOps(s);
  return s.tasks.flatMap((t) => t.ops.filter((op) => set.has(op)).map((op) => `${t.name}: ${formatOp(op)}`));
}

const HEAD = 'litmus x\npage 64\nfile f 2p written\nmap m f 0 2p shared\nbuf b 8\n';

describe('ops that contend with another task, as the oracles judge real time', () => {
  it('disjoint bytes of a file whose size cannot change: nothing contends', () => {
    expect(contended(`${HEAD}P0: pwrite f 0 32 direct\nP1: store m+40 8; load m+64 8\n`)).toEqual([]);
  });

  it('a write and a read or write of the same bytes contend; two reads alone do not', () => {
    expect(contended(`${HEAD}P0: pwrite f 0 32\nP1: pread f 16 8\nP2: load m+20 4\n`)).toEqual([
      'P0: pwrite f 0 32',
      'P1: pread f 16 8',
      'P2: load m+20 4',
    ]);
    expect(contended(`${HEAD}P0: pread f 0 32\nP1: load m+0 8\n`)).toEqual([]);
  });

  it('reads of disjoint bytes contend through one write of both (R1 ≺ R2 can be the violation)', () => {
    expect(contended(`${HEAD}W: pwrite f 0 16\nR1: load m+0 4\nR2: load m+12 4\n`)).toEqual([
      'W: pwrite f 0 16',
      'R1: load m+0 4',
      'R2: load m+12 4',
    ]);
  });

  it('a size change touches the whole file; a write past the initial size is one', () => {
    expect(contended(`${HEAD}P0: truncate f 16\nP1: load m+100 4\n`)).toEqual([
      'P0: truncate f 16',
      'P1: load m+100 4',
    ]);
    expect(contended(`${HEAD}P0: pwrite f 120 16\nP1: pread f 0 4\n`)).toEqual([
      'P0: pwrite f 120 16',
      'P1: pread f 0 4',
    ]);
    expect(contended(`${HEAD}P0: fallocate f punch 0 64\nP1: pread f 100 4\n`)).toEqual([]);
    expect(contended(`${HEAD}P0: fallocate f collapse 0 64\nP1: pread f 100 4\n`)).toHaveLength(2);
  });

  it('fsync reads the whole file: it contends with another task’s write, not with its own', () => {
    expect(contended(`${HEAD}P0: pwrite f 0 8; fsync f\nP1: pwrite f 64 8\n`)).toEqual([
      'P0: fsync f',
      'P1: pwrite f 64 8',
    ]);
  });

  it('a buffer written by a read is a write of the bytes behind it', () => {
    expect(contended(`${HEAD}P0: pread f 0 8 buf=b\nP1: load b+4 1\n`)).toEqual([
      'P0: pread f 0 8 buf=b+0',
      'P1: load b+4 1',
    ]);
    expect(contended(`${HEAD}P0: pread f 0 8 buf=m+64\nP1: load m+64 1\n`)).toEqual([
      'P0: pread f 0 8 buf=m+64',
      'P1: load m+64 1',
    ]);
  });

  it('the fault storm: every fault on a page of its own, the O_DIRECT write on page 0 alone', () => {
    const s = findBuiltin('fault-storm-vs-dio');
    expect(s && contendedOps(s).size).toBe(0);
  });
});
