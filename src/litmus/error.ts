/**
 * A litmus file the parser rejects. The message is exactly `FILE:LINE:COL: reason`, one line,
 * so the CLI prints `err.message` and never a stack trace.
 */
export class LitmusError extends Error {
  override readonly name = 'LitmusError';
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column (UTF-16 code units) of the offending token, or just past the last one. */
  readonly column: number;
  readonly reason: string;

  constructor(file: string, line: number, column: number, reason: string) {
    super(`${file}:${line}:${column}: ${reason}`);
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}
