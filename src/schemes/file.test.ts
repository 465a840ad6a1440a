/**
 * Schemes from a file (explore/schemefile.ts): which references are files, what a bad file does (one line,
 * exit 2, through the built bin as a user runs it), a file scheme's name, and which schemes worker
 * threads can build. The installed-package runs (a file importing 'pagelab', --jobs 2) are in
 * src/index.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBuiltin } from '../explore/builtin.js';
import { checkScenario } from '../explore/check.js';
import { measureMatrix } from '../explore/matrix.js';
import {
  isSchemeFile,
  loadSchemeFile,
  resolveSchemeRef,
  SchemeRefError,
  workersCanLoad,
} from '../explore/schemefile.js';
import { findScheme, SCHEMES } from './index.js';
import type { Scheme } from './scheme.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pagelab.js');
const dir = mkdtempSync(join(tmpdir(), 'pagelab-scheme-file-'));

function pagelab(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

/** docs/examples/i-mmap-sem.js importing the built package by path (the bin runs the same dist/). */
function example(name: string, prelude = ''): void {
  const root = join(import.meta.dirname, '..', '..');
  const text = readFileSync(join(root, 'docs', 'examples', 'i-mmap-sem.js'), 'utf8');
  file(name, prelude + text.replace("from 'pagelab'", `from '${join(root, 'dist', 'index.js')}'`));
}

/** A scheme as a class, delegating every entry point to vfs2019's: only its shape matters here. */
const CLASS_SCHEME = `
export default new (class {
  name = 'declared-name';
  summary = 'a class';
  invalidateLock = false;
  created = [];
  setupInode(inode) { this.created.push(inode); }
  ops = { readIter() {}, writeIter() {}, fallocate() {}, setattrSize() {}, fsync() {}, fault() {}, pageMkwrite() {}, writepages() {} };
})();
`;

describe('scheme references', () => {
  it('a path or a .js/.mjs name is a file; no built-in name is (old replay strings keep their meaning)', () => {
    expect(isSchemeFile('./my.js')).toBe(true);
    expect(isSchemeFile('my.mjs')).toBe(true);
    expect(isSchemeFile('/abs/scheme')).toBe(true);
    expect(isSchemeFile('xfs')).toBe(false);
    expect(SCHEMES.filter((s) => isSchemeFile(s.name))).toEqual([]);
  });

  it('a file scheme is named by its path; the module keeps its methods and `this`', async () => {
    const path = file('class-scheme.mjs', CLASS_SCHEME);
    const s = await loadSchemeFile(path);
    expect(s.name).toBe(path);
    expect(s.summary).toBe('a class');
    const inode = {} as Parameters<Scheme['setupInode']>[0];
    s.setupInode(inode);
    expect((s as unknown as { created: unknown[] }).created).toEqual([inode]);
    expect(await loadSchemeFile(path)).toBe(s); // loaded once per thread
  });

  it('worker threads can build the registry schemes and file schemes, not a script-built object', async () => {
    const fromFile = await resolveSchemeRef(file('again.mjs', CLASS_SCHEME));
    expect(workersCanLoad(findScheme('xfs') as Scheme)).toBe(true);
    expect(workersCanLoad(fromFile)).toBe(true);
    expect(workersCanLoad({ ...(findScheme('vfs2019') as Scheme), name: 'mine' })).toBe(false);
    expect(workersCanLoad({ ...(findScheme('vfs2019') as Scheme) })).toBe(false); // a copy, not the registry's
  });

  it('a script-built scheme with jobs 2 runs in this thread, with the result of jobs 1', async () => {
    const mine: Scheme = { ...(findScheme('vfs2019') as Scheme), name: 'mine' };
    const scenario = findBuiltin('punch-vs-fault');
    if (!scenario) throw new Error('no punch-vs-fault');
    const opts = { scenarioRef: 'punch-vs-fault', schedules: 2000, seed: 1, strategy: 'dfs' as const };
    const one = await checkScenario(scenario, mine, { ...opts, jobs: 1 });
    const two = await checkScenario(scenario, mine, { ...opts, jobs: 2 });
    expect(one.verdict).toBe('stale-read');
    expect(two.replay).toBe(one.replay);
    expect(two.replay?.startsWith('punch-vs-fault:mine:')).toBe(true);
    expect(two.coverage).toEqual(one.coverage);
  });

  it('a matrix with a script-built scheme and jobs 2 runs its cells in this thread', async () => {
    const mine: Scheme = { ...(findScheme('vfs2019') as Scheme), name: 'mine' };
    const m = await measureMatrix({ schedules: 20, seed: 1, jobs: 2, schemes: [mine] });
    expect(m.schemes).toEqual([mine]);
    const cell = m.rows.find((r) => r.scenario === 'punch-vs-fault');
    expect(cell).toMatchObject({ scheme: 'mine', verdict: 'stale-read' });
    expect(cell?.replay?.startsWith('punch-vs-fault:mine:')).toBe(true);
  });

  it('an unknown name says a file is possible too', async () => {
    await expect(resolveSchemeRef('nosuch')).rejects.toThrow(SchemeRefError);
    await expect(resolveSchemeRef('nosuch')).rejects.toThrow(/or a path to a \.js scheme file/);
  });
});

describe('a bad scheme file is bad input: one line, exit 2', () => {
  const cases: [string, string | null, RegExp][] = [
    ['missing.js', null, /^pagelab: no such scheme file: \.\/missing\.js\n$/],
    [
      'throws.mjs',
      "throw new Error('boom\\nsecond line');",
      /^pagelab: cannot load scheme file \.\/throws\.mjs: boom\n$/,
    ],
    ['syntax.mjs', 'export default {', /^pagelab: cannot load scheme file \.\/syntax\.mjs: .+\n$/],
    [
      'nodefault.mjs',
      'export const x = 1;',
      /^pagelab: scheme file \.\/nodefault\.mjs is not a Scheme: .*default export/,
    ],
    [
      'noops.mjs',
      "export default { name: 'x', summary: '', invalidateLock: false, setupInode() {}, ops: { readIter() {}, writeIter() {}, fallocate() {}, setattrSize() {}, fsync() {}, writepages() {} } };",
      /^pagelab: scheme file \.\/noops\.mjs is not a Scheme: ops lacks fault, pageMkwrite\n$/,
    ],
    ['a:b.mjs', 'export default {};', /^pagelab: scheme file path '\.\/a:b\.mjs' contains ':'/],
  ];
  for (const [name, text, message] of cases) {
    it(`check --scheme ./${name}`, () => {
      if (text !== null) file(name, text);
      const r = pagelab('check', 'punch-vs-fault', '--scheme', `./${name}`);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    });
  }

  it('in matrix and replay too', () => {
    const m = pagelab('matrix', '--dfs-budget', '0', '--scheme', './missing.js', '--schedules', '1');
    expect([m.code, m.stderr]).toEqual([2, 'pagelab: no such scheme file: ./missing.js\n']);
    const r = pagelab('replay', 'punch-vs-fault:./missing.js:0');
    expect([r.code, r.stderr]).toEqual([2, 'pagelab: no such scheme file: ./missing.js\n']);
  });
});

describe('matrix --html with a file scheme', () => {
  it("embeds the failing cell's report, replayed under the file's scheme", () => {
    example('i-mmap-sem.mjs');
    const r = pagelab(
      'matrix',
      '--dfs-budget',
      '0',
      '--scheme',
      './i-mmap-sem.mjs',
      '--schedules',
      '20',
      '--jobs',
      '2',
      '--html',
      'm.html',
    );
    expect([r.code, r.stderr]).toEqual([0, '']);
    const page = readFileSync(join(dir, 'm.html'), 'utf8');
    expect(page).toContain('dio-write-vs-mmap-store:./i-mmap-sem.mjs:');
    // A site only the replayed run's trace holds (dio-write-vs-mmap-store's O_DIRECT write).
    expect(page).toContain('ext4_dio_write_iter:inode_lock');
  });
});

describe('worker threads load the file scheme', () => {
  // The example scheme, saying on stderr in which thread it is imported.
  function probe(): void {
    const say = [
      "import { isMainThread } from 'node:worker_threads';",
      "process.stderr.write(isMainThread ? 'loaded main=true\\n' : 'loaded main=false\\n');",
      '',
    ].join('\n');
    example('probe.mjs', say);
  }
  const loads = (stderr: string) =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('loaded'))
      .sort();

  it('check --strategy dfs --jobs 2: this thread and the unit worker', () => {
    probe();
    const r = pagelab(
      'check',
      'punch-vs-fault',
      '--scheme',
      './probe.mjs',
      '--strategy',
      'dfs',
      '--jobs',
      '2',
    );
    expect(r.code).toBe(0);
    expect(loads(r.stderr)).toEqual(['loaded main=false', 'loaded main=true']);
  });

  it('matrix --jobs 2: this thread and both cell workers', () => {
    probe();
    const r = pagelab(
      'matrix',
      '--dfs-budget',
      '0',
      '--scheme',
      './probe.mjs',
      '--schedules',
      '5',
      '--jobs',
      '2',
    );
    expect(r.code).toBe(0);
    expect(loads(r.stderr)).toEqual(['loaded main=false', 'loaded main=false', 'loaded main=true']);
  });
});
