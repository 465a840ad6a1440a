/**
 * fsx's op log (`.fsxops`, `--record-ops`) and its replay input (`--replay-ops`): the writer is
 * logdump()'s `fprintf(logopsf, ...)` calls, the reader is read_op(), in fstests ltp/fsx.c.
 *
 *   ["skip "] <opname> { " 0x%x" }×(3|4) [" keep_size"] [" close_open"] [" unshare"] [" *"]
 *
 * The reader takes what read_op() takes (words split on spaces and tabs; blank lines and lines
 * whose first word starts with `#` skipped; numbers as strtoul(.., 0) reads them: 0x hex, leading-0
 * octal, decimal), and rejects with FILE:LINE what read_op() rejects with "parse error" (exit 100).
 */
import {
  type LogEntry,
  type LogFlags,
  OP_NAMES,
  OP_TRUNCATE,
  OP_WRITE,
  OP_WRITE_ATOMIC,
  OP_WRITE_DONTCACHE,
  opArgsCount,
  opCode,
} from './ops.js';

/** A line of an op log that fsx's read_op() would refuse. Message: `FILE:LINE: reason`. */
export class FsxLogError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

/** read_op() reads lines with fgets() into a 256-byte buffer. */
const LINE_MAX = 255;
const FLAG_WORDS = ['keep_size', 'close_open', 'unshare', '*'] as const;
const ARG_NAMES3 = 'offset length file_size';
const ARG_NAMES4 = 'offset length dest file_size';

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/**
 * logdump()'s `overlap`: does the entry's range hold `badoff` (the first bad byte of a failed
 * check, -1 if none)? Writes count from the old EOF, truncates cover the bytes between the sizes.
 */
export function overlapsBadoff(e: LogEntry, badoff: number): boolean {
  if (badoff < 0) return false;
  const [a0, a1, a2] = e.args.map((a) => a | 0);
  if (!e.flags.skipped && (e.op === OP_WRITE || e.op === OP_WRITE_DONTCACHE || e.op === OP_WRITE_ATOMIC))
    return (badoff >= a0 || badoff >= a2) && badoff < a0 + a1;
  if (!e.flags.skipped && e.op === OP_TRUNCATE) {
    const down = a1 < a2;
    return down ? badoff >= a1 && badoff < a2 : badoff >= a2 && badoff < a1;
  }
  return badoff >= a0 && badoff < a0 + a1;
}

/** One line of the op log, without the newline. */
export function formatLogEntry(e: LogEntry, badoff = -1): string {
  const words = [e.flags.skipped ? `skip ${OP_NAMES[e.op]}` : OP_NAMES[e.op], ...e.args.map(hex)];
  if (e.flags.keepSize) words.push('keep_size');
  if (e.flags.closeOpen) words.push('close_open');
  if (e.flags.unshare) words.push('unshare');
  if (overlapsBadoff(e, badoff)) words.push('*');
  return words.join(' ');
}

/** The whole op log, one line per entry, each ending in a newline (as fsx writes it). */
export function formatOpLog(entries: readonly LogEntry[], badoff = -1): string {
  return entries.map((e) => `${formatLogEntry(e, badoff)}\n`).join('');
}

/**
 * strtoul(word, &end, 0) with `*end` required to be the end of the word, limited to what a C int
 * holds without turning negative (fsx keeps the numbers in an int and widens them to unsigned long).
 */
function parseNumber(word: string, fail: (reason: string) => never): number {
  const m = /^\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(word);
  if (!m) {
    fail(`'${word}' is not a number (strtoul base 0: 0x hex, leading-0 octal, or decimal; nothing after it)`);
  }
  const digits = m[1];
  const n =
    digits.length > 1 && digits[0] === '0' && (digits[1] === 'x' || digits[1] === 'X')
      ? Number.parseInt(digits.slice(2), 16)
      : digits[0] === '0'
        ? Number.parseInt(digits, 8)
        : Number.parseInt(digits, 10);
  if (n > 0x7fffffff) fail(`${word} is out of range (fsx keeps log numbers in a C int: at most 0x7fffffff)`);
  return n;
}

function suggest(word: string): string {
  const near = OP_NAMES.filter((n) => n.startsWith(word.slice(0, 3)) || word.startsWith(n));
  return near.length > 0 ? ` (did you mean '${near[0]}'?)` : ` (known: ${OP_NAMES.join(', ')})`;
}

/** Parses one non-blank, non-comment line split into words. */
function parseWords(words: string[], line: number, fail: (reason: string) => never): LogEntry {
  const flags: LogFlags = { skipped: false, keepSize: false, closeOpen: false, unshare: false };
  let i = 0;
  if (words[i] === 'skip') {
    flags.skipped = true;
    i++;
    if (i >= words.length) fail(`'skip' must be followed by an op name`);
  }
  const op = opCode(words[i]);
  if (op < 0) fail(`unknown op '${words[i]}'${suggest(words[i])}`);
  i++;
  const nargs = opArgsCount(op);
  const args: number[] = [];
  for (let k = 0; k < nargs; k++, i++) {
    if (i >= words.length) {
      fail(`'${OP_NAMES[op]}' takes ${nargs} numbers (${nargs === 4 ? ARG_NAMES4 : ARG_NAMES3}), found ${k}`);
    }
    args.push(parseNumber(words[i], fail));
  }
  for (; i < words.length; i++) parseFlag(words[i], flags, fail);
  return { op, args, flags, line };
}

function parseFlag(word: string, flags: LogFlags, fail: (reason: string) => never): void {
  switch (word) {
    case 'keep_size':
      flags.keepSize = true;
      return;
    case 'close_open':
      flags.closeOpen = true;
      return;
    case 'unshare':
      flags.unshare = true;
      return;
    case '*':
      return;
  }
  if (word.startsWith('#'))
    fail(`a comment must have a line of its own (fsx only skips lines that start with '#')`);
  if (/^(0[xX])?[0-9a-fA-F]+$/.test(word)) fail(`too many numbers: unexpected '${word}'`);
  fail(`unknown flag '${word}' (known: ${FLAG_WORDS.join(', ')})`);
}

/** Parses an op log. Throws FsxLogError at the first line read_op() would reject. */
export function parseOpLog(text: string, file = '<ops>'): LogEntry[] {
  const out: LogEntry[] = [];
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const [idx, raw] of lines.entries()) {
    const line = idx + 1;
    const fail = (reason: string): never => {
      throw new FsxLogError(file, line, reason);
    };
    const body = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (body.length > LINE_MAX)
      fail(`line longer than ${LINE_MAX} characters (fsx's read_op reads 255 at most)`);
    const words = body.split(/[ \t]+/).filter((w) => w !== '');
    if (words.length === 0 || words[0].startsWith('#')) continue;
    out.push(parseWords(words, line, fail));
  }
  return out;
}

/** fsx keeps its log in a ring of LOGSIZE entries: a dump holds the last 10000 ops only. */
export const LOGSIZE = 10000;

/** The entries fsx's logdump() would write: the last LOGSIZE. */
export function lastLogged<T>(entries: readonly T[]): readonly T[] {
  return entries.length > LOGSIZE ? entries.slice(entries.length - LOGSIZE) : entries;
}

function span(a0: number, a1: number): string {
  return `${hex(a0)} thru ${hex(a0 + a1 - 1)}\t(${hex(a1)} bytes)`;
}

/** The text of one entry in fsx's human log dump (logdump()'s prt() calls), after the number. */
function humanEntry(e: LogEntry, badoff: number): string {
  const [a0, a1, a2] = e.args.map((a) => a | 0);
  const overlap = badoff >= 0 && badoff >= a0 && badoff < a0 + a1;
  const tag = (t: string, on: boolean) => (on ? `\t${t}` : '');
  const dest = (name: string, mark: string) => {
    const overlap2 = badoff >= 0 && badoff >= a2 && badoff < a2 + a1;
    const t = overlap && overlap2 ? `${mark}**${mark}` : overlap ? `${mark}******` : `******${mark}`;
    return `${name} ${span(a0, a1)} to ${hex(a2)} thru ${hex(a2 + a1 - 1)}${tag(t, overlap || overlap2)}`;
  };
  if (e.flags.skipped) return 'SKIPPED (no operation)';
  switch (OP_NAMES[e.op]) {
    case 'mapread':
      return `MAPREAD  ${span(a0, a1)}${tag('***RRRR***', overlap)}`;
    case 'mapwrite':
      return `MAPWRITE ${span(a0, a1)}${tag('******WWWW', overlap)}`;
    case 'read':
    case 'read_dontcache':
      return `READ     ${span(a0, a1)}${tag('***RRRR***', overlap)}`;
    case 'write':
    case 'write_dontcache':
    case 'write_atomic': {
      const grow = a0 > a2 ? ' HOLE' : a0 + a1 > a2 ? ' EXTEND' : '';
      return `WRITE    ${span(a0, a1)}${grow}${tag('***WWWW', overlapsBadoff(e, badoff))}`;
    }
    case 'truncate': {
      const down = a1 < a2;
      return `TRUNCATE ${down ? 'DOWN' : 'UP'}\tfrom ${hex(a2)} to ${hex(a1)}${tag('******WWWW', overlapsBadoff(e, badoff))}`;
    }
    case 'fallocate': {
      const where = a0 + a1 <= a2 ? 'INTERIOR' : e.flags.keepSize ? 'PAST_EOF' : 'EXTENDING';
      return `FALLOC   ${hex(a0)} thru ${hex(a0 + a1)}\t(${hex(a1)} bytes) ${where}${tag('******FFFF', overlap)}`;
    }
    case 'punch_hole':
      return `PUNCH    ${span(a0, a1)}${tag('******PPPP', overlap)}`;
    case 'zero_range':
      return `ZERO     ${span(a0, a1)}${tag('******ZZZZ', overlap)}`;
    case 'collapse_range':
      return `COLLAPSE ${span(a0, a1)}${tag('******CCCC', overlap)}`;
    case 'insert_range':
      return `INSERT ${span(a0, a1)}${tag('******IIII', overlap)}`;
    case 'exchange_range':
      return dest('XCHG', 'XXXX');
    case 'clone_range':
      return dest('CLONE', 'JJJJ');
    case 'dedupe_range':
      return dest('DEDUPE', 'BBBB');
    case 'copy_range':
      return dest('COPY', 'EEEE');
    case 'fsync':
      return 'FSYNC';
    default:
      return `BOGUS LOG ENTRY (operation code = ${e.op})!`;
  }
}

/**
 * fsx's human log dump (the `.fsxlog` part of logdump()): `LOG DUMP (N total operations):`, then
 * `opnum(opnum mod 256): ` and the entry, for the last LOGSIZE entries.
 */
export function formatLogDump(entries: readonly LogEntry[], badoff = -1): string[] {
  const shown = lastLogged(entries);
  const first = entries.length - shown.length;
  const out = [`LOG DUMP (${entries.length} total operations):`];
  for (const [i, e] of shown.entries()) {
    const opnum = first + i + 1;
    out.push(`${opnum}(${String(opnum % 256).padStart(3)} mod 256): ${humanEntry(e, badoff)}`);
    if (e.flags.closeOpen) out.push('\t\tCLOSE/OPEN');
  }
  return out;
}
