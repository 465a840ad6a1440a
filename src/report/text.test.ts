import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseReplayString } from '../explore/run.js';
import { checkReport, hostileReport, replayReport } from './fixtures.test-support.js';
import { formatReport } from './text.js';

describe('the terminal report', async () => {
  const input = await checkReport('dio-write-vs-mmap-store', 'vfs2019');
  const text = formatReport(input, "pagelab replay 'x'");

  it('columns per task, one row per step that matters, with step and virtual time', () => {
    const lines = text.split('\n');
    const head = lines.find((l) => l.includes(' step ') && l.includes('P0') && l.includes('P1'));
    expect(head).toMatch(/step\s+t\s+P0\s+P1\s+irq\/bio/);
    expect(lines.find((l) => l.includes('lock i_rwsem(f) write'))).toMatch(/^ +\d+ +\d+ {2}lock i_rwsem/);
    expect(text).toMatch(/ {3}filemap_add_folio folio f:0/);
    expect(text).not.toMatch(/iomap_iter:iomap_begin/);
  });

  it('the explanation is at the bottom, after the trace, with the steps behind it and the replay command', () => {
    const trace = text.indexOf('trace of the failing run');
    const why = text.indexOf('lost-write: bytes [0,32) of f');
    expect(trace).toBeGreaterThan(0);
    expect(why).toBeGreaterThan(trace);
    expect(text.indexOf('the steps behind it')).toBeGreaterThan(why);
    expect(text).toMatch(/▶ step \d+ +t=\d+ +P1 +folio_mark_dirty folio f:0/);
    expect(text).toMatch(/✖ step \d+ +t=\d+ +P0 +« pwrite f 0 32 direct = 32/);
    expect(text.trimEnd().split('\n').at(-1)).toBe("replay: pagelab replay 'x'");
  });

  it('colour only when asked (a TTY); long cells wrap instead of being cut', () => {
    expect(text).not.toContain('\x1b[');
    expect(formatReport(input, null, { color: true })).toContain('\x1b[31m');
    expect(text).toContain('(EIO set for fsync)');
    const wide = formatReport(input, null, { width: 200 });
    expect(wide.split('\n').some((l) => l.length > 150)).toBe(true);
  });
});

/** Every finding of the built-in matrix (`pagelab matrix --json`, seed 1, 2026-12-07), as replayed. */
const MATRIX_FINDINGS = [
  'collapse-vs-fault:vfs2019:0*2.1*5.0',
  'dax-hole-fault-vs-write:dax2017:0*3.1*4',
  'dio-buffers-crossed-files:rangelock:0*5.1*6',
  'dio-buffers-crossed-files:gfs2-2021:0*5.1*6',
  'dio-buffers-crossed-pages:rangelock:0*5.1*6',
  'dio-buffers-crossed-pages:gfs2-2021:0*6',
  'dio-write-vs-mmap-store:vfs2019:0*5.1*5.3.1*3',
  'dio-write-vs-mmap-store:invalidate_lock:0*5.1*5.3.1*3',
  'dio-write-vs-mmap-store:xfs:0*5.1*5.3.1*3',
  'dio-write-vs-mmap-store:ext4-pin-block:0*5.1*5.3.1*3',
  'dio-write-vs-mmap-store:ext4-pin-skip:0*5.1*5.3.1*3',
  'dio-write-vs-mmap-store:ext4-pin-fail:0*5.1*5.3.1*3',
  'dio-write-vs-mmap-store:ext4-pin-bounce:0*5.1*5.3.1*3',
  'dio-write-vs-mmap-store:ext4:0*5.1*5.3.1*3',
  'gup-nofault-reentry:gfs2-2021:0*9.1',
  'insert-vs-fault:vfs2019:0*2.1*5.0',
  'mmap-buffer-dio-disjoint:gfs2-2021:-',
  'mmap-buffer-dio-overlap:gfs2:-',
  'mmap-buffer-dio-overlap:gfs2-2021:-',
  'pinned-page-fsync:ext4-pin-block:0*10.1*5.2*2',
  'pinned-page-fsync:ext4-pin-skip:0*13.1*5.2*3.1*2.3.0*3',
  'punch-vs-fault:vfs2019:0*2.1*5.0',
];

describe('the terminal report fits 100 columns', async () => {
  const text = formatReport(await checkReport('dio-write-vs-mmap-store', 'vfs2019'), "pagelab replay 'x'");
  const widest = (t: string) => Math.max(...t.split('\n').map((l) => l.length));

  it('two tasks, no bio: two columns of 42; two tasks and bios: three of 27', async () => {
    const dax = formatReport(await checkReport('dax-hole-fault-vs-write', 'dax2017'), "pagelab replay 'x'");
    expect(widest(dax)).toBeLessThanOrEqual(100);
    expect(dax).toMatch(/^ {2}step +t {2}P0 {41}P1$/m);
    expect(widest(text)).toBeLessThanOrEqual(100);
    expect(text).toMatch(/^ {2}step +t {2}P0 {26}P1 {26}irq\/bio$/m);
  });

  it('seven tasks fold into one column that names the task on each row', async () => {
    const text = formatReport(await replayReport('fault-storm-vs-dio', 'bcachefs', []), null);
    expect(widest(text)).toBeLessThanOrEqual(100);
    expect(text).toMatch(/^ {2}step +t {2}task$/m);
    expect(text).toMatch(/^ +\d+ +\d+ {2}F1 {7}« load b\+0 1 = 0 saw \[0,1\) zero$/m);
  });

  it("every finding of the built-in matrix, the replay command's line included", async () => {
    const wide: string[] = [];
    for (const r of MATRIX_FINDINGS) {
      const { scenario, scheme, schedule } = parseReplayString(r);
      const input = await replayReport(scenario, scheme, schedule);
      const text = formatReport(input, `node ./bin/pagelab.js replay '${r}'`);
      if (widest(text) > 100) wide.push(`${r}: ${widest(text)}`);
    }
    expect(wide).toEqual([]);
  });

  it('a long replay command is cut inside its quotes so that it runs as printed', () => {
    const schedule = Array.from({ length: 40 }, (_, i) => `${i % 3}*${i + 2}`).join('.');
    const cmd = `node ./bin/pagelab.js replay 'fault-storm-vs-dio:bcachefs-fair:${schedule}'`;
    const lines = formatReport(hostileReport(), cmd).split('\n');
    const at = lines.indexOf('replay:');
    const printed = lines.slice(at + 1);
    expect(Math.max(...printed.map((l) => l.length))).toBeLessThanOrEqual(100);
    // What sh makes of it: backslash-newline removed, the quoted pieces joined into one word.
    const sh = spawnSync(
      'sh',
      ['-c', `printf '%s\\n' ${printed.join('\n').replace(/^ +node \S+ replay /, '')}`],
      {
        encoding: 'utf8',
      },
    );
    expect(sh.stdout).toBe(`fault-storm-vs-dio:bcachefs-fair:${schedule}\n`);
  });
});
