/**
 * Tests name schemes and built-in scenarios by string; these look them up and fail the test at once
 * on a name that does not exist (rather than passing `undefined` on).
 */
import { findBuiltin } from '../explore/builtin.js';
import type { Scenario } from '../litmus/ast.js';
import { findScheme } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';

export function scheme(name: string): Scheme {
  const s = findScheme(name);
  if (!s) throw new Error(name);
  return s;
}

export function builtin(name: string): Scenario {
  const s = findBuiltin(name);
  if (!s) throw new Error(name);
  return s;
}
