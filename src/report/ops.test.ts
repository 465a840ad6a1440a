import { describe, expect, it } from 'vitest';
import { replaySchedule } from '../explore/run.js';
import { parseLitmus } from '../litmus/parse.js';
import { scheme } from '../test-support/named.js';
import { fromRun } from './input.js';
import { replayJson } from './json.js';
import { buildModel } from './model.js';

// One task, run alone: a write, a read that sees half of it, a store past EOF (SIGBUS), an
// unaligned O_DIRECT read (EINVAL), a load of the written bytes.
const OPS = `litmus op-results
page 64
file f 1p written
map m f 0 2p shared
P0: pwrite f 0 32; pread f 0 64; store m+64 8; pread f 1 8 direct; load m+0 8
`;

describe('op returns: bytes by the write they came from, errnos by name', async () => {
  const report = await replaySchedule(parseLitmus(OPS), scheme('xfs'), []);
  const input = fromRun(report, { scheme: 'xfs', finding: null, replay: 'x:xfs:-', provenance: 'replayed' });

  it('the trace rows of the returns', () => {
    const returns = buildModel(input)
      .rows.filter((r) => r.text.startsWith('«'))
      .map((r) => r.text);
    expect(returns).toEqual([
      '« pwrite f 0 32 = 32',
      '« pread f 0 64 = 64 saw [0,32) P0.1 [32,64) init',
      '« store m+64 8 = EFAULT (SIGBUS)',
      '« pread f 1 8 direct = EINVAL',
      '« load m+0 8 = 0 saw [0,8) P0.1',
    ]);
  });

  it('replay --json: an ops array (added; the trace keeps its fields)', () => {
    const j = replayJson('op-results', 'xfs', 'x:xfs:-', report, null);
    expect(j.ops.map((o) => [o.name, o.ret, o.errno])).toEqual([
      ['P0.1', 32, null],
      ['P0.2', 64, null],
      ['P0.3', -14, 'EFAULT (SIGBUS)'],
      ['P0.4', -22, 'EINVAL'],
      ['P0.5', 0, null],
    ]);
    expect(j.ops[1].saw).toEqual([
      { region: 'f', start: 0, end: 32, from: 'P0.1' },
      { region: 'f', start: 32, end: 64, from: 'init' },
    ]);
    const ret = j.trace.find((e) => e.site === 'op-return' && e.obj === j.ops[2].tag);
    expect(ret?.detail).toBe('store m+64 8 = -14');
  });
});
