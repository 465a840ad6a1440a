import { describe, expect, it } from 'vitest';
import { checkReport } from './fixtures.test-support.js';
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
