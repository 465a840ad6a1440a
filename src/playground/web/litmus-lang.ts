/**
 * Litmus syntax highlighting for CodeMirror: a stream tokenizer that follows src/litmus/lex.ts
 * (`#` comments, `"..."` strings with `\"` and `\\`, `;`, a leading `NAME:` task label) and names
 * statements and ops from the parser's own tables, so a new keyword is highlighted without an edit.
 */
import { StreamLanguage, type StringStream } from '@codemirror/language';
import { OP_NAMES } from '../../litmus/ops.js';
import { STATEMENT_USAGE } from '../../litmus/parse.js';

const STATEMENTS = new Set(Object.keys(STATEMENT_USAGE));
const OPS = new Set<string>(OP_NAMES);

interface State {
  /** Words read on this line so far. */
  words: number;
}

function word(stream: StringStream, state: State): string | null {
  stream.eatWhile(/[^\s#;"]/);
  const w = stream.current();
  const first = state.words++ === 0;
  if (first && /^[A-Za-z][A-Za-z0-9_]*:/.test(w)) {
    // `P0:` or `P0:op`: the label, then the op glued to it.
    stream.backUp(w.length - w.indexOf(':') - 1);
    state.words = 0;
    return 'labelName';
  }
  if (first && STATEMENTS.has(w)) return 'keyword';
  if (first && OPS.has(w)) return 'operatorKeyword';
  if (/^(0x[0-9a-f]+|\d+)[pbk]?$/i.test(w)) return 'number';
  if (/^[a-z_]+=/.test(w)) return 'propertyName';
  return null;
}

export const litmusLanguage = StreamLanguage.define<State>({
  name: 'litmus',
  startState: () => ({ words: 0 }),
  token(stream, state) {
    if (stream.sol()) state.words = 0;
    if (stream.eatSpace()) return null;
    const c = stream.peek();
    if (c === '#') {
      stream.skipToEnd();
      return 'comment';
    }
    if (c === ';') {
      stream.next();
      state.words = 0;
      return 'punctuation';
    }
    if (c === '"') {
      stream.next();
      for (let ch = stream.next(); ch !== undefined; ch = stream.next()) {
        if (ch === '\\') stream.next();
        else if (ch === '"') break;
      }
      state.words++;
      return 'string';
    }
    return word(stream, state);
  },
  languageData: { commentTokens: { line: '#' } },
});
