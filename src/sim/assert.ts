/**
 * A broken invariant of the model. The scheduler catches it and turns it into an `invariant`
 * finding with the replay string of the run, so an assertion never crashes the explorer.
 */
export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

export function assert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new InvariantError(typeof message === 'string' ? message : message());
}
