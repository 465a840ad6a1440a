import { describe, expect, it } from 'vitest';
import { parseLitmus } from '../litmus/parse.js';
import { decodeSchedule } from '../sim/schedule.js';
import { builtin, scheme } from '../test-support/named.js';
import { checkScenario } from './check.js';
import { decisive } from './judge.js';
import { parseReplayString, replaySchedule } from './run.js';

describe('dio-write-vs-mmap-store (seed 004)', () => {
  it('vfs2019 loses the DIO-written bytes the refaulted dirty page covers, and reports EIO too late', async () => {
    const r = await checkScenario(builtin('dio-write-vs-mmap-store'), scheme('vfs2019'), {
      schedules: 500,
      seed: 1,
      scenarioRef: 'dio-write-vs-mmap-store',
    });
    expect(r.verdict).toBe('lost-write');
    expect(r.finding?.bytes).toEqual({ region: 'f', start: 0, end: 32 });
    expect(r.finding?.summary).toContain("f's initial contents at offset 0");
    expect(r.finding?.summary).toContain("P0's `pwrite f 0 32 direct`");
    expect(r.finding?.reported).toMatch(/EIO/);
    const events = r.report?.result.trace?.events() ?? [];
    const sites = events.map((e) => e.site);
    expect(sites).toContain('dio_warn_stale_pagecache');
    expect(sites).toContain('filemap_fault');
  });

  it('its replay string reproduces the identical trace and verdict', async () => {
    const r = await checkScenario(builtin('dio-write-vs-mmap-store'), scheme('vfs2019'), {
      schedules: 500,
      seed: 1,
      scenarioRef: 'dio-write-vs-mmap-store',
    });
    const p = parseReplayString(r.replay as string);
    expect(p.scenario).toBe('dio-write-vs-mmap-store');
    expect(p.scheme).toBe('vfs2019');
    const again = await replaySchedule(builtin(p.scenario), scheme(p.scheme), p.schedule);
    expect(decisive(again.findings, builtin(p.scenario).forbid)?.summary).toBe(r.finding?.summary);
    expect(JSON.stringify(again.result.trace)).toBe(JSON.stringify(r.report?.result.trace));
  });
});

describe('sequential scenarios are ok under every scheme', () => {
  const text = `
litmus seq
page 64
file f 2p written
map m f 0 2p shared
P0: pwrite f 0 32 direct; store m+40 8; pread f 0 64; fsync f; load m+0 64
`;
  for (const name of ['vfs2019', 'invalidate_lock', 'xfs']) {
    it(name, async () => {
      const r = await checkScenario(parseLitmus(text), scheme(name), {
        schedules: 20,
        seed: 3,
        scenarioRef: 'seq',
      });
      expect(r.verdict).toBe('ok');
    });
  }
});

describe('replay strings', () => {
  it('split from the right so file scenario paths may contain colons', () => {
    expect(parseReplayString('dir:x/a.litmus:xfs:0*3.1')).toEqual({
      scenario: 'dir:x/a.litmus',
      scheme: 'xfs',
      schedule: decodeSchedule('0*3.1'),
    });
  });
});
