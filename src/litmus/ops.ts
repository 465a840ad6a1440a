/**
 * Task lines: `NAME: op [; op]*` and `NAME: loop N op [; op]*`. Each op is parsed against the
 * files, maps and bufs declared above it; a `loop` is expanded here, so the AST has no loops.
 */
import { type Addr, FALLOC_MODES, LOOP_COUNT_MAX, type Op, type OpName } from './ast.js';
import { Cursor, type Decl, type DeclKind, type Env, shown, subToken, suggest } from './cursor.js';
import { LitmusError } from './error.js';
import type { SourceLine, Token } from './lex.js';

/** Every op with its usage line, as shown in errors and docs/litmus.md. */
export const OP_USAGE: Readonly<Record<OpName, string>> = {
  pread: 'pread FILE OFF LEN [direct] [buf=ADDR]',
  pwrite: 'pwrite FILE OFF LEN [direct] [buf=ADDR] [data=BYTE]',
  load: 'load ADDR LEN',
  store: 'store ADDR LEN [data=BYTE]',
  fallocate: `fallocate FILE ${FALLOC_MODES.join('|')} OFF LEN [keep-size]`,
  truncate: 'truncate FILE SIZE',
  fsync: 'fsync FILE',
  fdatasync: 'fdatasync FILE',
  writeback: 'writeback FILE',
  msync: 'msync ADDR LEN',
  evict: 'evict FILE OFF',
};

export const OP_NAMES = Object.keys(OP_USAGE) as OpName[];

type FlagName = 'direct' | 'keep-size' | 'buf' | 'data';
const FLAGS_VALUED: ReadonlySet<FlagName> = new Set<FlagName>(['buf', 'data']);
type Flags = Partial<Record<FlagName, Token>>;

/** One op's tokens (its name first) and the column just past them. */
interface Segment {
  tokens: Token[];
  end: number;
}

const OP_PARSERS: Readonly<Record<OpName, (c: Cursor, line: number) => Op>> = {
  pread: (c, line) => {
    const { file, off, len } = fileRange(c);
    const flags = readFlags(c, ['direct', 'buf']);
    return { op: 'pread', file, off, len, direct: 'direct' in flags, buf: userBuf(c, flags.buf, len), line };
  },
  pwrite: (c, line) => {
    const { file, off, len } = fileRange(c);
    const flags = readFlags(c, ['direct', 'buf', 'data']);
    const buf = userBuf(c, flags.buf, len);
    return { op: 'pwrite', file, off, len, direct: 'direct' in flags, buf, data: data(c, flags.data), line };
  },
  load: (c, line) => {
    const { addr, len } = addrRange(c, ['map', 'buf']);
    c.done();
    return { op: 'load', addr, len, line };
  },
  store: (c, line) => {
    const { addr, len } = addrRange(c, ['map', 'buf']);
    return { op: 'store', addr, len, data: data(c, readFlags(c, ['data']).data), line };
  },
  fallocate: fallocate,
  truncate: (c, line) => {
    const file = fileName(c);
    const size = c.size('SIZE', 0);
    c.done();
    return { op: 'truncate', file, size, line };
  },
  fsync: (c, line) => fileOnly(c, 'fsync', line),
  fdatasync: (c, line) => fileOnly(c, 'fdatasync', line),
  writeback: (c, line) => fileOnly(c, 'writeback', line),
  msync: (c, line) => {
    const { addr, len } = addrRange(c, ['map']);
    c.done();
    return { op: 'msync', addr, len, line };
  },
  evict: (c, line) => {
    const file = fileName(c);
    const off = c.size('OFF', 0);
    c.done();
    return { op: 'evict', file, off, line };
  },
};

/**
 * The ops of one task line (after its label), with a leading `loop N` expanded.
 * Fails on an empty line, an empty op between `;`s or a `loop` that does not come first.
 */
export function parseTaskLine(env: Env, line: SourceLine): Op[] {
  const label = line.label!;
  const segments = splitSegments(env, line);
  if (segments.length === 0) {
    throw new LitmusError(env.file, line.no, label.end, `no ops after '${label.text}:'`);
  }
  const repeat = takeLoop(env, line.no, segments[0]);
  const ops = segments.map((seg) => parseOp(env, line.no, seg));
  const out: Op[] = [];
  for (let i = 0; i < repeat; i++) for (const op of ops) out.push(structuredClone(op));
  return out;
}

/** Splits at `;`. A trailing `;` is allowed; an empty op elsewhere is not. */
function splitSegments(env: Env, line: SourceLine): Segment[] {
  const segments: Segment[] = [];
  let cur: Token[] = [];
  for (const tok of line.tokens) {
    if (tok.kind !== 'semi') {
      cur.push(tok);
      continue;
    }
    if (cur.length === 0) throw new LitmusError(env.file, line.no, tok.col, "empty op before ';'");
    segments.push({ tokens: cur, end: tok.col });
    cur = [];
  }
  if (cur.length > 0) segments.push({ tokens: cur, end: line.end });
  return segments;
}

/** Strips a leading `loop N` from the line's first op and returns N (1 without a loop). */
function takeLoop(env: Env, lineNo: number, first: Segment): number {
  const head = first.tokens[0];
  if (head.kind !== 'word' || head.text !== 'loop') return 1;
  const c = new Cursor(env, lineNo, first.tokens.slice(1), first.end, 'loop N OP [; OP]...');
  const count = c.count('loop count', 1, LOOP_COUNT_MAX);
  first.tokens = c.rest();
  if (first.tokens.length === 0) c.fail(null, 'loop needs an op after the count');
  return count;
}

function parseOp(env: Env, lineNo: number, seg: Segment): Op {
  const [head, ...args] = seg.tokens;
  const c: Cursor = new Cursor(env, lineNo, args, seg.end, '');
  if (head.kind !== 'word') c.fail(head, 'expected an op, got a string');
  if (head.text === 'loop') c.fail(head, 'loop must come first on a task line (it repeats the whole line)');
  const name = OP_NAMES.find((n) => n === head.text);
  if (name === undefined) c.fail(head, `unknown op '${head.text}'${suggest(head.text, OP_NAMES)}`);
  return OP_PARSERS[name](new Cursor(env, lineNo, args, seg.end, OP_USAGE[name]), lineNo);
}

function fileName(c: Cursor): string {
  const tok = c.next('FILE');
  c.lookup(tok, ['file']);
  return tok.text;
}

function fileOnly(c: Cursor, op: 'fsync' | 'fdatasync' | 'writeback', line: number): Op {
  const file = fileName(c);
  c.done();
  return { op, file, line };
}

function fileRange(c: Cursor): { file: string; off: number; len: number } {
  const file = fileName(c);
  const off = c.size('OFF', 0);
  const len = c.size('LEN', 1);
  return { file, off, len };
}

function fallocate(c: Cursor, line: number): Op {
  const file = fileName(c);
  const mode = c.choice('MODE', FALLOC_MODES);
  const off = c.size('OFF', 0);
  const len = c.size('LEN', 1);
  const keep = readFlags(c, ['keep-size'])['keep-size'];
  if (keep !== undefined && (mode === 'collapse' || mode === 'insert')) {
    c.fail(keep, `keep-size cannot be used with ${mode} (fallocate(2) returns EINVAL)`);
  }
  return { op: 'fallocate', file, mode, off, len, keepSize: keep !== undefined || mode === 'punch', line };
}

/** `ADDR LEN` where ADDR is `NAME` or `NAME+OFF` in a region of one of `kinds`. */
function addrRange(c: Cursor, kinds: readonly DeclKind[]): { addr: Addr; len: number } {
  const tok = c.next('ADDR');
  const { addr, decl } = parseAddr(c, tok, kinds);
  const len = c.size('LEN', 1);
  checkRange(c, tok, addr, decl, len);
  return { addr, len };
}

function parseAddr(c: Cursor, tok: Token, kinds: readonly DeclKind[]): { addr: Addr; decl: Decl } {
  const plus = tok.text.indexOf('+');
  const nameTok = plus < 0 ? tok : { ...tok, text: tok.text.slice(0, plus), end: tok.col + plus };
  if (nameTok.text === '') c.fail(tok, `bad address '${tok.text}': expected NAME or NAME+OFFSET`);
  const decl = c.lookup(nameTok, kinds);
  const offset = plus < 0 ? 0 : offsetSum(c, tok, plus + 1);
  return { addr: { region: nameTok.text, offset }, decl };
}

/** `OFF+OFF+…` from `from` in `tok`: terms in any unit, summed (`m+1p+8` is 8 bytes into page 1). */
function offsetSum(c: Cursor, tok: Token, from: number): number {
  let sum = 0;
  let at = from;
  for (const term of tok.text.slice(from).split('+')) {
    const t = subToken(tok, at);
    sum += c.sizeOf({ ...t, text: term, end: t.col + term.length }, 'address offset', 0);
    at += term.length + 1;
  }
  return sum;
}

/** Fails unless [addr, addr + len) lies inside the region. */
function checkRange(c: Cursor, tok: Token, addr: Addr, decl: Decl, len: number): void {
  const what = `${decl.kind} '${addr.region}' (${decl.size} bytes)`;
  if (addr.offset >= decl.size) c.fail(tok, `${tok.text} is past the end of ${what}`);
  if (addr.offset + len > decl.size) c.fail(tok, `${tok.text} + ${len} bytes runs past the end of ${what}`);
}

/** The `buf=ADDR` of a pread/pwrite, which must hold `len` bytes, or null without one. */
function userBuf(c: Cursor, tok: Token | undefined, len: number): Addr | null {
  if (tok === undefined) return null;
  const { addr, decl } = parseAddr(c, tok, ['map', 'buf']);
  checkRange(c, tok, addr, decl, len);
  return addr;
}

function data(c: Cursor, tok: Token | undefined): number | null {
  return tok === undefined ? null : c.countOf(tok, 'data', 0, 255);
}

/** The optional flags after the arguments: bare (`direct`) or valued (`buf=m+8`), each once. */
function readFlags(c: Cursor, allowed: readonly FlagName[]): Flags {
  const flags: Flags = {};
  for (const tok of c.rest()) {
    if (tok.kind !== 'word') c.fail(tok, `unexpected ${shown(tok)} (usage: ${c.usage})`);
    const eq = tok.text.indexOf('=');
    const key = allowed.find((f) => f === (eq < 0 ? tok.text : tok.text.slice(0, eq)));
    if (key === undefined) {
      const hint = suggest(eq < 0 ? tok.text : tok.text.slice(0, eq), allowed);
      c.fail(tok, `unexpected '${tok.text}'${hint === '' ? ` (usage: ${c.usage})` : hint}`);
    }
    if (flags[key] !== undefined) c.fail(tok, `duplicate '${key}'`);
    flags[key] = flagValue(c, tok, key, eq);
  }
  return flags;
}

function flagValue(c: Cursor, tok: Token, key: FlagName, eq: number): Token {
  if (!FLAGS_VALUED.has(key)) {
    if (eq >= 0) c.fail(tok, `'${key}' takes no value`);
    return tok;
  }
  if (eq < 0) c.fail(tok, `'${key}' needs a value (${key}=...)`);
  if (eq === tok.text.length - 1) c.fail(tok, `missing value after '${key}='`);
  return subToken(tok, eq + 1);
}
