/**
 * Builds pagelab's C helpers with the machine's gcc on first use and caches the binary, keyed by
 * a hash of the source and the flags: a changed source is rebuilt, an unchanged one never. Shared
 * by `pagelab native` (litmus.c) and the differential test (src/fsx/native/replay.c).
 *
 * The cache is $XDG_CACHE_HOME/pagelab (default ~/.cache/pagelab), or the OS temporary directory
 * when that cannot be written. A build goes to a temporary name in the cache and is renamed into
 * place, so two processes building at once never run a half-written binary. Binaries of earlier
 * versions of a source are kept: another checkout on the machine may be running one.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The helper cannot be built (no gcc, a compile error): one line for the user. */
export class NativeBuildError extends Error {}

const FLAGS = ['-O2', '-Wall', '-pthread'];

function cacheDirs(): string[] {
  const xdg = process.env.XDG_CACHE_HOME;
  const home = xdg && xdg !== '' ? xdg : join(homedir(), '.cache');
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return [join(home, 'pagelab'), join(tmpdir(), `pagelab-${uid}`)];
}

function writableDir(dirs: readonly string[]): string {
  for (const d of dirs) {
    try {
      mkdirSync(d, { recursive: true });
      return d;
    } catch {
      // try the next one
    }
  }
  throw new NativeBuildError(`no cache directory can be created (tried ${dirs.join(', ')})`);
}

/**
 * The path of the binary built from `source` (a .c file), building it if the cache lacks it.
 * Throws NativeBuildError when gcc is missing or fails.
 */
export function buildHelper(source: string, name: string): string {
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (e) {
    throw new NativeBuildError(`cannot read ${source}: ${(e as Error).message}`);
  }
  const hash = createHash('sha256').update(FLAGS.join(' ')).update('\0').update(text).digest('hex');
  const dir = writableDir(cacheDirs());
  const bin = join(dir, `${name}-${hash.slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync('gcc', [...FLAGS, '-o', tmp, source], { encoding: 'utf8' });
  if (r.error) {
    throw new NativeBuildError(
      `gcc is needed to build ${name} (${source}) and could not be run: ${r.error.message}`,
    );
  }
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    const first = r.stderr.split('\n').find((l) => l.includes('error')) ?? r.stderr.split('\n')[0];
    throw new NativeBuildError(`gcc failed on ${source}: ${first}`);
  }
  renameSync(tmp, bin);
  return bin;
}

/**
 * Where a C source shipped beside this module lives: next to it when running from src/ (tests),
 * or in src/ of the package when running the compiled dist/.
 */
export function helperSource(moduleDir: string, sub: string, file: string): string {
  const candidates = [
    join(moduleDir, sub, file),
    join(moduleDir, '..', '..', 'src', ...moduleDirTail(moduleDir), sub, file),
  ];
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** The last path component of a module's directory (`native`, `fsx`): its room under src/. */
function moduleDirTail(moduleDir: string): string[] {
  const parts = moduleDir.split(/[\\/]/);
  return [parts[parts.length - 1]];
}
