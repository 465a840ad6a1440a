/**
 * A minimised finding as a ready `.litmus` file: the program, a doc line, and `forbid`/`expect`
 * lines naming the kind it shows, so copying it into scenarios/ makes it a built-in scenario.
 */
import { litmusText, type Program, programKey } from './space.js';

export interface FoundIn {
  scheme: string;
  kind: string;
  /** The replay string of the minimised program's shrunk schedule. */
  replay: string;
  signature: string;
}

export function findingLitmus(p: Program, name: string, f: FoundIn): string {
  const body = litmusText(p, name).split('\n');
  // litmus NAME first (the grammar asks it), then the comments and the doc line.
  const head = [
    body[0],
    `# Found by pagelab campaign under ${f.scheme}; signature: ${f.signature}`,
    `# replay: pagelab replay '${f.replay}'`,
    `doc "${`${f.kind} under ${f.scheme}: ${programKey(p)}`.replace(/["\\]/g, '')}"`,
  ];
  return `${[...head, ...body.slice(1).filter((l) => l !== ''), '', `forbid ${f.kind}`, `expect ${f.kind}`].join('\n')}\n`;
}
