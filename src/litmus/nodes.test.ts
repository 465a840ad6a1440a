import { describe, expect, it } from 'vitest';
import { gfs2 } from '../schemes/gfs2.js';
import { xfs } from '../schemes/xfs.js';
import { formatScenario, LitmusError, parseLitmus } from './parse.js';
import { buildWorld } from './world.js';

const HEAD = 'litmus two-nodes\nfile f 1p written\n';

function errorOf(text: string): string {
  try {
    parseLitmus(text, 'x.litmus');
  } catch (e) {
    if (e instanceof LitmusError) return e.message;
    throw e;
  }
  throw new Error('parsed');
}

describe('node lines', () => {
  it('puts tasks on nodes, in order, tasks declared before or after', () => {
    const s = parseLitmus(
      `${HEAD}node A: P0\nP0: pwrite f 0 8\nP1: pread f 0 8 direct\nP2: pread f 0 8\nnode B: P1 P2\n`,
    );
    expect(s.nodes).toEqual([
      { name: 'A', tasks: ['P0'], line: 3 },
      { name: 'B', tasks: ['P1', 'P2'], line: 7 },
    ]);
  });

  it('leaves a scenario without node lines without nodes (one node, as before)', () => {
    const s = parseLitmus(`${HEAD}P0: pwrite f 0 8\n`);
    expect('nodes' in s).toBe(false);
  });

  it('lets a buffer only read be used on several nodes (each node’s copy holds the same bytes)', () => {
    const s = parseLitmus(`${HEAD}buf b 8\nP0: load b+0 8\nP1: load b+0 8\nnode A: P0\nnode B: P1\n`);
    expect(s.nodes?.length).toBe(2);
  });

  it('formats nodes so that they parse back to the same nodes', () => {
    const s = parseLitmus(`${HEAD}P0: pwrite f 0 8\nP1: pread f 0 8 direct\nnode A: P0\nnode B: P1\n`);
    const text = formatScenario(s);
    expect(text).toContain('node A: P0\nnode B: P1\n');
    expect(parseLitmus(text).nodes?.map((n) => [n.name, n.tasks])).toEqual([
      ['A', ['P0']],
      ['B', ['P1']],
    ]);
  });

  it.each([
    ['node A: P9\nP0: pwrite f 0 8\n', "x.litmus:3:9: node A: no task 'P9'"],
    ['node A: P0\nP0: pwrite f 0 8\nP1: pread f 0 8\n', 'x.litmus:5:1: task P1 is on no node'],
    ['node A: P0\nnode B: P0\nP0: pwrite f 0 8\n', 'x.litmus:4:9: task P0 is already on node A (line 3)'],
    ['node A: P0 P0\nP0: pwrite f 0 8\n', 'x.litmus:3:12: task P0 is already on node A (line 3)'],
    ['node A: P0\nnode A: P1\nP0: pwrite f 0 8\nP1: pread f 0 8\n', "x.litmus:4:6: duplicate node 'A'"],
    ['node A:\nP0: pwrite f 0 8\n', 'node A has no task'],
    ['node A P0\nP0: pwrite f 0 8\n', "x.litmus:3:6: bad node 'A': expected NAME:"],
    ['node 9x: P0\nP0: pwrite f 0 8\n', "bad node '9x:'"],
    [
      'file g 1p dirty\nnode A: P0\nP0: pwrite f 0 8\n',
      "x.litmus:3:1: file g is dirty: with 'node' lines, whose cache would hold it? Declare it written and read or write it on a node",
    ],
    [
      'buf b 8\nP0: pread f 0 8 buf=b+0\nP1: load b+0 8\nnode A: P0\nnode B: P1\n',
      "x.litmus:4:1: 'b' is written on node A and node B: each node has its own memory; declare one buffer or private map per node",
    ],
    [
      'option dlm-latency=5\nP0: pwrite f 0 8\n',
      "x.litmus:3:8: option dlm-latency without 'node' lines: one node has no DLM",
    ],
    [
      'option dlm-latency=-1\nnode A: P0\nP0: pwrite f 0 8\n',
      "x.litmus:3:8: bad option 'dlm-latency=-1': expected ticks of a DLM round trip, 0 to 1000000",
    ],
  ])('rejects %j', (body, msg) => {
    expect(errorOf(`${HEAD}${body}`)).toContain(msg);
  });
});

describe('buildWorld with nodes', () => {
  const s = parseLitmus(`${HEAD}P0: pwrite f 0 8\nP1: pread f 0 8\nnode A: P0\nnode B: P1\n`);

  it('builds a world per node: own mount, address space and page cache; one dinode and device', () => {
    const w = buildWorld(s, gfs2);
    const [a, b] = w.nodes ?? [];
    expect([w.nodes?.length, a === w, a.node, b.node]).toEqual([2, true, 'A', 'B']);
    const fa = a.inodes.get('f');
    const fb = b.inodes.get('f');
    expect([fa === fb, fa?.mapping === fb?.mapping, fa?.extents === fb?.extents, a.mm === b.mm]).toEqual([
      false,
      false,
      true,
      false,
    ]);
    expect([b.bdev === a.bdev, b.history === a.history, fb?.mapping.name, fb?.fs.node?.name]).toEqual([
      true,
      true,
      'f@B',
      'B',
    ]);
    (fa as { size: number }).size = 40;
    expect(fb?.size).toBe(40);
  });

  it('refuses a one-node scheme (callers say n/a before they get here)', () => {
    expect(() => buildWorld(s, xfs)).toThrow('scheme xfs runs one node, not 2');
  });
});
