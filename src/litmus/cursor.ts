/**
 * Reading one statement (or one op) token by token: arguments, numbers, sizes and names, each
 * failure a LitmusError at the token that caused it.
 */
import { SIZE_BYTES_MAX } from './ast.js';
import { LitmusError } from './error.js';
import type { Token } from './lex.js';

export type DeclKind = 'file' | 'map' | 'buf';

/** A declared name: a file, a map or a buf, with its size in bytes. */
export interface Decl {
  kind: DeclKind;
  size: number;
  line: number;
}

/** What a cursor needs from the scenario being parsed. */
export interface Env {
  readonly file: string;
  readonly pageSize: number;
  readonly blockSize: number;
  /** A name declared on an earlier line. */
  decl(name: string): Decl | undefined;
  /** A name declared anywhere in the text (for "declare it before use"). */
  declAnywhere(name: string): Decl | undefined;
  /** The names declared so far with this kind (for "did you mean"). */
  names(kind: DeclKind): string[];
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX = /^0[xX][0-9a-fA-F]+$/;
const UNITS = /^(0|[1-9][0-9]*)([pb])$/;

/** A decimal or 0x hex number, or null. */
export function parseNumber(text: string): number | null {
  if (DECIMAL.test(text) || HEX.test(text)) return Number(text);
  return null;
}

/** A byte count: a number, `Np` (pages) or `Nb` (blocks); null when malformed. */
export function parseSize(text: string, pageSize: number, blockSize: number): number | null {
  const n = parseNumber(text);
  if (n !== null) return n;
  const m = UNITS.exec(text);
  if (m === null) return null;
  return Number(m[1]) * (m[2] === 'p' ? pageSize : blockSize);
}

/** Levenshtein distance, for "did you mean". */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = cur;
  }
  return prev[b.length];
}

/** ` (did you mean 'x'?)` for the closest candidate within two edits, else ''. */
export function suggest(word: string, candidates: readonly string[]): string {
  let best = '';
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance && d < word.length) {
      best = c;
      bestDistance = d;
    }
  }
  return best === '' ? '' : ` (did you mean '${best}'?)`;
}

/** A token as an error message shows it: `'word'`, `';'` or `a string`. */
export function shown(tok: Token): string {
  return tok.kind === 'string' ? 'a string' : `'${tok.text}'`;
}

/** The part of `tok` after its first `skip` characters, as a token of its own. */
export function subToken(tok: Token, skip: number): Token {
  return { kind: tok.kind, text: tok.text.slice(skip), col: tok.col + skip, end: tok.end };
}

/** The arguments of one statement or op: `usage` is shown when one is missing or extra. */
export class Cursor {
  private i = 0;

  constructor(
    readonly env: Env,
    readonly line: number,
    private readonly tokens: readonly Token[],
    /** Column just past the statement, where a missing argument is reported. */
    private readonly end: number,
    readonly usage: string,
  ) {}

  /** Throws a LitmusError at `tok`, or at the end of the statement when `tok` is null. */
  fail(tok: Token | null, reason: string): never {
    throw new LitmusError(this.env.file, this.line, tok === null ? this.end : tok.col, reason);
  }

  more(): boolean {
    return this.i < this.tokens.length;
  }

  /** The next argument, which must be a word; `arg` names it in the error when it is missing. */
  next(arg: string): Token {
    if (!this.more()) this.fail(null, `missing ${arg} (usage: ${this.usage})`);
    const tok = this.tokens[this.i++];
    if (tok.kind !== 'word') this.fail(tok, `expected ${arg}, got ${shown(tok)} (usage: ${this.usage})`);
    return tok;
  }

  /** The next argument, which must be a quoted string. */
  nextString(arg: string): Token {
    if (!this.more()) this.fail(null, `missing ${arg} (usage: ${this.usage})`);
    const tok = this.tokens[this.i++];
    if (tok.kind !== 'string')
      this.fail(tok, `expected a quoted string, got ${shown(tok)} (usage: ${this.usage})`);
    return tok;
  }

  /** The arguments not read yet. */
  rest(): Token[] {
    const r = this.tokens.slice(this.i);
    this.i = this.tokens.length;
    return r;
  }

  /** Fails on the first argument not read. */
  done(): void {
    if (!this.more()) return;
    const tok = this.tokens[this.i];
    this.fail(tok, `unexpected ${shown(tok)} (usage: ${this.usage})`);
  }

  /** A plain number in [min, max] (no units). */
  count(arg: string, min: number, max: number): number {
    return this.countOf(this.next(arg), arg, min, max);
  }

  countOf(tok: Token, arg: string, min: number, max: number): number {
    const n = parseNumber(tok.text);
    if (n === null) this.badNumber(tok, arg, 'a number such as 64 or 0x40');
    if (n < min || n > max) this.fail(tok, `${arg} ${tok.text} is out of range (${min}..${max})`);
    return n;
  }

  /** A byte count (`96`, `0x60`, `2p`, `1b`) of at least `min` bytes. */
  size(arg: string, min: number): number {
    return this.sizeOf(this.next(arg), arg, min);
  }

  sizeOf(tok: Token, arg: string, min: number): number {
    const n = parseSize(tok.text, this.env.pageSize, this.env.blockSize);
    if (n === null) this.badNumber(tok, arg, 'bytes (96, 0x60), pages (2p) or blocks (1b)');
    if (n < min) this.fail(tok, `${arg} must be at least ${min} (got ${tok.text})`);
    if (n > SIZE_BYTES_MAX) this.fail(tok, `${arg} ${tok.text} is too large (max ${SIZE_BYTES_MAX} bytes)`);
    return n;
  }

  /** One of `choices`, named `arg` in errors. */
  choice<T extends string>(arg: string, choices: readonly T[]): T {
    const tok = this.next(arg);
    const found = choices.find((c) => c === tok.text);
    if (found !== undefined) return found;
    this.fail(tok, `bad ${arg} '${tok.text}': expected ${choices.join(', ')}${suggest(tok.text, choices)}`);
  }

  /** A declared name whose kind is one of `kinds`. */
  lookup(tok: Token, kinds: readonly DeclKind[]): Decl {
    const what = kinds.join(' or ');
    const d = this.env.decl(tok.text);
    if (d === undefined) {
      const later = this.env.declAnywhere(tok.text);
      if (later !== undefined && kinds.includes(later.kind)) {
        this.fail(
          tok,
          `unknown ${what} '${tok.text}' (declared at line ${later.line}: declare it before use)`,
        );
      }
      const known = kinds.flatMap((k) => this.env.names(k));
      this.fail(tok, `unknown ${what} '${tok.text}'${suggest(tok.text, known)}`);
    }
    if (!kinds.includes(d.kind)) this.fail(tok, `'${tok.text}' is a ${d.kind}, not a ${what}`);
    return d;
  }

  private badNumber(tok: Token, arg: string, expected: string): never {
    const digits = tok.text.replace(/[pb]$/, '');
    if (/^0[0-9]+$/.test(digits)) {
      this.fail(tok, `bad ${arg} '${tok.text}': leading zeros are not allowed (octal? write 0x hex)`);
    }
    this.fail(tok, `bad ${arg} '${tok.text}': expected ${expected}`);
  }
}
