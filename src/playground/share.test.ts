import { describe, expect, it } from 'vitest';
import { findBuiltin } from '../explore/builtin.js';
import { parseReplayString } from '../explore/run.js';
import { findScheme } from '../schemes/index.js';
import { cellOf, check, parseSource, replay } from './session.js';
import { cliCommand, decodeShare, encodeShare, type ShareState } from './share.js';

const DIO = 'dio-write-vs-mmap-store';
const text = findBuiltin(DIO)!.text;

describe('share links', () => {
  it('carry the text, scheme, search and schedule through the fragment', () => {
    const s: ShareState = {
      text,
      scheme: 'vfs2019',
      search: { strategy: 'dfs', seed: 7, schedules: 500, depth: undefined, preemptions: 1 },
      schedule: '0*12.1.0*3',
    };
    const frag = encodeShare(s);
    expect(frag).not.toMatch(/[#\s]/);
    expect(decodeShare(`#${frag}`)).toEqual(s);
  });

  it('a fragment without a scenario is no share; a broken one says why', () => {
    expect(decodeShare('')).toBeNull();
    const good = encodeShare({
      text,
      scheme: 'xfs',
      search: { strategy: 'random', seed: 1 },
      schedule: null,
    });
    const bad = (key: string, value: string) => {
      const p = new URLSearchParams(good);
      p.set(key, value);
      return () => decodeShare(p.toString());
    };
    expect(bad('strategy', 'bfs')).toThrow("share link: unknown strategy 'bfs'");
    expect(bad('seed', 'x')).toThrow("share link: seed 'x' is not a number");
    expect(bad('s', 'AAAA')).toThrow('share link: the scenario does not decompress');
  });
});

describe('the CLI command', () => {
  const base: ShareState = {
    text,
    scheme: 'vfs2019',
    search: { strategy: 'random', seed: 1 },
    schedule: null,
  };

  it('replays the shown schedule, or checks with the search asked for', () => {
    expect(cliCommand(DIO, true, text, { ...base, schedule: '0*3.1*2' })).toBe(
      `npx pagelab replay ${DIO}:vfs2019:0*3.1*2`,
    );
    expect(
      cliCommand(DIO, true, text, { ...base, search: { strategy: 'pct', seed: 4, schedules: 50, depth: 2 } }),
    ).toBe(`npx pagelab check ${DIO} --scheme vfs2019 --strategy pct --seed 4 --schedules 50 --depth 2`);
  });

  it('writes a scenario that is not built in to its file first', () => {
    const mine = 'litmus mine\nfile f 1p written\nP0: pread f 0 8\n';
    expect(cliCommand('scenario.litmus', false, mine, { ...base, schedule: '0*4' })).toBe(
      `cat > scenario.litmus <<'LITMUS'\n${mine}LITMUS\nnpx pagelab replay scenario.litmus:vfs2019:0*4`,
    );
  });
});

describe('the session the worker runs', () => {
  it("a check's cell: the finding, how it was found, and the schedule its replay string ends with", async () => {
    const sc = findBuiltin(DIO)!;
    const r = await check(sc, DIO, findScheme('vfs2019')!, { strategy: 'random', seed: 1 });
    const c = cellOf(r);
    expect(c.verdict).toBe('lost-write');
    expect(c.summary).toBe(r.finding!.summary);
    expect(c.certificate).toMatch(
      /^found by random in schedule \d+, seed 1; shrunk from \d+ to 0 preemptions, the fewest$/,
    );
    expect(`${DIO}:vfs2019:${c.schedule}`).toBe(r.replay);
    // Replaying that schedule, as a share link does, gives the same verdict and trace as the check's report.
    const again = await replay(sc, DIO, findScheme('vfs2019')!, c.schedule!);
    expect(again.cell.verdict).toBe('lost-write');
    expect(again.cell.replay).toBe(r.replay);
    expect(again.report.result.trace!.events()).toEqual(r.report!.result.trace!.events());
    expect(parseReplayString(again.cell.replay!).schedule).toEqual(parseReplayString(r.replay!).schedule);
  });

  it("an ok cell's certificate is the coverage; a parse error keeps the parser's line and column", async () => {
    const r = await check(findBuiltin(DIO)!, DIO, findScheme('pagelab')!, { strategy: 'dfs', seed: 1 });
    expect(cellOf(r)).toMatchObject({
      verdict: 'ok',
      // A DFS names no seed: its result does not depend on one.
      certificate: `no forbidden finding in ${r.coverage.text}`,
      replay: null,
    });
    expect(r.coverage.text).toMatch(/^all \d+ schedules with ≤ 2 preemptions/);
    expect(parseSource({ text: 'litmus x\npage 64\nfile f 2p writen\n', ref: 'x.litmus' })).toEqual({
      problem: expect.objectContaining({ line: 3, column: 11 }),
    });
  });
});
