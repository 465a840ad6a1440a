import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Addr,
  diskBlocksDefault,
  FALLOC_MODES,
  FILE_INITS,
  FINDING_KINDS,
  type FileDecl,
  type FindingKind,
  type MapDecl,
  type Op,
  type Scenario,
  type TaskDecl,
} from './ast.js';
import { formatOp, formatScenario, LitmusError, parseLitmus } from './parse.js';

const EXAMPLE = `# dio-write-vs-mmap-store: seed 004 (Overstreet, 2019). The DIO write shoots the page down;
# a store through a shared mapping faults it back in before the write reaches the disk.
litmus dio-write-vs-mmap-store
doc "DIO write vs mmap store to another byte range of the same page"
page 64                         # bytes per page in this scenario
file f 2p written               # two pages, written before the tasks start
map  m f 0 2p shared            # a MAP_SHARED mapping every task can use

P0: pwrite f 0 32 direct        # O_DIRECT over the first half of page 0
P1: store m+40 8                # a different byte range of the same page

forbid lost-write stale-read deadlock
`;

/** The scenario without `line`, `text` and `source`, for comparisons modulo those. */
function strip(s: Scenario): unknown {
  const drop = new Set(['line', 'text', 'source']);
  return JSON.parse(JSON.stringify(s, (k, v: unknown) => (drop.has(k) ? undefined : v)));
}

/** The message parseLitmus throws for `text`; fails the test when it parses or throws another error. */
function errorOf(text: string, file = 'x.litmus'): string {
  try {
    parseLitmus(text, file);
  } catch (e) {
    expect(e).toBeInstanceOf(LitmusError);
    return (e as LitmusError).message;
  }
  throw new Error(`parsed without error:\n${text}`);
}

const PRELUDE = 'litmus t\nfile f 2p written\nmap m f 0 2p shared\nbuf b 16\n';

/** A scenario whose line 5 is `line` (after a prelude declaring f, m and b), plus a task. */
function withLine(line: string): string {
  return `${PRELUDE}${line}\nPz: fsync f\n`;
}

describe('parseLitmus: the example', () => {
  it('parses the DESIGN.md example to the exact AST', () => {
    const s = parseLitmus(EXAMPLE);
    const expected: Scenario = {
      name: 'dio-write-vs-mmap-store',
      doc: 'DIO write vs mmap store to another byte range of the same page',
      source: '<input>',
      pageSize: 64,
      blockSize: 64,
      diskBlocks: 24,
      latency: 20,
      files: [{ name: 'f', size: 128, init: 'written', line: 6 }],
      maps: [{ name: 'm', file: 'f', offset: 0, length: 128, shared: true, line: 7 }],
      bufs: [],
      reclaim: 0,
      options: {},
      tasks: [
        {
          name: 'P0',
          ops: [{ op: 'pwrite', file: 'f', off: 0, len: 32, direct: true, buf: null, data: null, line: 9 }],
          line: 9,
        },
        {
          name: 'P1',
          ops: [{ op: 'store', addr: { region: 'm', offset: 40 }, len: 8, data: null, line: 10 }],
          line: 10,
        },
      ],
      forbid: ['lost-write', 'stale-read', 'deadlock'],
      expect: null,
      text: EXAMPLE,
    };
    expect(s).toStrictEqual(expected);
  });

  it('records the file name as source', () => {
    expect(parseLitmus(EXAMPLE, 'scenarios/a.litmus').source).toBe('scenarios/a.litmus');
  });

  it('formats the example back to text that parses to the same scenario', () => {
    const s = parseLitmus(EXAMPLE);
    expect(strip(parseLitmus(formatScenario(s)))).toEqual(strip(s));
  });
});

describe('parseLitmus: statements', () => {
  it('defaults: page 64, block = page, latency 20, no reclaim, forbid everything, disk 4x files + 16', () => {
    const s = parseLitmus('litmus a\nfile f 3p hole\nfile g 100 written\nP0: fsync f\n');
    expect(s).toMatchObject({ pageSize: 64, blockSize: 64, latency: 20, reclaim: 0, expect: null, doc: '' });
    expect(s.forbid).toEqual(FINDING_KINDS);
    expect(s.diskBlocks).toBe((3 + 2) * 4 + 16);
  });

  it('reads page, block, disk, latency, reclaim and sizes in bytes, hex, pages and blocks', () => {
    const s = parseLitmus(
      'litmus geo.v2_x\npage 32\nblock 0x10\ndisk 100\nlatency 0\nreclaim 3\n' +
        'file a 96 written\nfile b 0x40 unwritten\nfile c 2p cached\nfile d 3b dirty\nfile e 0 hole\nP0: fsync a\n',
    );
    expect(s).toMatchObject({
      name: 'geo.v2_x',
      pageSize: 32,
      blockSize: 16,
      diskBlocks: 100,
      latency: 0,
      reclaim: 3,
    });
    expect(s.files.map((f) => [f.name, f.size, f.init])).toEqual([
      ['a', 96, 'written'],
      ['b', 64, 'unwritten'],
      ['c', 64, 'cached'],
      ['d', 48, 'dirty'],
      ['e', 0, 'hole'],
    ]);
  });

  it('reads block before page when both are given', () => {
    const s = parseLitmus('litmus a\npage 256\nblock 128\nfile f 1b hole\nP0: fsync f\n');
    expect([s.pageSize, s.blockSize, s.files[0].size]).toEqual([256, 128, 128]);
  });

  it('reads a doc string with escapes, # and ; inside', () => {
    const s = parseLitmus(
      'litmus a\ndoc "say \\"hi\\" # not a comment; \\\\ ok"  # a comment\nfile f 1p hole\nP0: fsync f\n',
    );
    expect(s.doc).toBe('say "hi" # not a comment; \\ ok');
  });

  it('reads maps (offset, length rounded up to pages, shared|private) and bufs', () => {
    const s = parseLitmus(
      'litmus a\nfile f 4p written\nmap m f 1p 40 private\nmap n f 0x80 2p shared\nbuf b 7\nP0: load m 1\n',
    );
    const maps: Omit<MapDecl, 'line'>[] = s.maps.map(({ line: _, ...m }) => m);
    expect(maps).toEqual([
      { name: 'm', file: 'f', offset: 64, length: 64, shared: false },
      { name: 'n', file: 'f', offset: 128, length: 128, shared: true },
    ]);
    expect(s.bufs).toEqual([{ name: 'b', size: 7, line: 5 }]);
  });

  it('reads options, several per line, kept as strings, __proto__ as a plain key', () => {
    const s = parseLitmus(
      'litmus a\noption storm=8 scheme.mode=a=b\noption __proto__=1\nfile f 1p hole\nP0: fsync f\n',
    );
    expect(Object.entries(s.options)).toEqual([
      ['storm', '8'],
      ['scheme.mode', 'a=b'],
      ['__proto__', '1'],
    ]);
  });

  it('reads forbid in the order written, forbid none, and expect', () => {
    const base = 'litmus a\nfile f 1p hole\nP0: fsync f\n';
    expect(parseLitmus(`${base}forbid invariant deadlock\nexpect deadlock\n`)).toMatchObject({
      forbid: ['invariant', 'deadlock'],
      expect: 'deadlock',
    });
    expect(parseLitmus(`${base}forbid none\nexpect ok\n`)).toMatchObject({ forbid: [], expect: 'ok' });
  });

  it('accepts CRLF line ends, tabs and comment-only lines', () => {
    const s = parseLitmus('# c\r\nlitmus a\r\n\t# c\r\nfile\tf 1p hole\r\nP0:\tfsync f\r\n');
    expect(s.tasks[0].ops).toEqual([{ op: 'fsync', file: 'f', line: 5 }]);
  });
});

describe('parseLitmus: tasks and ops', () => {
  const decls = 'litmus a\nfile f 4p written\nmap m f 0 2p shared\nbuf b 1p\n';
  const opsOf = (task: string): Op[] => parseLitmus(`${decls}${task}\n`).tasks[0].ops;
  const one = (text: string): Op => opsOf(`P0: ${text}`)[0];

  it.each<[string, Op]>([
    ['pread f 0 8', { op: 'pread', file: 'f', off: 0, len: 8, direct: false, buf: null, line: 5 }],
    ['load m+1p+8 8', { op: 'load', addr: { region: 'm', offset: 72 }, len: 8, line: 5 }],
    [
      'pread f 1p 1p direct buf=m+1p',
      { op: 'pread', file: 'f', off: 64, len: 64, direct: true, buf: { region: 'm', offset: 64 }, line: 5 },
    ],
    [
      'pwrite f 8 16 data=0xab buf=b',
      {
        op: 'pwrite',
        file: 'f',
        off: 8,
        len: 16,
        direct: false,
        buf: { region: 'b', offset: 0 },
        data: 0xab,
        line: 5,
      },
    ],
    ['load m+0x10 4', { op: 'load', addr: { region: 'm', offset: 16 }, len: 4, line: 5 }],
    ['store b+63 1 data=7', { op: 'store', addr: { region: 'b', offset: 63 }, len: 1, data: 7, line: 5 }],
    [
      'fallocate f alloc 0 1p',
      { op: 'fallocate', file: 'f', mode: 'alloc', off: 0, len: 64, keepSize: false, line: 5 },
    ],
    [
      'fallocate f zero 0 8 keep-size',
      { op: 'fallocate', file: 'f', mode: 'zero', off: 0, len: 8, keepSize: true, line: 5 },
    ],
    [
      'fallocate f punch 64 64',
      { op: 'fallocate', file: 'f', mode: 'punch', off: 64, len: 64, keepSize: true, line: 5 },
    ],
    [
      'fallocate f collapse 0 1p',
      { op: 'fallocate', file: 'f', mode: 'collapse', off: 0, len: 64, keepSize: false, line: 5 },
    ],
    [
      'fallocate f insert 1p 1p',
      { op: 'fallocate', file: 'f', mode: 'insert', off: 64, len: 64, keepSize: false, line: 5 },
    ],
    ['truncate f 0', { op: 'truncate', file: 'f', size: 0, line: 5 }],
    ['fsync f', { op: 'fsync', file: 'f', line: 5 }],
    ['fdatasync f', { op: 'fdatasync', file: 'f', line: 5 }],
    ['writeback f', { op: 'writeback', file: 'f', line: 5 }],
    ['msync m 2p', { op: 'msync', addr: { region: 'm', offset: 0 }, len: 128, line: 5 }],
    ['evict f 1p', { op: 'evict', file: 'f', off: 64, line: 5 }],
  ])('%s', (text, op) => {
    expect(one(text)).toStrictEqual(op);
  });

  it('appends ops from several lines of one task, in order, and keeps tasks in first-appearance order', () => {
    const s = parseLitmus(`${decls}P1: fsync f\nreader: load m 1; load m+1 1\nP1: evict f 0;\n`);
    expect(s.tasks.map((t) => [t.name, t.line, t.ops.map(formatOp)])).toEqual([
      ['P1', 5, ['fsync f', 'evict f 0']],
      ['reader', 6, ['load m+0 1', 'load m+1 1']],
    ]);
  });

  it('accepts a label glued to its op', () => {
    expect(opsOf('P0:fsync f')).toEqual([{ op: 'fsync', file: 'f', line: 5 }]);
  });

  it('expands loop N over the whole line', () => {
    const ops = opsOf('P0: loop 3 store m 1; load m 1');
    expect(ops.map(formatOp)).toEqual(Array(3).fill(['store m+0 1', 'load m+0 1']).flat());
    expect(ops[0]).not.toBe(ops[2]);
  });
});

describe('parseLitmus: errors', () => {
  it.each<[string, string, string]>([
    ['an empty input', '', "x.litmus:1:1: empty scenario: expected 'litmus NAME'"],
    ['comments only', '# just a comment\n\n', "x.litmus:1:1: empty scenario: expected 'litmus NAME'"],
    ['no litmus line', '\npage 64\n', "x.litmus:2:1: expected 'litmus NAME' first, got 'page'"],
    ['a task first', 'P0: fsync f\n', "x.litmus:1:1: expected 'litmus NAME' first, got task 'P0'"],
    [
      'a bad scenario name',
      'litmus Foo\n',
      "x.litmus:1:8: bad scenario name 'Foo' (use [a-z0-9][a-z0-9._-]*, e.g. dio-write-vs-mmap-store)",
    ],
    ['a missing scenario name', 'litmus\n', 'x.litmus:1:7: missing NAME (usage: litmus NAME)'],
    [
      'no tasks',
      'litmus t\nfile f 1p hole\n',
      "x.litmus:1:1: no tasks (add a task line such as 'P0: pread f 0 8')",
    ],
    [
      'an unterminated string',
      'litmus t\ndoc "abc\n',
      'x.litmus:2:5: unterminated string (a string ends with " on the same line)',
    ],
    [
      'a bad escape',
      'litmus t\ndoc "a\\n"\n',
      "x.litmus:2:7: unknown escape '\\n' in string (only \\\" and \\\\)",
    ],
    [
      'a bad task name',
      'litmus t\n0P: fsync f\n',
      "x.litmus:2:1: bad task name '0P' (use P0, P1, ... or a name matching [A-Za-z][A-Za-z0-9_]*)",
    ],
    ['a missing task name', 'litmus t\n: fsync f\n', "x.litmus:2:1: missing task name before ':'"],
    // What the model holds (issue 14): one line, never a RangeError at run time.
    [
      'a device larger than the model holds',
      'litmus t\npage 65536\ndisk 16777216\nfile f 1p written\nP0: fsync f\n',
      'x.litmus:3:6: disk of 16777216 blocks of 65536 bytes is more than the model holds (max 134217728 bytes)',
    ],
    [
      'a default disk larger than the model holds',
      'litmus t\nfile f 16777216 hole\nfile g 16777216 hole\nP0: fsync f\n',
      "x.litmus:3:1: the default disk (4 × the files' blocks + 16 = 2097168 blocks of 64 bytes) is more than the model holds (max 134217728 bytes): declare a smaller 'disk'",
    ],
    [
      'a sector size that does not divide the block',
      'litmus t\noption sector=3\nfile f 1p written\nP0: fsync f\n',
      'x.litmus:2:8: option sector=3: must divide the block size 64',
    ],
    [
      'too many files',
      'litmus t\nfile f0 1p hole\nfile f1 1p hole\nfile f2 1p hole\nfile f3 1p hole\nfile f4 1p hole\nfile f5 1p hole\nfile f6 1p hole\nfile f7 1p hole\nfile f8 1p hole\nfile f9 1p hole\nfile f10 1p hole\nfile f11 1p hole\nfile f12 1p hole\nfile f13 1p hole\nfile f14 1p hole\nfile f15 1p hole\nfile f16 1p hole\nP0: fsync f0\n',
      'x.litmus:18:1: more than 16 files (the model holds at most 16)',
    ],
    [
      'too many maps and bufs',
      'litmus t\nbuf b0 8\nbuf b1 8\nbuf b2 8\nbuf b3 8\nbuf b4 8\nbuf b5 8\nbuf b6 8\nbuf b7 8\nbuf b8 8\nbuf b9 8\nbuf b10 8\nbuf b11 8\nbuf b12 8\nbuf b13 8\nbuf b14 8\nbuf b15 8\nbuf b16 8\nbuf b17 8\nbuf b18 8\nbuf b19 8\nbuf b20 8\nbuf b21 8\nbuf b22 8\nbuf b23 8\nbuf b24 8\nbuf b25 8\nbuf b26 8\nbuf b27 8\nbuf b28 8\nbuf b29 8\nbuf b30 8\nbuf b31 8\nbuf b32 8\nbuf b33 8\nbuf b34 8\nbuf b35 8\nbuf b36 8\nbuf b37 8\nbuf b38 8\nbuf b39 8\nbuf b40 8\nbuf b41 8\nbuf b42 8\nbuf b43 8\nbuf b44 8\nbuf b45 8\nbuf b46 8\nbuf b47 8\nbuf b48 8\nbuf b49 8\nbuf b50 8\nbuf b51 8\nbuf b52 8\nbuf b53 8\nbuf b54 8\nbuf b55 8\nbuf b56 8\nbuf b57 8\nbuf b58 8\nbuf b59 8\nbuf b60 8\nbuf b61 8\nbuf b62 8\nbuf b63 8\nbuf b64 8\nP0: load b0 1\n',
      'x.litmus:66:1: more than 64 maps and bufs (the model holds at most 64)',
    ],
  ])('%s', (_, text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it.each<[string, string, string]>([
    ['an unknown statement', 'fiel g 1p hole', "5:1: unknown statement 'fiel' (did you mean 'file'?)"],
    [
      'a task label with a space before its colon',
      'P0 : pread f 0 8',
      "5:1: unknown statement 'P0' (a task label is written 'P0:', with no space before the colon)",
    ],
    [
      'an op outside a task',
      'pread f 0 8',
      "5:1: 'pread' is an op: put it on a task line, e.g. 'P0: pread ...'",
    ],
    ['a duplicate litmus', 'litmus u', "5:1: duplicate 'litmus' (first at line 1)"],
    ['a doc without quotes', 'doc hello', '5:5: expected a quoted string, got \'hello\' (usage: doc "TEXT")'],
    ['a doc with extra words', 'doc "a" b', '5:9: unexpected \'b\' (usage: doc "TEXT")'],
    ['a duplicate name', 'buf f 8', "5:5: duplicate name 'f' (already a file at line 2)"],
    ['a bad decl name', 'buf 9x 8', "5:5: bad buf name '9x' (names match [A-Za-z_][A-Za-z0-9_]*)"],
    [
      'a bad file state',
      'file g 1p writen',
      "5:11: bad STATE 'writen': expected written, unwritten, hole, cached, dirty (did you mean 'written'?)",
    ],
    [
      'an extra argument',
      'file g 1p hole now',
      "5:16: unexpected 'now' (usage: file NAME SIZE written|unwritten|hole|cached|dirty)",
    ],
    [
      'a bad size',
      'file g 2q hole',
      "5:8: bad SIZE '2q': expected bytes (96, 0x60), pages (2p) or blocks (1b)",
    ],
    [
      'a leading zero',
      'file g 010 hole',
      "5:8: bad SIZE '010': leading zeros are not allowed (octal? write 0x hex)",
    ],
    ['a huge size', 'file g 0x80000000 hole', '5:8: SIZE 0x80000000 is too large (max 16777216 bytes)'],
    [
      'an unaligned map offset',
      'map n f 32 1p shared',
      '5:9: map offset 32 is not page-aligned (page 64): mmap(2) fails with EINVAL',
    ],
    ['a zero-length map', 'map n f 0 0 shared', '5:11: LENGTH must be at least 1 (got 0)'],
    ['a map of a map', 'map n m 0 1p shared', "5:7: 'm' is a map, not a file"],
    [
      'a map with no sharing',
      'map n f 0 1p',
      '5:13: missing shared|private (usage: map NAME FILE OFFSET LENGTH shared|private)',
    ],
    [
      'page after declarations',
      'page 32',
      "5:1: 'page' must come before the first file, map, buf or task (line 2)",
    ],
    ['a duplicate option', 'option a=1 a=2', "5:12: duplicate option 'a' (first at line 5)"],
    ['an option without =', 'option storm', "5:8: bad option 'storm': expected KEY=VALUE"],
    ['an option without value', 'option storm=', "5:8: missing value after 'storm='"],
    ['an empty option', 'option', '5:7: missing KEY=VALUE (usage: option KEY=VALUE...)'],
    [
      'a bad inode-addr',
      'option inode-addr=sideways',
      "5:8: bad option 'inode-addr=sideways': expected ascending or descending",
    ],
    [
      'a sector that does not divide the block',
      'option sector=7',
      '5:8: option sector=7: must divide the block size 64',
    ],
    [
      'an unknown finding kind',
      'forbid stale',
      "5:8: unknown finding kind 'stale' (kinds: stale-read, lost-write, incoherent, durability, deadlock, no-progress, invariant, or none)",
    ],
    ['a finding kind twice', 'forbid deadlock deadlock', "5:17: 'deadlock' listed twice"],
    ['none with kinds', 'forbid none deadlock', "5:8: 'none' cannot be combined with finding kinds"],
    ['an empty forbid', 'forbid', '5:7: missing KIND (usage: forbid KIND... | forbid none)'],
    [
      'a bad expect',
      'expect fine',
      "5:8: bad KIND 'fine': expected stale-read, lost-write, incoherent, durability, deadlock, no-progress, invariant, ok",
    ],
    ['a zero reclaim', 'reclaim 0', '5:9: reclaim 0 is out of range (1..1048576)'],
    ['a size unit on a count', 'latency 2p', "5:9: bad latency '2p': expected a number such as 64 or 0x40"],
    ['a disk too small', 'disk 1', '5:6: disk of 1 blocks is too small: the files allocate 2 blocks'],
  ])('%s', (_, line, message) => {
    expect(errorOf(withLine(line))).toBe(`x.litmus:${message}`);
  });

  it.each<[string, string, string]>([
    ['a label with no ops', 'P0:', "5:4: no ops after 'P0:'"],
    ['an empty op', 'P0: fsync f;; fsync f', "5:13: empty op before ';'"],
    ['an unknown op', 'P0: prad f 0 8', "5:5: unknown op 'prad' (did you mean 'pread'?)"],
    [
      'a missing argument',
      'P0: pread f 0',
      '5:14: missing LEN (usage: pread FILE OFF LEN [direct] [buf=ADDR])',
    ],
    [
      'a missing argument before ;',
      'P0: pread f 0; fsync f',
      '5:14: missing LEN (usage: pread FILE OFF LEN [direct] [buf=ADDR])',
    ],
    ['a zero length', 'P0: pread f 0 0', '5:15: LEN must be at least 1 (got 0)'],
    [
      'a bad number',
      'P0: pread f 0 8q',
      "5:15: bad LEN '8q': expected bytes (96, 0x60), pages (2p) or blocks (1b)",
    ],
    ['an unknown file', 'P0: fsync g', "5:11: unknown file 'g'"],
    ['a near-miss file name', 'P0: fsync ff', "5:11: unknown file 'ff' (did you mean 'f'?)"],
    ['a map used as a file', 'P0: fsync m', "5:11: 'm' is a map, not a file"],
    ['an unknown region', 'P0: load q+0 1', "5:10: unknown map or buf 'q'"],
    ['a file used as a region', 'P0: load f 1', "5:10: 'f' is a file, not a map or buf"],
    ['a bad address', 'P0: load +8 1', "5:10: bad address '+8': expected NAME or NAME+OFFSET"],
    [
      'a bad address offset',
      'P0: load m+x 1',
      "5:12: bad address offset 'x': expected bytes (96, 0x60), pages (2p) or blocks (1b)",
    ],
    ['an offset past a mapping', 'P0: store m+200 8', "5:11: m+200 is past the end of map 'm' (128 bytes)"],
    [
      'a range past a mapping',
      'P0: store m+120 16',
      "5:11: m+120 + 16 bytes runs past the end of map 'm' (128 bytes)",
    ],
    [
      'a buf= too small',
      'P0: pread f 0 1p buf=b',
      "5:22: b + 64 bytes runs past the end of buf 'b' (16 bytes)",
    ],
    ['msync on a buf', 'P0: msync b 8', "5:11: 'b' is a buf, not a map"],
    ['an unknown flag', 'P0: pread f 0 8 drect', "5:17: unexpected 'drect' (did you mean 'direct'?)"],
    [
      'a flag of another op',
      'P0: pread f 0 8 data=1',
      "5:17: unexpected 'data=1' (usage: pread FILE OFF LEN [direct] [buf=ADDR])",
    ],
    ['a duplicate flag', 'P0: pwrite f 0 8 direct direct', "5:25: duplicate 'direct'"],
    ['a value on a bare flag', 'P0: pwrite f 0 8 direct=1', "5:18: 'direct' takes no value"],
    ['a valued flag without value', 'P0: pwrite f 0 8 data', "5:18: 'data' needs a value (data=...)"],
    ['an empty flag value', 'P0: pwrite f 0 8 buf=', "5:18: missing value after 'buf='"],
    ['data out of range', 'P0: store m 1 data=256', '5:20: data 256 is out of range (0..255)'],
    [
      'a bad fallocate mode',
      'P0: fallocate f hole 0 8',
      "5:17: bad MODE 'hole': expected alloc, punch, zero, collapse, insert",
    ],
    [
      'keep-size with collapse',
      'P0: fallocate f collapse 0 1p keep-size',
      '5:31: keep-size cannot be used with collapse (fallocate(2) returns EINVAL)',
    ],
    [
      'loop not first',
      'P0: fsync f; loop 2 fsync f',
      '5:14: loop must come first on a task line (it repeats the whole line)',
    ],
    ['a zero loop', 'P0: loop 0 fsync f', '5:10: loop count 0 is out of range (1..1024)'],
    ['a loop with no op', 'P0: loop 2', '5:11: loop needs an op after the count'],
    [
      'too many ops',
      'P0: loop 1024 fsync f; fsync f; fsync f; fsync f; fsync f',
      '5:1: task P0 has more than 4096 ops',
    ],
    ['a string as an op', 'P0: "fsync"', '5:5: expected an op, got a string'],
  ])('%s', (_, line, message) => {
    expect(errorOf(`${PRELUDE}${line}\n`)).toBe(`x.litmus:${message}`);
  });

  it('says when a name is declared after its use', () => {
    expect(errorOf('litmus t\nmap m f 0 1p shared\nfile f 1p hole\nP0: fsync f\n')).toBe(
      "x.litmus:2:7: unknown file 'f' (declared at line 3: declare it before use)",
    );
  });

  it('checks page and block against each other', () => {
    expect(errorOf('litmus t\npage 48\n')).toBe('x.litmus:2:6: page size 48 is not a power of two');
    expect(errorOf('litmus t\npage 4\n')).toBe('x.litmus:2:6: page size 4 is out of range (8..65536)');
    expect(errorOf('litmus t\nblock 128\n')).toBe(
      "x.litmus:2:7: block size 128 is larger than the page size 64 (put 'page' before 'block')",
    );
    expect(errorOf('litmus t\nblock 32\npage 16\n')).toBe(
      'x.litmus:3:6: page size 16 is smaller than the block size 32 (line 2)',
    );
  });

  it('fills the LitmusError fields', () => {
    try {
      parseLitmus(withLine('fiel'), 'a/b.litmus');
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ file: 'a/b.litmus', line: 5, column: 1, name: 'LitmusError' });
      expect((e as LitmusError).reason).toBe("unknown statement 'fiel' (did you mean 'file'?)");
    }
  });
});

describe('formatOp', () => {
  it.each<[string, string]>([
    ['pread f 0 32 direct buf=m+64', 'pread f 0 32 direct buf=m+64'],
    ['pwrite f 1p 8 data=10 buf=b+0x8', 'pwrite f 64 8 buf=b+8 data=0x0a'],
    ['store m 1 data=0xff', 'store m+0 1 data=0xff'],
    ['fallocate f punch 0 1p keep-size', 'fallocate f punch 0 64'],
    ['fallocate f zero 0 1p keep-size', 'fallocate f zero 0 64 keep-size'],
    ['msync m 1p', 'msync m+0 64'],
  ])('%s → %s', (text, formatted) => {
    const s = parseLitmus(`litmus a\nfile f 4p written\nmap m f 0 2p shared\nbuf b 1p\nP0: ${text}\n`);
    expect(formatOp(s.tasks[0].ops[0])).toBe(formatted);
  });
});

describe('formatScenario', () => {
  it('prints defaults sparingly, sizes in pages, one line per source line and repeated runs as loop', () => {
    const text =
      'litmus storm\ndoc "a \\"q\\""\npage 32\nblock 16\nlatency 5\nreclaim 2\noption storm=8\n' +
      'file f 2p dirty\nfile g 40 hole\nmap m f 0 1p private\nbuf b 8\n' +
      'P0: loop 4 store m+1 1 data=0x1; load m 2\nP0: fsync f; fsync f\nP1: pread g 0 8 buf=b\nforbid none\nexpect ok\n';
    expect(formatScenario(parseLitmus(text))).toBe(
      [
        'litmus storm',
        'doc "a \\"q\\""',
        'page 32',
        'block 16',
        'latency 5',
        'reclaim 2',
        'option storm=8',
        'file f 2p dirty',
        'file g 40 hole',
        'map m f 0 1p private',
        'buf b 8',
        '',
        'P0: loop 4 store m+1 1 data=0x01; load m+0 2',
        'P0: fsync f; fsync f',
        'P1: pread g 0 8 buf=b+0',
        '',
        'forbid none',
        'expect ok',
        '',
      ].join('\n'),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const DECL_NAME = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,5}$/);
const TASK_NAME = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,4}$/);

/** Raw numbers an op is built from; `buildOp` fits them to the declared regions. */
const rawOp = fc.record({
  kind: fc.nat(10),
  a: fc.nat(1 << 16),
  b: fc.nat(1 << 16),
  c: fc.nat(1 << 16),
  flag: fc.boolean(),
  useBuf: fc.boolean(),
  data: fc.option(fc.nat(255), { nil: null }),
});
type RawOp = typeof rawOp extends fc.Arbitrary<infer T> ? T : never;

interface Region {
  name: string;
  size: number;
  map: boolean;
}

/** An op valid against `files` and `regions` (an addressed op without a region becomes fsync). */
function buildOp(
  r: RawOp,
  files: readonly FileDecl[],
  regions: readonly Region[],
  page: number,
  line: number,
): Op {
  const file = files[r.a % files.length].name;
  const off = r.b % (4 * page);
  const len = 1 + (r.c % (2 * page));
  const region = regions.length > 0 ? regions[r.a % regions.length] : null;
  const within = (g: Region): { addr: Addr; len: number } => {
    const offset = r.b % g.size;
    return { addr: { region: g.name, offset }, len: 1 + (r.c % (g.size - offset)) };
  };
  const maps = regions.filter((g) => g.map);
  switch (r.kind) {
    case 0:
    case 1: {
      const direct = r.flag;
      if (!r.useBuf || region === null) {
        return r.kind === 0
          ? { op: 'pread', file, off, len, direct, buf: null, line }
          : { op: 'pwrite', file, off, len, direct, buf: null, data: r.data, line };
      }
      const w = within(region);
      return r.kind === 0
        ? { op: 'pread', file, off, len: w.len, direct, buf: w.addr, line }
        : { op: 'pwrite', file, off, len: w.len, direct, buf: w.addr, data: r.data, line };
    }
    case 2:
    case 3: {
      if (region === null) return { op: 'fsync', file, line };
      const w = within(region);
      return r.kind === 2 ? { op: 'load', ...w, line } : { op: 'store', ...w, data: r.data, line };
    }
    case 4: {
      const mode = FALLOC_MODES[r.c % FALLOC_MODES.length];
      const keepSize = mode === 'punch' || (r.flag && mode !== 'collapse' && mode !== 'insert');
      return { op: 'fallocate', file, mode, off, len, keepSize, line };
    }
    case 5:
      return { op: 'truncate', file, size: r.b % (8 * page), line };
    case 6:
      return { op: 'fdatasync', file, line };
    case 7:
      return { op: 'writeback', file, line };
    case 8:
      return maps.length > 0
        ? { op: 'msync', ...within(maps[r.a % maps.length]), line }
        : { op: 'fsync', file, line };
    case 9:
      return { op: 'evict', file, off, line };
    default:
      return { op: 'fsync', file, line };
  }
}

/** Runs of ops; all ops of one run share a source line (and may be a loop), as a parsed task's do. */
const rawTask = fc.array(
  fc.record({ ops: fc.array(rawOp, { minLength: 1, maxLength: 3 }), repeat: fc.integer({ min: 1, max: 3 }) }),
  {
    minLength: 1,
    maxLength: 3,
  },
);

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/),
    doc: fc.string({ unit: fc.constantFrom(...' abcXYZ09"\\#;=+-_.:'.split('')), maxLength: 30 }),
    pageExp: fc.integer({ min: 3, max: 12 }),
    blockShift: fc.nat(3),
    names: fc.uniqueArray(DECL_NAME, { minLength: 7, maxLength: 7 }),
    files: fc.array(
      fc.record({ pages: fc.nat(6), extra: fc.nat(100), init: fc.constantFrom(...FILE_INITS) }),
      {
        minLength: 1,
        maxLength: 3,
      },
    ),
    maps: fc.array(
      fc.record({
        file: fc.nat(),
        offPages: fc.nat(3),
        lenPages: fc.integer({ min: 1, max: 3 }),
        shared: fc.boolean(),
      }),
      {
        maxLength: 2,
      },
    ),
    bufs: fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 2 }),
    diskExtra: fc.option(fc.nat(100), { nil: null }),
    latency: fc.nat(1000),
    reclaim: fc.nat(5),
    options: fc.dictionary(
      fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_.-]{0,6}$/),
      fc.stringMatching(/^[A-Za-z0-9_.:,+=/-]{1,8}$/),
      {
        maxKeys: 3,
      },
    ),
    taskNames: fc.uniqueArray(TASK_NAME, { minLength: 1, maxLength: 3 }),
    tasks: fc.array(rawTask, { minLength: 3, maxLength: 3 }),
    forbid: fc.shuffledSubarray([...FINDING_KINDS]),
    expect: fc.option(fc.constantFrom<FindingKind | 'ok'>(...FINDING_KINDS, 'ok'), { nil: null }),
  })
  .map((r): Scenario => {
    const pageSize = 2 ** r.pageExp;
    const blockSize = 2 ** Math.max(3, r.pageExp - r.blockShift);
    const files: FileDecl[] = r.files.map((f, i) => ({
      name: r.names[i],
      size: f.pages * pageSize + (f.extra % 2 === 0 ? 0 : f.extra),
      init: f.init,
      line: 0,
    }));
    const maps: MapDecl[] = r.maps.map((m, i) => ({
      name: r.names[3 + i],
      file: files[m.file % files.length].name,
      offset: m.offPages * pageSize,
      length: m.lenPages * pageSize,
      shared: m.shared,
      line: 0,
    }));
    const bufs = r.bufs.map((size, i) => ({ name: r.names[5 + i], size, line: 0 }));
    const regions: Region[] = [
      ...maps.map((m) => ({ name: m.name, size: m.length, map: true })),
      ...bufs.map((b) => ({ name: b.name, size: b.size, map: false })),
    ];
    const tasks: TaskDecl[] = r.taskNames.map((name, i) => {
      const ops = r.tasks[i].flatMap((run, line) => {
        const once = run.ops.map((o) => buildOp(o, files, regions, pageSize, line));
        return Array.from({ length: run.repeat }, () => once).flat();
      });
      return { name, ops, line: 0 };
    });
    const diskDefault = diskBlocksDefault(files, blockSize);
    return {
      name: r.name,
      doc: r.doc,
      source: '',
      pageSize,
      blockSize,
      diskBlocks: r.diskExtra === null ? diskDefault : diskDefault + r.diskExtra,
      latency: r.latency,
      files,
      maps,
      bufs,
      reclaim: r.reclaim,
      options: r.options,
      tasks,
      forbid: r.forbid,
      expect: r.expect,
      text: '',
    };
  });

describe('properties', () => {
  it('formatScenario then parseLitmus gives back the scenario (modulo line, text, source)', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        expect(strip(parseLitmus(formatScenario(s)))).toEqual(strip(s));
      }),
    );
  });

  it('formatScenario is a fixed point after one parse', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const text = formatScenario(s);
        expect(formatScenario(parseLitmus(text))).toBe(text);
      }),
    );
  });

  const vocabulary = fc.constantFrom(
    ...'litmus doc page block disk latency file map buf reclaim option forbid expect loop pread pwrite load store'.split(
      ' ',
    ),
    ...'fallocate truncate fsync msync evict punch collapse direct shared private written hole P0: P1: f m b'.split(
      ' ',
    ),
    ...'0 1 8 64 0x40 2p 1b 010 -1 99999999999 ; " # m+8 buf=m data=0x1 keep-size deadlock none ok a=b :'.split(
      ' ',
    ),
  );

  it('rejects garbage only with a one-line LitmusError, never another exception', () => {
    const lines = fc.array(fc.array(vocabulary, { maxLength: 7 }), { maxLength: 8 });
    fc.assert(
      fc.property(fc.boolean(), lines, (header, body) => {
        const text = `${header ? 'litmus t\nfile f 2p written\nmap m f 0 2p shared\nbuf b 16\n' : ''}${body
          .map((l) => l.join(' '))
          .join('\n')}`;
        try {
          parseLitmus(text, 'g.litmus');
        } catch (e) {
          expect(e).toBeInstanceOf(LitmusError);
          expect((e as LitmusError).message).toMatch(/^g\.litmus:\d+:\d+: [^\n]+$/);
        }
      }),
    );
  });

  it('rejects every one-character corruption of the example with a LitmusError or parses it', () => {
    const chars = fc.constantFrom(...' #;"+=:0pbx\n'.split(''));
    fc.assert(
      fc.property(fc.nat(EXAMPLE.length - 1), chars, fc.boolean(), (at, ch, replace) => {
        const text = EXAMPLE.slice(0, at) + ch + EXAMPLE.slice(replace ? at + 1 : at);
        try {
          parseLitmus(text);
        } catch (e) {
          expect(e).toBeInstanceOf(LitmusError);
        }
      }),
    );
  });
});
