/**
 * The fsx port against real fsx: every recorded run (src/fsx/testdata, recorded with fstests'
 * ltp/fsx.c on ext4, Linux 6.18) is drawn again from its seed with the same op log byte for byte
 * and the same final file, and its log replayed on the model gives the kernel's file under every
 * scheme tried. Plus glibc random(), the op-log reader and writer, and a hand-written log.
 */
import { describe, expect, it } from 'vitest';
import { findScheme, type Scheme } from '../schemes/index.js';
import { RECORDED_RUNS, runOptions, testdata } from '../test-support/fsx-runs.js';
import { FSX_DEFAULTS, Fsx, type FsxOptions } from './fsx.js';
import { FsxLogError, formatLogDump, formatOpLog, LOGSIZE, lastLogged, parseOpLog } from './log.js';
import { GlibcRandom } from './random.js';
import { runFsx } from './run.js';

function scheme(name: string): Scheme {
  const s = findScheme(name);
  if (!s) throw new Error(`no scheme ${name}`);
  return s;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

describe("glibc random() (TYPE_3, as fsx's srandom/random)", () => {
  // Printed by a C program calling srandom()/random() against this machine's glibc.
  const KNOWN: [number, number[]][] = [
    [1, [1804289383, 846930886, 1681692777, 1714636915, 1957747793]],
    [0, [1804289383, 846930886, 1681692777, 1714636915, 1957747793]],
    [42, [71876166, 708592740, 1483128881, 907283241, 442951012]],
    [12345, [383100999, 858300821, 357768173, 455528251, 133005921]],
    [2147483647, [1065668062, 2142264300, 1066566375, 1064012770, 2141034222]],
    [4294967295, [254925627, 1205188300, 366127624, 1401405153, 76053476]],
  ];
  for (const [seed, want] of KNOWN) {
    it(`srandom(${seed}) starts ${want.slice(0, 3).join(', ')}, ...`, () => {
      const r = new GlibcRandom(seed);
      expect(want.map(() => r.random())).toEqual(want);
    });
  }
  it('srandom(1): the 100000th output is 660658275', () => {
    const r = new GlibcRandom(1);
    let x = 0;
    for (let i = 0; i < 100000; i++) x = r.random();
    expect(x).toBe(660658275);
  });
});

/** Schemes each recorded log is also replayed under (sequential results must not depend on it). */
const OTHER_SCHEMES = [
  'xfs',
  'gfs2',
  'bcachefs',
  'dax',
  'vfs2019',
  'ext4-pin-bounce',
  'btrfs',
  'invalidate_lock',
  'rangelock',
  'dax2017',
];

describe('recorded fsx runs (real fsx on ext4)', () => {
  for (const [i, run] of RECORDED_RUNS.entries()) {
    const log = testdata(`${run.name}.fsxops`).toString('utf8');
    const file = testdata(`${run.name}.dat`);
    it(`${run.name} (fsx ${run.flags.join(' ')}): the same op log and the same file, drawn from the seed`, async () => {
      const r = await runFsx(runOptions(run), scheme('pagelab'), null, 'record', run.numops);
      expect(r.failure).toBeNull();
      expect(r.testcalls).toBe(run.numops);
      expect(formatOpLog(r.log)).toBe(log);
      expect(same(r.contents, file)).toBe(true);
    });
    const schemes = [
      'pagelab',
      OTHER_SCHEMES[i % OTHER_SCHEMES.length],
      OTHER_SCHEMES[(i + 5) % OTHER_SCHEMES.length],
    ];
    it(`${run.name}: its log replayed with its -S/-l leaves the kernel's file under ${schemes.join(', ')}`, async () => {
      const entries = parseOpLog(log, `${run.name}.fsxops`);
      for (const name of schemes) {
        const r = await runFsx({ ...runOptions(run), closeprob: 0 }, scheme(name), entries, 'record');
        expect(r.failure, name).toBeNull();
        expect(same(r.contents, file), name).toBe(true);
        // A replay re-logs what it replayed: the same log.
        expect(formatOpLog(r.log), name).toBe(log);
      }
    });
    if (run.replayed) {
      it(`${run.name}: numbered as fsx --replay-ops numbers (skip lines do not count), the file and log of real fsx's replay`, async () => {
        const entries = parseOpLog(log, `${run.name}.fsxops`);
        const r = await runFsx(runOptions(run), scheme('pagelab'), entries, 'replay');
        expect(r.failure).toBeNull();
        expect(same(r.contents, testdata(`${run.name}.replay.dat`))).toBe(true);
        expect(formatOpLog(r.log)).toBe(testdata(`${run.name}.replay.fsxops`).toString('utf8'));
        // fsx re-logs a skipped four-number op with three numbers: its own reader refuses that.
        expect(() => parseOpLog(formatOpLog(r.log), 'replay.fsxops')).toThrow(FsxLogError);
      });
    }
  }

  it('the logs cover every fallocate mode, keep_size, mapped I/O, O_DIRECT and close/open', () => {
    const all = RECORDED_RUNS.map((r) => testdata(`${r.name}.fsxops`).toString('utf8')).join('');
    const done = (op: string) => new RegExp(`^${op} `, 'm').test(all);
    for (const op of ['read', 'write', 'mapread', 'mapwrite', 'truncate', 'copy_range'])
      expect(done(op), op).toBe(true);
    for (const op of ['fallocate', 'punch_hole', 'zero_range', 'collapse_range', 'insert_range'])
      expect(done(op), op).toBe(true);
    expect(/^(fallocate|zero_range) .* keep_size/m.test(all)).toBe(true);
    expect(/^[a-z_]+ .* close_open/m.test(all)).toBe(true);
    expect(RECORDED_RUNS.some((r) => r.opts.oDirect)).toBe(true);
  });
});

describe('the op log', () => {
  it('a log written by pagelab fsx parses back to the same entries', async () => {
    const o: FsxOptions = { ...FSX_DEFAULTS, seed: 99, maxfilelen: 40000, maxoplen: 9000, closeprob: 7 };
    const r = await runFsx(o, scheme('pagelab'), null, 'record', 400);
    const text = formatOpLog(r.log);
    const back = parseOpLog(text, 'x');
    expect(back.map((e) => ({ ...e, line: 0 }))).toEqual(r.log.map((e) => ({ ...e, line: 0 })));
    expect(formatOpLog(back)).toBe(text);
    expect(back.map((e) => e.line)).toEqual(back.map((_, i) => i + 1));
  });

  it('reads what fsx reads: comments, blank lines, tabs, CRLF, hex/octal/decimal, flags, the * marker', () => {
    const text = [
      '# a comment line',
      '',
      '   ',
      '#write 0 1 2 (commented out)',
      'write 0x10 32 0',
      '\tskip   read\t0x0 0 0x30',
      'fallocate 010 0x8 48 keep_size close_open',
      'copy_range 0 4 100 0x30 *\r',
      'punch_hole 0 0 0 unshare *',
    ].join('\n');
    const e = parseOpLog(text, 'h');
    expect(e.map((x) => [x.op, x.args, x.line])).toEqual([
      [2, [16, 32, 0], 5],
      [0, [0, 0, 48], 6],
      [8, [8, 8, 48], 7],
      [15, [0, 4, 100, 48], 8],
      [9, [0, 0, 0], 9],
    ]);
    expect(e[1].flags.skipped).toBe(true);
    expect(e[2].flags).toEqual({ skipped: false, keepSize: true, closeOpen: true, unshare: false });
    expect(e[4].flags.unshare).toBe(true);
  });

  const BAD: [string, string][] = [
    ['wrte 0 1 2', "1: unknown op 'wrte'"],
    ['write 0 1', "1: 'write' takes 3 numbers (offset length file_size), found 2"],
    ['copy_range 0 1 2', "1: 'copy_range' takes 4 numbers"],
    ['write 0 1 2 3', "1: too many numbers: unexpected '3'"],
    ['write 0 1 2 keep-size', "1: unknown flag 'keep-size'"],
    ['write 0x1g 1 2', "'0x1g' is not a number"],
    ['write 09 1 2', "'09' is not a number"],
    ['write 0 1 2 # trailing comment', '1: a comment must have a line of its own'],
    ['skip', "1: 'skip' must be followed by an op name"],
    ['write 0x80000000 1 2', 'out of range'],
    [`write 0 1 2${' '.repeat(300)}`, '1: line longer than 255 characters'],
  ];
  for (const [line, want] of BAD) {
    it(`refuses '${line.trim()}' with FILE:LINE: reason`, () => {
      const text = `# ok\n\nread 0 0 0\n${line}\n`;
      const err = (() => {
        try {
          parseOpLog(text, 'bad.fsxops');
        } catch (e) {
          return e as FsxLogError;
        }
        throw new Error('accepted');
      })();
      expect(err).toBeInstanceOf(FsxLogError);
      expect(err.message.startsWith('bad.fsxops:4: ')).toBe(true);
      expect(err.message).toContain(want.replace(/^1: /, ''));
    });
  }

  it('keeps the last LOGSIZE entries as fsx dumps them; the human dump numbers them from the start', () => {
    const many = Array.from({ length: LOGSIZE + 5 }, (_, i) => i);
    expect(lastLogged(many)[0]).toBe(5);
    const dump = formatLogDump(
      parseOpLog('write 0x0 0x10 0x0\ntruncate 0x0 0x8 0x10 *\nskip read 0x0 0x0 0x8\n'),
      9,
    );
    expect(dump).toEqual([
      'LOG DUMP (3 total operations):',
      '1(  1 mod 256): WRITE    0x0 thru 0xf\t(0x10 bytes) EXTEND\t***WWWW',
      '2(  2 mod 256): TRUNCATE DOWN\tfrom 0x10 to 0x8\t******WWWW',
      '3(  3 mod 256): SKIPPED (no operation)',
    ]);
  });
});

describe('a hand-written log in fsx syntax', () => {
  // Every op fsx has and the model runs, in fsx's syntax, with numbers in each base.
  const LOG = `# hand-written: one of each
write 0x0 0x3000 0x0
write 5000 0x800 0x3000

mapwrite 0x2f00 0x1200 0x3000
mapread 0x100 0x2000 0x4100
read 0 0x4100 0x4100
fallocate 0x5000 0x2000 0x4100 keep_size
fallocate 0x4000 0x1800 0x4100
zero_range 0x1000 0x800 0x5800
zero_range 0x5000 0x1000 0x5800 keep_size
punch_hole 0x800 0x1000 0x5800
collapse_range 0x1000 0x1000 0x5800
insert_range 0x0 0x2000 0x4800
copy_range 0x100 0x300 0x3000 0x6800
truncate 0x0 0x2345 0x6800
fsync 0x0 0x0 0x2345
skip write_atomic 0x1 0x2 0x2345
skip clone_range 0x0 0x0 0x0 0x2345
truncate 0x0 0x7000 0x2345 close_open
read 0x0 0x7000 0x7000
mapread 0x6f00 0x100 0x7000
`;
  const o: FsxOptions = { ...FSX_DEFAULTS, seed: 3, maxfilelen: 0x8000, maxoplen: 0x4000, pageSize: 4096 };

  for (const name of ['pagelab', 'xfs', 'gfs2', 'bcachefs', 'dax']) {
    it(`runs A-OK under ${name}, and the file is fsx's good_buf`, async () => {
      const entries = parseOpLog(LOG, 'hand.fsxops');
      const fsx = new Fsx(o, entries, 'record');
      const { FsxRunner, fsxModelFile } = await import('./run.js');
      const r = await new FsxRunner(fsx, fsxModelFile(scheme(name), o)).run(-1);
      expect(r.failure).toBeNull();
      expect(r.testcalls).toBe(entries.length + 1);
      expect(r.contents.length).toBe(0x7000);
      expect(same(r.contents, fsx.good.subarray(0, fsx.fileSize))).toBe(true);
      // Past the truncate at 0x2345 and the truncate up: zeroes.
      expect(r.contents.subarray(0x2345).every((b) => b === 0)).toBe(true);
    });
  }

  it('a model that loses a write fails as fsx fails: READ BAD DATA, status 110, the op marked *', async () => {
    // A scheme whose buffered write of 0x100 bytes at 0x1000 claims success and writes nothing.
    const good = scheme('pagelab');
    const broken: Scheme = {
      ...good,
      name: 'broken',
      ops: {
        ...good.ops,
        writeIter: (t, inode, pos, len, ubuf, direct) =>
          pos === 0x1000 && len === 0x100
            ? Promise.resolve(len)
            : good.ops.writeIter(t, inode, pos, len, ubuf, direct),
      },
    };
    const log = 'write 0x0 0x2000 0x0\nwrite 0x1000 0x100 0x2000\nread 0x0 0x2000 0x2000\n';
    const r = await runFsx(o, broken, parseOpLog(log, 'x'), 'record');
    expect(r.failure).toMatchObject({ status: 110, testcalls: 3, badoff: 0x10ff });
    expect(r.failure?.lines[0]).toBe('READ BAD DATA: offset = 0x0, size = 0x2000, fname = (model)');
    expect(r.failure?.lines).toContain('operation# (mod 256) for the bad data may be 1');
    expect(formatOpLog(r.log, r.failure?.badoff)).toBe(
      'write 0x0 0x2000 0x0 *\nwrite 0x1000 0x100 0x2000 *\nread 0x0 0x2000 0x2000 *\n',
    );
  });

  it('the -Z -e 1 log real fsx fails on ext4 (docs/fsx.md) runs A-OK on the model: every scheme zeroes the EOF tail', async () => {
    const log = 'mapwrite 0x0 0x1232 0x0\nwrite 0x3000 0x1000 0x1232\nread 0x0 0x4000 0x4000\n';
    const z: FsxOptions = {
      ...FSX_DEFAULTS,
      oDirect: true,
      readbdy: 512,
      writebdy: 512,
      polluteEof: true,
      maxfilelen: 65536,
    };
    for (const name of ['pagelab', 'xfs', 'ext4-pin-block', 'gfs2', 'bcachefs', 'dax']) {
      const r = await runFsx(z, scheme(name), parseOpLog(log, 'kernel.fsxops'), 'record');
      expect(r.failure, name).toBeNull();
      expect(
        r.contents.subarray(0x1232, 0x3000).every((b) => b === 0),
        name,
      ).toBe(true);
    }
  });
});
