/**
 * No stack trace, ever, on any input (issue 14): random litmus text — random bytes, and
 * grammar-shaped mutations of the built-in scenarios — given to `pagelab check` with a bounded
 * search must end with exit 0, 1, 2 or 3 (the checker's budget ran out: inconclusive, README), and an
 * exit 2 with one line on stderr. In-process (main()),
 * fixed seeds, a few hundred runs: cheap enough for CI.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { builtinScenarios } from '../explore/builtin.js';
import { main } from './main.js';

const DIR = mkdtempSync(join(tmpdir(), 'pagelab-badinput-'));
const SCHEMES = ['xfs', 'pagelab', 'bcachefs', 'gfs2-2021', 'bkl'];

/** `pagelab check FILE --scheme S` on `text`, bounded: the exit code and what went to stderr. */
async function check(text: string, scheme: string): Promise<{ code: number; stderr: string }> {
  const file = join(DIR, 'input.litmus');
  writeFileSync(file, text);
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const args = ['check', file, '--scheme', scheme, '--schedules', '2', '--jobs', '1', '--no-shrink'];
    const code = await main(['node', 'pagelab', ...args, '--step-bound', '20000']);
    return { code, stderr };
  } catch (e) {
    // main() let it through: bin/pagelab.js would print a stack trace.
    return { code: -1, stderr: `${stderr}${(e as Error).stack}` };
  } finally {
    spy.mockRestore();
    out.mockRestore();
  }
}

function expectClean(r: { code: number; stderr: string }, text: string): void {
  const context = `input:\n${text}\nstderr:\n${r.stderr}`;
  expect([0, 1, 2, 3], context).toContain(r.code);
  expect(r.stderr, context).not.toMatch(/\n\s+at /);
  if (r.code === 2) expect(r.stderr.trim().split('\n'), context).toHaveLength(1);
}

/** Numbers a mutation may put in place of another token: edges of every limit the parser has. */
const NUMBERS = [
  '0',
  '1',
  '1p',
  '2p',
  '16',
  '32',
  '7',
  '8',
  '63',
  '65',
  '3p',
  '0p',
  '1b',
  '4097',
  '65536',
  '131072',
  '1048577',
  '16777217',
  '1073741824',
  '1073741825',
  '4294967296',
  '9007199254740993',
  '99999999999999999999999',
  '0x40000000',
  '0xffffffff',
  '1e3',
  '-1',
  '00',
  '1.5p',
];
const WORDS = [
  'direct',
  'buf=m',
  'buf=b',
  'data=0xff',
  'data=256',
  'keep-size',
  'shared',
  'private',
  'written',
  'hole',
  'cached',
  'dirty',
  'unwritten',
  'loop',
  'P9:',
  ';',
  '#',
  '"',
  'f',
  'g',
  'm',
  'm+1p',
  'page',
  'block',
  'disk',
  'file',
  'map',
  'buf',
  'option',
  'forbid',
  'expect',
];

/** Numbers the parser accepts as sizes: an added op mostly parses, and runs. */
const VALID_NUMBERS = ['0', '1', '7', '16', '32', '63', '65', '1p', '2p', '3p', '1b', '4097'];

/** Ops a mutation may add as a task line; N is replaced by numbers from NUMBERS. */
const OPS = [
  'pread f N N',
  'pread f N N direct buf=m',
  'pwrite f N N direct',
  'pwrite f N N buf=m+N',
  'load m+N N',
  'store m+N N',
  'fallocate f insert N N',
  'fallocate f collapse N N',
  'fallocate f punch N N',
  'fallocate f zero N N keep-size',
  'fallocate f alloc N N',
  'truncate f N',
  'fsync f',
  'writeback f',
  'evict f N',
  'msync m N',
  'loop N truncate f N; pwrite f N N',
];

type Mutation =
  | { k: 'op'; task: number; op: string; nums: string[] }
  | { k: 'number'; at: number; with: string }
  | { k: 'word'; at: number; with: string }
  | { k: 'drop'; at: number }
  | { k: 'dupLine'; at: number }
  | { k: 'dropLine'; at: number }
  | { k: 'cut'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('op' as const),
      task: fc.nat(2),
      op: fc.constantFrom(...OPS),
      nums: fc.array(fc.constantFrom(...VALID_NUMBERS), { minLength: 4, maxLength: 4 }),
    }),
  },
  fc.record({ k: fc.constant('number' as const), at: fc.nat(), with: fc.constantFrom(...NUMBERS) }),
  fc.record({ k: fc.constant('word' as const), at: fc.nat(), with: fc.constantFrom(...WORDS, ...NUMBERS) }),
  fc.record({ k: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('dupLine' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('dropLine' as const), at: fc.nat() }),
  fc.record({ k: fc.constant('cut' as const), at: fc.nat() }),
);

/** Applies a mutation to the statement lines of a scenario (comments dropped). */
function mutate(lines: string[][], m: Mutation): string[][] {
  const out = lines.map((l) => [...l]);
  if (m.k === 'op') {
    let n = 0;
    const op = m.op.replace(/N/g, () => m.nums[n++ % m.nums.length]);
    // The built-in scenarios name their file f and a map m in most cases; when not, a parse error.
    out.push([`P${m.task}:`, ...op.split(' ')]);
    return out;
  }
  if (out.length === 0) return out;
  const tokens = out.flatMap((l, i) => l.map((_, j) => [i, j] as const));
  if (m.k === 'dupLine' || m.k === 'dropLine' || m.k === 'cut') {
    const i = m.at % out.length;
    if (m.k === 'dupLine') out.splice(i, 0, [...out[i]]);
    else if (m.k === 'dropLine') out.splice(i, 1);
    else out.splice(i);
    return out;
  }
  if (tokens.length === 0) return out;
  const [i, j] = tokens[m.at % tokens.length];
  if (m.k === 'drop') out[i].splice(j, 1);
  else if (m.k === 'number') {
    // Replace a numeric token, or the nearest one after it, keeping a unit the token had.
    const at = tokens.slice(m.at % tokens.length).find(([a, b]) => /^(0x)?[0-9]/.test(out[a][b]));
    if (at) out[at[0]][at[1]] = m.with;
  } else out[i].splice(j, 0, m.with);
  return out;
}

const BUILTIN_LINES = builtinScenarios().map((s) =>
  s.text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '')
    .map((l) => l.split(/\s+/)),
);

describe('no stack trace on any litmus text (issue 14)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('the 1 GiB file the docs once allowed: one line, exit 2', async () => {
    const r = await check('litmus big\nfile f 1073741824 written\nP0: pread f 0 1p\n', 'xfs');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^pagelab: .*input\.litmus:2:8: SIZE 1073741824 is too large \(max 16777216 bytes\)\n$/,
    );
  });

  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
        ),
        fc.constantFrom(...SCHEMES),
        async (text, scheme) => expectClean(await check(text, scheme), text),
      ),
      { seed: 14, numRuns: 150 },
    );
  });

  it('grammar-shaped mutations of the built-in scenarios', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(BUILTIN_LINES.length - 1),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(...SCHEMES),
        async (which, ms, scheme) => {
          const lines = ms.reduce(mutate, BUILTIN_LINES[which]);
          const text = `${lines.map((l) => l.join(' ')).join('\n')}\n`;
          expectClean(await check(text, scheme), text);
        },
      ),
      { seed: 14, numRuns: 250 },
    );
  });
});
