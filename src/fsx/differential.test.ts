/**
 * The model against the kernel this machine runs. The native helper (native/replay.c, built here
 * with the machine's gcc) replays random sequential streams on a real file; the model replays the
 * same streams under every scheme in turn; results, errnos, the file size after every op, the bytes
 * of every read and the final file must be identical. Op kinds the host filesystem lacks are named
 * and left out; nothing else is skipped, and a missing gcc fails the test. PAGELAB_DIFF_DIR picks
 * the directory of the main run (default: the OS temporary directory); a second, smaller run goes
 * to /dev/shm when it is a tmpfs. docs/fidelity.md says what is compared and why each exclusion.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHelper } from '../native/build.js';
import { SCHEMES } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';
import { EFAULT, EINVAL, EOPNOTSUPP } from '../sim/errno.js';
import {
  dioProfile,
  generateStream,
  type HostFeatures,
  hostQuirk,
  missingKinds,
  type OpKind,
  type OpOutcome,
  opLine,
  parseHelperOutput,
  parseProbe,
  type RawOp,
  runOnModel,
  type StreamOutcome,
  TMPFS_MAGIC,
} from './differential.js';
import { fileScenario, type Geometry } from './model.js';

const SOURCE = join(import.meta.dirname, 'native', 'replay.c');
const OPS_PER_STREAM = 40;
/** Streams per run: about 20 s for both on a 2-core machine (measured: 500 ext4 streams ≈ 15 s). */
const STREAMS_MAIN = 500;
const STREAMS_TMPFS = 120;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workDir(parent: string): string {
  const d = mkdtempSync(join(parent, 'pagelab-diff-'));
  dirs.push(d);
  return d;
}

let bin = '';
beforeAll(() => {
  // Built once and cached (src/native/build.ts); throws (failing the test, never skipping it)
  // when gcc is missing or fails.
  bin = buildHelper(SOURCE, 'replay');
});

function probe(dir: string): HostFeatures {
  return parseProbe(execFileSync(bin, ['probe', dir], { encoding: 'utf8' }));
}

function runHelper(ops: readonly RawOp[], file: string): StreamOutcome {
  const input = ops.map((o) => `${opLine(o)}\n`).join('');
  const r = spawnSync(bin, ['run', file], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`helper failed (${r.status}): ${r.stderr}`);
  rmSync(file, { force: true });
  return parseHelperOutput(r.stdout, ops);
}

function firstDiff(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return Math.floor(i / 2);
}

function describeOutcome(o: OpOutcome): string {
  return `${o.ret}${o.data ? ` (${o.data.length / 2} bytes)` : ''}, size ${o.size}`;
}

/** The first difference between the kernel's and the model's outcome of one stream, or null. */
function compare(ops: readonly RawOp[], kernel: StreamOutcome, model: StreamOutcome): string | null {
  for (let i = 0; i < ops.length; i++) {
    const k = kernel.results[i];
    const m = model.results[i];
    if (k.ret !== m.ret || k.size !== m.size || k.data !== m.data) {
      const where = k.data !== m.data ? `, data differs at byte ${firstDiff(k.data, m.data)}` : '';
      return `op ${i} '${opLine(ops[i])}': kernel ${describeOutcome(k)}, model ${describeOutcome(m)}${where}`;
    }
  }
  if (kernel.size !== model.size) return `final size: kernel ${kernel.size}, model ${model.size}`;
  if (kernel.contents !== model.contents) {
    return `final contents differ at byte ${firstDiff(kernel.contents, model.contents)}`;
  }
  return null;
}

const FS_NAMES: Record<string, string> = { '0xef53': 'ext4', '0x1021994': 'tmpfs', '0x58465342': 'xfs' };

function hostLine(f: HostFeatures): string {
  const name = FS_NAMES[f.fstype] ?? `fs type ${f.fstype}`;
  const dio = f.direct ? `O_DIRECT alignment ${f.sector}` : 'no O_DIRECT';
  return `Linux ${release()}, ${name}, page ${f.page}, block ${f.block}, ${dio}`;
}

/**
 * What the streams must have exercised, each a predicate over an op and the kernel's result: the
 * paths the differential test is for, success and failure. A generator change that stops reaching
 * one fails the test instead of quietly comparing less.
 */
const COVERAGE: [string, (o: RawOp, k: OpOutcome, size: number) => boolean][] = [
  ['buffered write', (o, k) => o.k === 'W' && !o.direct && k.ret > 0],
  ['buffered read', (o, k) => o.k === 'R' && !o.direct && k.ret > 0],
  ['read past EOF', (o, k) => o.k === 'R' && k.ret === 0],
  ['O_DIRECT write', (o, k) => o.k === 'W' && o.direct && k.ret > 0],
  ['O_DIRECT write EINVAL', (o, k) => o.k === 'W' && o.direct && k.ret === -EINVAL],
  ['O_DIRECT read', (o, k) => o.k === 'R' && o.direct && k.ret > 0],
  ['O_DIRECT read EINVAL', (o, k) => o.k === 'R' && o.direct && k.ret === -EINVAL],
  ['O_DIRECT read past EOF', (o, k, size) => o.k === 'R' && o.direct && o.off >= size && k.ret === 0],
  ['mmap store', (o, k) => o.k === 'MW' && k.ret === 0],
  ['mmap store SIGBUS', (o, k) => o.k === 'MW' && k.ret === -EFAULT],
  ['mmap load', (o, k) => o.k === 'MR' && k.ret === 0],
  ['mmap load SIGBUS', (o, k) => o.k === 'MR' && k.ret === -EFAULT],
  ['truncate up', (o, k, size) => o.k === 'T' && k.ret === 0 && o.size > size],
  ['truncate down', (o, k, size) => o.k === 'T' && k.ret === 0 && o.size < size],
  ['fallocate', (o, k) => o.k === 'F' && o.mode === 'alloc' && !o.keep && k.ret === 0],
  ['fallocate keep_size', (o, k) => o.k === 'F' && o.mode === 'alloc' && o.keep && k.ret === 0],
  ['punch hole', (o, k) => o.k === 'F' && o.mode === 'punch' && k.ret === 0],
  ['punch hole without keep_size', (o, k) => o.k === 'F' && o.mode === 'punch' && k.ret === -EOPNOTSUPP],
  ['zero range', (o, k) => o.k === 'F' && o.mode === 'zero' && k.ret === 0],
  ['collapse range', (o, k) => o.k === 'F' && o.mode === 'collapse' && k.ret === 0],
  ['collapse range EINVAL', (o, k) => o.k === 'F' && o.mode === 'collapse' && k.ret === -EINVAL],
  ['collapse range keep_size', (o, k) => o.k === 'F' && o.mode === 'collapse' && o.keep && k.ret < 0],
  ['insert range', (o, k) => o.k === 'F' && o.mode === 'insert' && k.ret === 0],
  ['insert range EINVAL', (o, k) => o.k === 'F' && o.mode === 'insert' && k.ret === -EINVAL],
  ['copy_file_range', (o, k) => o.k === 'C' && k.ret > 0],
  ['copy_file_range O_DIRECT', (o, k) => o.k === 'C' && o.direct && k.ret > 0],
  ['copy_file_range overlap EINVAL', (o, k) => o.k === 'C' && k.ret === -EINVAL],
  ['fsync', (o, k) => o.k === 'S' && k.ret === 0],
];

const QUIRK = {
  tmpfs: 'mapped writes past EOF in the EOF page cut at EOF',
  other: 'O_DIRECT writes past EOF after a SIGBUS store made buffered',
};

interface RunResult {
  line: string;
  failures: string[];
  uncovered: string[];
}

/** `streams` random streams against the filesystem of `dir`, the schemes in rotation. */
async function differentialRun(dir: string, streams: number, seed0: number): Promise<RunResult> {
  const host = probe(dir);
  const missing = missingKinds(host);
  const geometry: Geometry = {
    pageSize: host.page,
    blockSize: host.block,
    sector: Math.max(1, host.sector),
    maxFileLen: 64 * host.page,
    maxIo: 4 * host.page,
  };
  const refused: string[] = [];
  const schemes: Scheme[] = [];
  for (const s of SCHEMES) {
    const why = s.notApplicable?.(fileScenario(geometry));
    if (why) refused.push(`${s.name} (${why})`);
    else schemes.push(s);
  }
  const maxFile = 16 * host.page;
  const failures: string[] = [];
  const hits = new Set<string>();
  let compared = 0;
  let replaced = 0;
  for (let s = 0; s < streams; s++) {
    const scheme = schemes[s % schemes.length];
    const file = join(dir, `stream-${s}`);
    let ops = generateStream(seed0 + s, host, OPS_PER_STREAM, maxFile, missing, dioProfile(scheme.name));
    let kernel = runHelper(ops, file);
    for (let q = hostQuirk(host.fstype, host.page, ops, kernel.results); q; ) {
      const fix = q;
      ops = ops.map((o, j) => (j === fix.index ? fix.op : o));
      kernel = runHelper(ops, file);
      replaced++;
      q = hostQuirk(host.fstype, host.page, ops, kernel.results);
    }
    // A model exception is a model bug, reported with the stream like a difference.
    const diff = await runOnModel(ops, scheme, geometry).then(
      (model) => compare(ops, kernel, model),
      (e: unknown) => `the model threw: ${e instanceof Error ? e.message : String(e)}`,
    );
    if (diff) failures.push(`stream ${s} (seed ${seed0 + s}, scheme ${scheme.name}): ${diff}`);
    compared += ops.length;
    for (let i = 0; i < ops.length; i++) {
      const size = i > 0 ? kernel.results[i - 1].size : 0;
      for (const [name, hit] of COVERAGE) if (hit(ops[i], kernel.results[i], size)) hits.add(name);
    }
  }
  const skipped = [...missing].map(([k, why]) => `${k} (${why})`);
  const line = [
    `differential: ${compared} operations compared in ${streams} streams of ${OPS_PER_STREAM}, ${schemes.length} schemes in rotation, against ${hostLine(host)}`,
    skipped.length ? `op kinds skipped, the host lacks them: ${skipped.join(', ')}` : 'no op kind skipped',
    refused.length ? `schemes refusing this geometry: ${refused.join('; ')}` : 'every scheme runs',
    `${replaced} ops replaced where the host keeps bytes stored past EOF (${QUIRK[host.fstype === TMPFS_MAGIC ? 'tmpfs' : 'other']}, docs/fidelity.md)`,
  ].join('; ');
  const uncovered = COVERAGE.map(([name]) => name).filter(
    (name) => !hits.has(name) && !uncoverable(name, missing, host),
  );
  return { line, failures, uncovered };
}

/** Coverage items a host cannot reach: its missing kinds, and EINVAL where O_DIRECT has no rule. */
function uncoverable(name: string, missing: ReadonlyMap<OpKind, string>, host: HostFeatures): boolean {
  if (missing.has('collapse') && name.startsWith('collapse')) return true;
  if (missing.has('insert') && name.startsWith('insert')) return true;
  if (missing.has('zero') && name.startsWith('zero')) return true;
  if (missing.has('direct') && name.includes('O_DIRECT')) return true;
  return host.sector <= 1 && name.startsWith('O_DIRECT') && name.endsWith('EINVAL');
}

function report(r: RunResult): void {
  process.stdout.write(`${r.line}\n`);
  expect(r.failures.slice(0, 10), `${r.failures.length} streams differ (the first 10)`).toEqual([]);
  expect(r.uncovered, 'paths no stream reached').toEqual([]);
}

describe('differential: the model against the running kernel', () => {
  const main = process.env.PAGELAB_DIFF_DIR ?? tmpdir();

  it(`${STREAMS_MAIN} random streams on the main filesystem: identical results, errnos, sizes, reads and files`, async () => {
    report(await differentialRun(workDir(main), STREAMS_MAIN, 1000));
    // Its time is the disk's (fsync and O_DIRECT per stream, ~12 s of CPU): 67–106 s were measured
    // with other work on the machine, past vitest's 60 s default. A bound, not an assertion.
  }, 300_000);

  const shm = '/dev/shm';
  const shmUsable = existsSync(shm) && writable(shm);
  it.skipIf(!shmUsable)(
    `${STREAMS_TMPFS} random streams on tmpfs (/dev/shm): the same, without what tmpfs lacks`,
    async () => {
      const dir = workDir(shm);
      const host = probe(dir);
      if (FS_NAMES[host.fstype] !== 'tmpfs') {
        process.stdout.write(`differential: ${shm} is not a tmpfs (${hostLine(host)}): its run is skipped\n`);
        return;
      }
      report(await differentialRun(dir, STREAMS_TMPFS, 5000));
    },
  );
  if (!shmUsable)
    process.stdout.write(`differential: ${shm} does not exist or is not writable: no tmpfs run\n`);
});

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

describe('differential: its pieces', () => {
  const host: HostFeatures = {
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

  it('the generator is deterministic for a seed and differs across seeds', () => {
    const gen = (seed: number, scheme: string) =>
      generateStream(seed, host, 200, 16 * 4096, new Map(), dioProfile(scheme)).map(opLine);
    expect(gen(7, 'xfs')).toEqual(gen(7, 'xfs'));
    expect(gen(7, 'xfs')).not.toEqual(gen(8, 'xfs'));
    // A scheme with another O_DIRECT path draws only aligned O_DIRECT.
    const aligned = generateStream(7, host, 2000, 16 * 4096, new Map(), dioProfile('ext4-pin-block'));
    for (const o of aligned) {
      if ((o.k === 'W' || o.k === 'R') && o.direct)
        expect((o.off | o.len | o.bufOff) % 512, opLine(o)).toBe(0);
      if (o.k === 'C') expect(o.direct).toBe(false);
    }
  });

  it('a missing kind is never drawn', () => {
    const missing = new Map<OpKind, string>([
      ['collapse', 'x'],
      ['insert', 'x'],
      ['direct', 'x'],
    ]);
    for (const o of generateStream(3, host, 2000, 16 * 4096, missing)) {
      expect(o.k === 'F' && (o.mode === 'collapse' || o.mode === 'insert')).toBe(false);
      if (o.k === 'W' || o.k === 'R' || o.k === 'C') expect(o.direct).toBe(false);
    }
  });

  it("the helper's output parser takes what the helper prints and rejects anything else", () => {
    const ops: RawOp[] = [
      { k: 'W', off: 0, len: 3, direct: false, bufOff: 0, salt: 1 },
      { k: 'R', off: 0, len: 8, direct: false, bufOff: 0 },
      { k: 'MR', off: 0, len: 2 },
      { k: 'T', size: 2 },
    ];
    const good = '3 3\n3 3 0a0b0c\n0 3 0a0b\n0 2\nsize 2 0a0b\n';
    expect(parseHelperOutput(good, ops)).toEqual({
      results: [
        { ret: 3, size: 3, data: '' },
        { ret: 3, size: 3, data: '0a0b0c' },
        { ret: 0, size: 3, data: '0a0b' },
        { ret: 0, size: 2, data: '' },
      ],
      size: 2,
      contents: '0a0b',
    });
    const garbage = [
      '',
      'garbage',
      good.replace('size 2 0a0b\n', ''), // no file
      good.replace('0 2\n', ''), // a result missing
      `${good}extra\n`,
      good.replace('3 3 0a0b0c', '3 3 0a0b'), // fewer bytes than returned
      good.replace('3 3 0a0b0c', '3 3 0a0b0g'), // not hex
      good.replace('0 3 0a0b', '0 3'), // a load without its bytes
      good.replace('0 2\n', '-x 2\n'),
      good.replace('0 2\n', '0\n'), // no size
      good.replace('size 2 0a0b', 'size 3 0a0b'), // file shorter than its size
      good.replace('3 3\n', '3 3 00\n'), // a write with data
    ];
    for (const g of garbage)
      expect(() => parseHelperOutput(g, ops), JSON.stringify(g)).toThrow(/helper output/);
  });

  it('the probe detects the features of the filesystem it runs on', () => {
    const f = probe(workDir(tmpdir()));
    expect(f.page).toBeGreaterThan(0);
    expect(f.block).toBeGreaterThan(0);
    if (FS_NAMES[f.fstype] === 'ext4') {
      expect(f).toMatchObject({ direct: true, alloc: true, keep_size: true, punch: true, zero: true });
      expect(f).toMatchObject({ collapse: true, insert: true, copy: true });
      expect(f.sector).toBeGreaterThanOrEqual(512);
    }
    if (existsSync('/dev/shm') && writable('/dev/shm')) {
      const t = probe(workDir('/dev/shm'));
      if (FS_NAMES[t.fstype] === 'tmpfs') {
        expect(t).toMatchObject({ alloc: true, keep_size: true, punch: true, zero: false });
        expect(t).toMatchObject({ collapse: false, insert: false });
        expect(missingKinds(t).get('collapse')).toMatch(/COLLAPSE_RANGE is not supported/);
      }
    }
  });

  it('hostQuirk finds the ops whose outcome depends on bytes stored past EOF, and only those', () => {
    const ops: RawOp[] = [
      { k: 'T', size: 100 },
      { k: 'MW', off: 0, len: 8192, salt: 1 },
      { k: 'W', off: 50, len: 512, direct: true, bufOff: 0, salt: 2 },
      { k: 'W', off: 4096, len: 512, direct: true, bufOff: 0, salt: 3 },
    ];
    const k = (ret: number, size: number): OpOutcome => ({ ret, size, data: '' });
    const sigbus = [k(0, 100), k(-EFAULT, 100), k(-EINVAL, 100), k(512, 4608)];
    expect(hostQuirk('0xef53', 4096, ops, sigbus)).toEqual({ index: 3, op: { ...ops[3], direct: false } });
    // No SIGBUS: the msync wrote the page back, which zeroed what lay past EOF.
    expect(hostQuirk('0xef53', 4096, ops, [k(0, 100), k(0, 100), k(-EINVAL, 100), k(512, 4608)])).toBeNull();
    // An fsync in between does the same.
    const synced: RawOp[] = [...ops.slice(0, 2), { k: 'S' }, ops[3]];
    expect(
      hostQuirk('0xef53', 4096, synced, [k(0, 100), k(-EFAULT, 100), k(0, 100), k(512, 4608)]),
    ).toBeNull();
    // tmpfs: the store itself is cut at EOF.
    expect(hostQuirk(TMPFS_MAGIC, 4096, ops, sigbus)).toEqual({
      index: 1,
      op: { k: 'MW', off: 0, len: 100, salt: 1 },
    });
  });
});
