/**
 * Schemes from a file: `--scheme ./my-scheme.js` names an ESM module whose default export
 * implements `Scheme` (docs/writing-a-scheme.md). A file scheme is known by its path as the user
 * gave it, never by the `name` its module declares: that path is what a replay string, a matrix
 * column and a worker task carry, so a replay string round-trips (`<scenario>:<path>:<schedule>`)
 * and a worker thread loads the very same file (worker threads share the process's cwd). A built-in
 * name never contains '/' nor ends in .js/.mjs, so every old replay string keeps its meaning.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findScheme, SCHEMES } from '../schemes/index.js';
import type { Scheme } from '../schemes/scheme.js';

/** A scheme reference that cannot be resolved: the CLI reports it as bad input (exit 2). */
export class SchemeRefError extends Error {}

/** Is `ref` a path to a scheme file rather than a registry name? */
export function isSchemeFile(ref: string): boolean {
  return ref.includes('/') || /\.m?js$/.test(ref);
}

/** The entry points FileOperations requires (fsyncRecorded is optional). */
const REQUIRED_OPS = [
  'readIter',
  'writeIter',
  'fallocate',
  'setattrSize',
  'fsync',
  'fault',
  'pageMkwrite',
  'writepages',
];

/** Why `s` is not a Scheme, or null: a user's module is checked before anything runs it. */
function shapeProblem(s: unknown): string | null {
  if (typeof s !== 'object' || s === null)
    return 'its default export is not an object (export default a Scheme)';
  const o = s as Record<string, unknown>;
  if (typeof o.name !== 'string') return "its default export has no string 'name'";
  if (typeof o.summary !== 'string') return "its default export has no string 'summary'";
  if (typeof o.invalidateLock !== 'boolean') return "its default export has no boolean 'invalidateLock'";
  if (typeof o.setupInode !== 'function') return "its default export has no function 'setupInode'";
  if (o.notApplicable !== undefined && typeof o.notApplicable !== 'function')
    return "'notApplicable' is not a function";
  if (typeof o.ops !== 'object' || o.ops === null) return "its default export has no 'ops' object";
  const ops = o.ops as Record<string, unknown>;
  const missing = REQUIRED_OPS.filter((k) => typeof ops[k] !== 'function');
  if (missing.length > 0) return `ops lacks ${missing.join(', ')}`;
  return null;
}

/** The first line of an error's message: a bad file is reported in one line. */
function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0];
}

async function load(ref: string): Promise<Scheme> {
  // The replay string is split at its last two ':' (explore/run.ts): a ':' in the path breaks it.
  if (ref.includes(':'))
    throw new SchemeRefError(`scheme file path '${ref}' contains ':', which replay strings cannot carry`);
  const path = resolve(ref);
  if (!existsSync(path)) throw new SchemeRefError(`no such scheme file: ${ref}`);
  let mod: { default?: unknown };
  try {
    mod = await import(pathToFileURL(path).href);
  } catch (e) {
    throw new SchemeRefError(`cannot load scheme file ${ref}: ${firstLine(e)}`);
  }
  const problem = shapeProblem(mod.default);
  if (problem) throw new SchemeRefError(`scheme file ${ref} is not a Scheme: ${problem}`);
  // Named by its path, everything else from the module: the prototype keeps a class's methods
  // and `this`, and any field a later Scheme grows.
  return Object.create(mod.default as Scheme, { name: { value: ref, enumerable: true } }) as Scheme;
}

/** One load per file and thread: every cell of a matrix shares it. */
const loaded = new Map<string, Promise<Scheme>>();
/** The schemes those loads produced, by path. */
const fromFiles = new Map<string, Scheme>();

/** A scheme file, loaded once; throws SchemeRefError for a bad one. */
export function loadSchemeFile(ref: string): Promise<Scheme> {
  let p = loaded.get(ref);
  if (!p) {
    p = load(ref).then((s) => {
      fromFiles.set(ref, s);
      return s;
    });
    loaded.set(ref, p);
  }
  return p;
}

/**
 * Can a worker thread get this very scheme from its name? True for the registry's and for those
 * loaded from a file; false for a Scheme object a script built itself, which exists in its thread
 * only: the explorer then runs in this thread (the outcome does not depend on the number of jobs).
 */
export function workersCanLoad(scheme: Scheme): boolean {
  return findScheme(scheme.name) === scheme || fromFiles.get(scheme.name) === scheme;
}

/** A registry name or a scheme file (what `--scheme` takes); throws SchemeRefError. */
export async function resolveSchemeRef(ref: string): Promise<Scheme> {
  if (isSchemeFile(ref)) return loadSchemeFile(ref);
  const s = findScheme(ref);
  if (!s) {
    const known = SCHEMES.map((x) => x.name).join(', ');
    throw new SchemeRefError(`unknown scheme '${ref}' (known: ${known}; or a path to a .js scheme file)`);
  }
  return s;
}
