/**
 * The package as a user gets it: `npm pack`, installed into an empty directory with no network,
 * then the command (`npx pagelab matrix`, `check`, `replay`), the API example of docs/api.md, and
 * the scheme of docs/examples/i-mmap-sem.js — which imports only 'pagelab' — run there.
 *
 * Offline: npm's cache holds the dependencies' tarballs (npm ci put them there) but not their
 * registry metadata, so the directory gets a lockfile naming each dependency's version and
 * integrity, taken from this repository's: `npm ci --offline` then needs nothing else. The
 * tarball is packed from dist/ as it is (`npm test` builds first), without running `prepare`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMES } from './schemes/index.js';

const ROOT = join(import.meta.dirname, '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  dev?: boolean;
  devOptional?: boolean;
  [k: string]: unknown;
}

/** The lockfile of a project depending on the tarball alone, its entries from the repo's lock. */
function lockFor(tarball: string): object {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const repo: Record<string, LockEntry> = JSON.parse(
    readFileSync(join(ROOT, 'package-lock.json'), 'utf8'),
  ).packages;
  const packages: Record<string, object> = {
    '': { name: 'user', dependencies: { pagelab: `file:${tarball}` } },
    'node_modules/pagelab': {
      version: pkg.version,
      resolved: `file:${tarball}`,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
    },
  };
  const queue = Object.keys(pkg.dependencies);
  while (queue.length > 0) {
    const key = `node_modules/${queue.shift()}`;
    if (packages[key]) continue;
    const { dev: _dev, devOptional: _devOptional, ...entry } = repo[key];
    packages[key] = entry;
    queue.push(...Object.keys({ ...entry.dependencies, ...entry.optionalDependencies }));
  }
  return { name: 'user', lockfileVersion: 3, requires: true, packages };
}

let dir = '';

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const pagelab = (...args: string[]) => run(NPX, ['--offline', 'pagelab', ...args]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pagelab-user-'));
  const tarball = execFileSync(NPM, ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], {
    cwd: ROOT,
    encoding: 'utf8',
  }).trim();
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({
      name: 'user',
      private: true,
      type: 'module',
      dependencies: { pagelab: `file:${tarball}` },
    }),
  );
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify(lockFor(tarball)));
  execFileSync(NPM, ['ci', '--offline', '--no-audit', '--no-fund', '--silent'], { cwd: dir });
  // The example as the package ships it (package.json `files` has docs/).
  copyFileSync(
    join(dir, 'node_modules', 'pagelab', 'docs', 'examples', 'i-mmap-sem.js'),
    join(dir, 'i-mmap-sem.js'),
  );
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed tarball, installed', () => {
  it('runs `npx pagelab matrix`: every built-in scheme, exit 0', () => {
    const r = pagelab('matrix', '--dfs-budget', '0', '--schedules', '20', '--json');
    // stderr: at most the heartbeat (a run over 10 s on a loaded machine), never an error.
    for (const line of r.stderr.split('\n').filter(Boolean))
      expect(line).toMatch(/^pagelab: matrix \d+\/\d+ cells \| \d+ findings? \| \d+ s/);
    expect(r.code).toBe(0);
    const m = JSON.parse(r.stdout);
    const schemes = [...new Set(m.rows.map((x: { scheme: string }) => x.scheme))];
    expect(schemes).toEqual(SCHEMES.map((s) => s.name));
    const cell = m.rows.find(
      (x: { scenario: string; scheme: string }) => x.scenario === 'punch-vs-fault' && x.scheme === 'vfs2019',
    );
    expect(cell.verdict).toBe('stale-read');
  });

  it('runs the API example of docs/api.md as printed there', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
    const code = /```js\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const printed = /prints\n\n```\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    expect(code).toContain("from 'pagelab'");
    writeFileSync(join(dir, 'example.mjs'), code);
    const r = run(process.execPath, ['example.mjs']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(printed);
    expect(r.stdout).toContain('vfs2019: stale-read');
  });

  it('the installed types check a TypeScript user of the API: its one misuse is the one error', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'node_modules', 'pagelab', 'package.json'), 'utf8'));
    expect(pkg.exports['.']).toMatchObject({ types: './dist/index.d.ts', import: './dist/index.js' });
    const user = [
      "import { check, findScheme, matrix, parseLitmus, SCHEMES, type CheckResult, type Scheme } from 'pagelab';",
      "const scheme: Scheme = findScheme('xfs') ?? SCHEMES[0];",
      "const r: Promise<CheckResult> = check(parseLitmus('litmus x'), scheme, { scenarioRef: 'x', schedules: 1, seed: 1 });",
      'void r;',
      'void matrix;',
      '',
    ].join('\n');
    const tsconfig = {
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        strict: true,
        noEmit: true,
        types: [],
      },
      files: ['user.ts'],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    // One compile: the misuse on the last line must be the only error.
    writeFileSync(join(dir, 'user.ts'), `${user}const n: number = matrix;\n`);
    const r = run(process.execPath, [tsc, '-p', '.']);
    expect(r.code).toBe(2);
    expect(r.stdout.trim().split('\n')).toEqual([
      "user.ts(6,7): error TS2322: Type '(opts: MatrixOptions) => Promise<Matrix>' is not assignable to type 'number'.",
    ]);
  });
});

describe('a scheme from a file that imports only the public API', () => {
  it('check: its locks are the ones that run (punch-vs-fault ok with i_mmap_sem in the fault, stale-read without)', () => {
    const ok = pagelab(
      'check',
      'punch-vs-fault',
      '--scheme',
      './i-mmap-sem.js',
      '--schedules',
      '300',
      '--json',
    );
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ scheme: './i-mmap-sem.js', verdict: 'ok', schedules: 300 });
    // The same scheme with ext4_filemap_fault's down_read(i_mmap_sem) taken out.
    const src = readFileSync(join(dir, 'i-mmap-sem.js'), 'utf8');
    const unlocked = src.replace(
      "withIMmapSemShared(t, inode, 'ext4_filemap_fault:down_read(i_mmap_sem)', () => filemapFault(t, vmf))",
      'filemapFault(t, vmf)',
    );
    expect(unlocked).not.toBe(src);
    writeFileSync(join(dir, 'no-fault-lock.js'), unlocked);
    const bad = pagelab(
      'check',
      'punch-vs-fault',
      '--scheme',
      './no-fault-lock.js',
      '--schedules',
      '300',
      '--json',
    );
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ scheme: './no-fault-lock.js', verdict: 'stale-read' });
  });

  it('a finding replays from its replay string, which names the file', () => {
    const args = ['dio-write-vs-mmap-store', '--scheme', './i-mmap-sem.js', '--schedules', '200', '--json'];
    const r = pagelab('check', ...args);
    expect(r.code).toBe(1);
    const j = JSON.parse(r.stdout);
    expect(j.verdict).toBe('lost-write');
    const replay: string = j.findings[0].replay;
    expect(replay.startsWith('dio-write-vs-mmap-store:./i-mmap-sem.js:')).toBe(true);
    const again = pagelab('replay', replay, '--json');
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stdout)).toMatchObject({ scheme: './i-mmap-sem.js', verdict: 'lost-write' });
  });

  it('matrix --scheme FILE gives the same cells with --jobs 1 and --jobs 2 (workers load the file)', () => {
    const matrix = (jobs: string) =>
      pagelab(
        'matrix',
        '--dfs-budget',
        '0',
        '--scheme',
        './i-mmap-sem.js',
        '--scheme',
        'vfs2019',
        '--schedules',
        '20',
        '--jobs',
        jobs,
        '--json',
      );
    const one = matrix('1');
    const two = matrix('2');
    expect(two.stderr).toBe('');
    expect(two.code).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    const rows: { scenario: string; scheme: string; verdict: string; replay: string | null }[] = JSON.parse(
      two.stdout,
    ).rows;
    expect([...new Set(rows.map((x) => x.scheme))]).toEqual(['./i-mmap-sem.js', 'vfs2019']);
    const cell = (scenario: string, scheme: string) =>
      rows.find((x) => x.scenario === scenario && x.scheme === scheme);
    expect(cell('punch-vs-fault', './i-mmap-sem.js')?.verdict).toBe('ok');
    expect(cell('punch-vs-fault', 'vfs2019')?.verdict).toBe('stale-read');
    expect(cell('dio-write-vs-mmap-store', './i-mmap-sem.js')?.replay).toMatch(
      /^dio-write-vs-mmap-store:\.\/i-mmap-sem\.js:/,
    );
  });

  it('check --jobs 2 under a DFS: the same result as --jobs 1', () => {
    const dfs = (jobs: string) =>
      pagelab(
        'check',
        'punch-vs-fault',
        '--scheme',
        './i-mmap-sem.js',
        '--strategy',
        'dfs',
        '--jobs',
        jobs,
        '--json',
      );
    const one = dfs('1');
    const two = dfs('2');
    expect(two.stderr).toBe('');
    expect(two.code).toBe(0);
    expect(two.stdout).toBe(one.stdout);
    expect(JSON.parse(two.stdout)).toMatchObject({ scheme: './i-mmap-sem.js', verdict: 'ok' });
  });
});
