/**
 * `pagelab native`: the program the helper runs, the helper's output format, the classification
 * of an iteration by the oracles, the observed ⊆ allowed comparison, and a few built-ins run on
 * this machine's kernel with a small N. Whether a race is hit is chance: no test asserts it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostFeatures } from '../fsx/differential.js';
import { FINDING_KINDS } from '../litmus/ast.js';
import { findScheme } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import { builtin } from '../test-support/named.js';
import { buildHelper } from './build.js';
import { compareOutcomes, HUNG_KEY, type ModelSet, modelOutcomes } from './compare.js';
import {
  classifyNative,
  decodeRuns,
  type NativeIteration,
  nativeOutcome,
  parseHelperOutput,
} from './outcome.js';
import { checkExpressible, NativeUnsupported, programText, scalingFor } from './program.js';
import { histogram, runNative } from './run.js';

const EXT4: HostFeatures = {
  fstype: '0xef53',
  page: 4096,
  block: 4096,
  direct: true,
  sector: 512,
  alloc: true,
  keep_size: true,
  punch: true,
  zero: true,
  collapse: true,
  insert: true,
  copy: true,
};

function scheme(name: string): Scheme {
  const s = findScheme(name);
  if (!s) throw new Error(name);
  return s;
}

const parent = mkdtempSync(join(tmpdir(), 'pagelab-native-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('the program the helper runs', () => {
  it('scales every size by host page / scenario page and names each op by its tag', () => {
    const sc = builtin('dio-write-vs-mmap-store');
    const s = scalingFor(sc, EXT4);
    expect(s.factor).toBe(64);
    expect(s.modelSector).toBe(8);
    expect(s.notes).toEqual([]);
    expect(programText(sc, s, { iterations: 10, seed: 7, delaySpinsMax: 100, timeoutMs: 1000 })).toBe(
      [
        'run 10 7 100 1000 4096',
        'file 8192 0',
        'map 0 0 8192 1',
        'task',
        'op 1 0 0 2048 1 -1 0 3',
        'task',
        'op 3 0 2560 512 4 0 0 0',
        'end',
        '',
      ].join('\n'),
    );
  });

  it('notes a scenario block the host cannot have', () => {
    const s = scalingFor(builtin('dio-write-vs-buffered-read'), EXT4);
    expect(s.notes[0]).toMatch(/^block 32 scales to 2048 bytes, the host's filesystem block is 4096/);
  });

  it("gives the model the host's O_DIRECT alignment, at most the scenario's block", () => {
    const sc = builtin('dio-write-vs-buffered-read');
    expect(scalingFor(sc, { ...EXT4, sector: 1 }).modelSector).toBe(1);
    const big = scalingFor(sc, { ...EXT4, sector: 4096 });
    expect(big.modelSector).toBe(32);
    expect(big.notes[1]).toMatch(
      /^the host's O_DIRECT alignment 4096 is 64 scenario bytes, more than the block 32/,
    );
  });

  it('refuses what the host cannot express, with the reason', () => {
    const sc = builtin('collapse-vs-fault');
    const s = scalingFor(sc, { ...EXT4, collapse: false });
    expect(() => checkExpressible(sc, s, null)).toThrow(
      new NativeUnsupported(
        'collapse-vs-fault: the host filesystem (0xef53) does not support FALLOC_FL_COLLAPSE_RANGE',
      ),
    );
    expect(() => checkExpressible(sc, scalingFor(sc, EXT4), 'dax')).toThrow(/models a DAX filesystem/);
    expect(() => scalingFor(sc, { ...EXT4, page: 96 })).toThrow(/does not divide the host's page 96/);
  });
});

describe("the helper's output", () => {
  it('decodes runs of bytes', () => {
    expect([...decodeRuns('3*2.128*1')]).toEqual([3, 3, 128]);
    expect(decodeRuns('-').length).toBe(0);
    expect(() => decodeRuns('300*1')).toThrow(/bad data run/);
  });

  it('parses iterations and a hung one, and refuses a malformed one', () => {
    const one = ['I 0', 'O 2048 5 90 -', 'O 0 7 40 -', 'C same', 'F 8192 -5 3*8192', 'E'];
    const r = parseHelperOutput([...one, 'I 1', 'H 1', ''].join('\n'), 2, 1);
    expect(r.hung).toBe(1);
    expect(r.iterations).toHaveLength(1);
    expect(r.iterations[0].ops[0]).toEqual({ ret: 2048, t0: 5, t1: 90, data: null });
    expect(r.iterations[0].files[0].fsyncErr).toBe(-5);
    expect(() => parseHelperOutput(one.slice(0, 5).join('\n'), 2, 1)).toThrow(/truncated iteration/);
    expect(() => parseHelperOutput(['I 0', 'O x', ...one.slice(2)].join('\n'), 2, 1)).toThrow(/op result/);
  });
});

/** An iteration of dio-write-vs-mmap-store: the O_DIRECT write's bytes [0,2048) `lost` or kept. */
function storeIteration(lost: boolean): NativeIteration {
  const file = new Uint8Array(8192);
  for (let p = 0; p < 8192; p++) file[p] = 128 + Math.floor(p / 4096);
  if (!lost) file.fill(3, 0, 2048);
  file.fill(4, 2560, 3072);
  return {
    index: 0,
    ops: [
      { ret: 2048, t0: 10, t1: 300, data: null },
      { ret: 0, t0: 20, t1: 200, data: null },
    ],
    views: [null],
    files: [{ size: 8192, fsyncErr: -5, data: file }],
  };
}

describe('an iteration under the oracles', () => {
  const sc = builtin('dio-write-vs-mmap-store');
  const s = scalingFor(sc, EXT4);

  it('a lost O_DIRECT write is lost-write, reported by the settling fsync', () => {
    const f = classifyNative(sc, s, storeIteration(true)).findings;
    expect(f.map((x) => x.kind)).toEqual(['lost-write']);
    expect(f[0].bytes).toEqual({ region: 'f', start: 0, end: 2048 });
    expect(f[0].reported).toBe('EIO from the settling fsync');
    expect(nativeOutcome(sc, s, storeIteration(true)).lines).toEqual([
      'P0.1 = 32',
      'P1.1 = 0',
      'f settled [0,40) init [40,48) P1.1 [48,128) init; fsync -EIO',
    ]);
  });

  it('both writes kept is no finding', () => {
    expect(classifyNative(sc, s, storeIteration(false))).toEqual({ findings: [] });
  });

  it('a read that began after a write completed and missed it is stale-read (real-time order from the clock)', () => {
    const rd = builtin('dio-write-vs-mmap-load');
    const init = new Uint8Array(8192);
    for (let p = 0; p < 8192; p++) init[p] = 128 + Math.floor(p / 4096);
    const it: NativeIteration = {
      index: 0,
      ops: [
        { ret: 2048, t0: 0, t1: 10, data: null },
        { ret: 0, t0: 20, t1: 30, data: init.slice(0, 2048) },
        { ret: 0, t0: 40, t1: 50, data: new Uint8Array(2048).fill(3) },
      ],
      views: [null],
      files: [{ size: 8192, fsyncErr: 0, data: new Uint8Array(init).fill(3, 0, 2048) }],
    };
    expect(classifyNative(rd, scalingFor(rd, EXT4), it).findings.map((x) => x.kind)).toEqual(['stale-read']);
    // The same bytes with the load begun before the write ended: allowed.
    it.ops[1].t0 = 5;
    expect(classifyNative(rd, scalingFor(rd, EXT4), it)).toEqual({ findings: [] });
  });
});

describe('the histogram', () => {
  it('one outcome judged two ways is counted under each kind (here: the quiescent views disagreed once)', () => {
    const sc = builtin('dio-write-vs-mmap-store');
    const s = scalingFor(sc, EXT4);
    const incoherent = storeIteration(false);
    const stale = new Uint8Array(incoherent.files[0].data).fill(130, 0, 2048);
    incoherent.views = [
      { buffered: stale, mmap: incoherent.files[0].data, direct: incoherent.files[0].data },
    ];
    const rows = histogram(sc, s, [storeIteration(false), incoherent, storeIteration(false)]);
    expect(rows).toHaveLength(1);
    expect(rows[0].count).toBe(3);
    expect([...rows[0].kinds]).toEqual([
      ['ok', 2],
      ['incoherent', 1],
    ]);
  });
});

describe('observed ⊆ allowed', () => {
  it('splits observed outcomes into allowed and not, and lists the unobserved', async () => {
    const sc = builtin('dio-write-vs-mmap-store');
    const model = await modelOutcomes(sc, scheme('ext4'));
    expect(model.complete).toBe(true);
    const s = scalingFor(sc, EXT4);
    const lost = nativeOutcome(sc, s, storeIteration(true)).key;
    expect(model.outcomes.get(lost)?.kinds).toEqual(['lost-write']);
    const bogus = 'P0.1 = 31\nP1.1 = 0';
    const c = compareOutcomes([lost, bogus], model);
    expect(c.allowed).toEqual([lost]);
    expect(c.notAllowed).toEqual([bogus]);
    expect(c.unobserved).toHaveLength(model.outcomes.size - 1);
  });

  it('a hung iteration is allowed only where the model deadlocks or livelocks', () => {
    const base: ModelSet = { scheme: 'x', outcomes: new Map(), complete: true, coverage: '', runs: 1 };
    expect(compareOutcomes([HUNG_KEY], base).notAllowed).toEqual([HUNG_KEY]);
    const stuck = new Map([
      ['(deadlock)', { outcome: { key: '(deadlock)', lines: [] }, kinds: ['deadlock'], schedule: '' }],
    ]);
    const c = compareOutcomes([HUNG_KEY], { ...base, outcomes: stuck });
    expect(c.allowed).toEqual([HUNG_KEY]);
    expect(c.unobserved).toEqual([]);
  });
});

describe('on this kernel (small N)', () => {
  const kinds = new Set<string>(['ok', ...FINDING_KINDS]);
  for (const name of ['dio-write-vs-mmap-store', 'punch-vs-fault', 'dio-write-vs-buffered-read']) {
    it(`${name}: every iteration has an outcome and a kind, and its directory is gone`, async () => {
      const sc = builtin(name);
      const r = await runNative(sc, { iterations: 20, dir: parent, seed: 1 });
      expect(r.hung).toBeNull();
      expect(r.iterations).toBe(20);
      expect(r.rows.reduce((n, x) => n + x.count, 0)).toBe(20);
      for (const row of r.rows) {
        expect([...row.kinds.values()].reduce((a, b) => a + b, 0)).toBe(row.count);
        for (const k of row.kinds.keys()) for (const one of k.split(',')) expect(kinds.has(one)).toBe(true);
        expect(row.outcome.lines).toHaveLength(
          sc.tasks.reduce((n, t) => n + t.ops.length, 0) + sc.files.length,
        );
      }
      expect(readdirSync(parent)).toEqual([]);
    }, 20_000);
  }
});

describe('the watchdog', () => {
  it('an iteration that outlasts the timeout is reported hung with its number, and the run stops there', async () => {
    // Spins of up to 10^9 iterations (seconds) against a 1 ms watchdog: iteration 0 cannot finish.
    const sc = builtin('dio-write-vs-mmap-store');
    const r = await runNative(sc, { iterations: 3, dir: parent, seed: 1, timeoutMs: 1, delaySpinsMax: 1e9 });
    expect(r.hung).toBe(0);
    expect(r.iterations).toBe(0);
    expect(r.rows.map((x) => [x.outcome.key, x.count, [...x.kinds]])).toEqual([[HUNG_KEY, 1, [['hung', 1]]]]);
    expect(readdirSync(parent)).toEqual([]);
  }, 20_000);
});

describe('the helper cache', () => {
  it('builds once per source version, and again when the source changes', () => {
    const dir = mkdtempSync(join(parent, 'build-'));
    const src = join(dir, 'probe.c');
    const old = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = join(dir, 'cache');
    try {
      writeFileSync(src, 'int main(void) { return 0; }\n');
      const first = buildHelper(src, 'probe');
      expect(buildHelper(src, 'probe')).toBe(first);
      writeFileSync(src, 'int main(void) { return 1; }\n');
      const second = buildHelper(src, 'probe');
      expect(second).not.toBe(first);
      expect(readdirSync(join(dir, 'cache', 'pagelab')).sort()).toEqual(
        [basename(first), basename(second)].sort(),
      );
    } finally {
      if (old === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = old;
      rmSync(dir, { recursive: true });
    }
  });
});

describe('the command', () => {
  const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pagelab.js');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, 'native', ...args], { encoding: 'utf8' });

  it('a scheme the host cannot express is one line and exit 2', () => {
    const r = run('dax-hole-fault-vs-write', '--iterations', '1', '--dir', parent, '--compare', 'dax');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "pagelab: dax-hole-fault-vs-write: scheme dax models a DAX filesystem; the host's files go through the page cache\n",
    );
  });

  it('a missing compiler (nothing cached) is one line and exit 2', () => {
    const cache = mkdtempSync(join(parent, 'cache-'));
    const r = spawnSync(process.execPath, [BIN, 'native', 'punch-vs-fault', '--dir', parent], {
      encoding: 'utf8',
      env: { ...process.env, XDG_CACHE_HOME: cache, PATH: '/nonexistent' },
    });
    rmSync(cache, { recursive: true });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /^pagelab: gcc is needed to build litmus \(.*litmus\.c\) and could not be run: .*ENOENT\n$/,
    );
  });

  it('a missing directory is one line and exit 2', () => {
    const r = run('punch-vs-fault', '--dir', join(parent, 'nope'));
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`pagelab: --dir ${join(parent, 'nope')}: no such directory\n`);
  });
});
