/** A scenario with `node` lines at the command line (issue 19): n/a for check, exit 2 for replay. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

const DIR = mkdtempSync(join(tmpdir(), 'pagelab-nodes-'));
const FILE = join(DIR, 'two-nodes.litmus');
writeFileSync(
  FILE,
  'litmus two-nodes\nfile f 1p written\nP0: pwrite f 0 8\nP1: pread f 0 8 direct\nnode A: P0\nnode B: P1\n',
);
const REASON =
  'gfs2 runs on one node in the model (one page cache, no DLM); the scenario puts its tasks on 2 nodes (docs/cluster.md)';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  });
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  });
  try {
    return { code: await main(['node', 'pagelab', ...args]), stdout, stderr };
  } finally {
    err.mockRestore();
    out.mockRestore();
  }
}

describe('pagelab with nodes', () => {
  it('check: n/a with the reason, exit 0, nothing run', async () => {
    const r = await run(['check', FILE, '--scheme', 'gfs2', '--jobs', '1']);
    // The verdict line wraps at 100 columns (report/text.ts): joined, it is the one sentence.
    const verdict = r.stdout.trim().replace(/\n +/g, ' ');
    expect([r.code, verdict, r.stderr]).toEqual([0, `two-nodes under gfs2: n/a — ${REASON}`, '']);
  });

  it('replay: one line on stderr, exit 2 (one page cache would run both nodes)', async () => {
    const r = await run(['replay', `${FILE}:gfs2:`]);
    expect([r.code, r.stderr]).toEqual([2, `pagelab: ${FILE}:gfs2:: ${REASON}\n`]);
  });
});
