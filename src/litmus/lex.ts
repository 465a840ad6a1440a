/**
 * Splits litmus text into lines of tokens. A line is a statement; `#` starts a comment (outside
 * a string); `;` is a token of its own; a string is `"..."` with the escapes `\"` and `\\`.
 * A first word `NAME:` (or `NAME:op`) is a task label.
 */
import { LitmusError } from './error.js';

export interface Token {
  kind: 'word' | 'string' | 'semi';
  /** The word, the decoded string, or ';'. */
  text: string;
  /** 1-based column of the first character. */
  col: number;
  /** 1-based column just past the last character. */
  end: number;
}

export interface SourceLine {
  /** 1-based line number. */
  no: number;
  /** The task label (`P0` of `P0:`), or null for a statement line. */
  label: Token | null;
  tokens: Token[];
  /** 1-based column just past the last token (where a missing argument would go). */
  end: number;
}

const TASK_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The non-empty lines of `text`. Throws LitmusError on an unterminated string or bad label. */
export function lexLines(text: string, file: string): SourceLine[] {
  const out: SourceLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const src = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
    const tokens = lexLine(src, i + 1, file);
    if (tokens.length === 0) continue;
    const label = splitLabel(tokens, i + 1, file);
    const end = tokens.length > 0 ? tokens[tokens.length - 1].end : label!.end;
    out.push({ no: i + 1, label, tokens, end });
  }
  return out;
}

function lexLine(src: string, lineNo: number, file: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '#') {
      break;
    } else if (c === ';') {
      tokens.push({ kind: 'semi', text: ';', col: i + 1, end: i + 2 });
      i++;
    } else if (c === '"') {
      const tok = lexString(src, i, lineNo, file);
      tokens.push(tok);
      i = tok.end - 1;
    } else {
      let j = i;
      while (j < src.length && !' \t#;"'.includes(src[j])) j++;
      tokens.push({ kind: 'word', text: src.slice(i, j), col: i + 1, end: j + 1 });
      i = j;
    }
  }
  return tokens;
}

function lexString(src: string, start: number, lineNo: number, file: string): Token {
  let text = '';
  for (let i = start + 1; i < src.length; i++) {
    const c = src[i];
    if (c === '"') return { kind: 'string', text, col: start + 1, end: i + 2 };
    if (c === '\\') {
      const next = src[i + 1];
      if (next !== '"' && next !== '\\') {
        const shown = next === undefined ? '\\' : `\\${next}`;
        throw new LitmusError(file, lineNo, i + 1, `unknown escape '${shown}' in string (only \\" and \\\\)`);
      }
      text += next;
      i++;
    } else {
      text += c;
    }
  }
  throw new LitmusError(
    file,
    lineNo,
    start + 1,
    'unterminated string (a string ends with " on the same line)',
  );
}

/** Removes and returns a leading `NAME:` label; `P0:pread` leaves `pread` as the first token. */
function splitLabel(tokens: Token[], lineNo: number, file: string): Token | null {
  const first = tokens[0];
  const colon = first.kind === 'word' ? first.text.indexOf(':') : -1;
  if (colon < 0) return null;
  const name = first.text.slice(0, colon);
  if (name === '') throw new LitmusError(file, lineNo, first.col, "missing task name before ':'");
  if (!TASK_NAME.test(name)) {
    throw new LitmusError(
      file,
      lineNo,
      first.col,
      `bad task name '${name}' (use P0, P1, ... or a name matching [A-Za-z][A-Za-z0-9_]*)`,
    );
  }
  const label: Token = { kind: 'word', text: name, col: first.col, end: first.col + colon + 1 };
  const rest = first.text.slice(colon + 1);
  if (rest === '') tokens.shift();
  else tokens[0] = { kind: 'word', text: rest, col: label.end, end: first.end };
  return label;
}
