/**
 * fsx with several streams on one file: K independent fsx op streams (seeds S, S+1, ..., each its
 * own good_buf and idea of the file size, as K fsx processes on one file would have), turned into
 * one litmus scenario with a task per stream, so the explorer interleaves them and the oracles of
 * src/check judge the run (stale read, lost write, incoherence, durability, deadlock). fsx itself
 * cannot find races: it checks one sequential stream against its own good_buf, and several fsx
 * processes on one file only see each other's writes as corruption. Here the reference model knows
 * every stream's ops and accepts exactly the interleavings Linux allows.
 *
 * Each fsx system call becomes the litmus op of the same kernel path: read/write (`direct` under
 * -Z), mapread = a load and mapwrite = [ftruncate,] store, msync through one MAP_SHARED mapping of
 * the whole file, truncate, fallocate in its five modes, fsync, copy_range = a read into a buffer
 * and a write from it (what do_splice_direct does through its pipe), -e's pollution = a store past
 * EOF in the EOF page, -c's close/drop_caches/open = evicting every page, -X = a whole-file read.
 * The bytes are litmus's provenance-tagged bytes, not gendata's: the oracles compare who wrote a
 * byte, and fsx's own good_buf check means nothing once another stream writes the same file.
 */
import type { Scenario } from '../litmus/ast.js';
import { parseLitmus } from '../litmus/parse.js';
import { Fsx, type FsxAction, type FsxOptions } from './fsx.js';
import { formatLogEntry } from './log.js';
import type { LogEntry } from './ops.js';

/**
 * The streams' ops that change the file, at most. The checker no longer has an op limit
 * (src/check/linearize.ts: past its state budget a run is inconclusive, never judged on part of
 * its history); this bound predates that and is kept until measured: the streams hit one file
 * whose size changes, so their ops form one partition, whose states grow fast with ops in flight.
 */
export const MUTATING_OPS_MAX = 30;

export interface StreamsOptions {
  /** K: streams, one task each. */
  tasks: number;
  /** Test calls per stream. */
  numops: number;
  /** The command line that generated the scenario, for its header comment. */
  command?: string;
}

export interface FsxStream {
  task: string;
  seed: number;
  log: LogEntry[];
  /** Litmus ops the stream issues. */
  ops: number;
}

export interface FsxScenario {
  scenario: Scenario;
  /** The litmus text (what `--litmus FILE` writes; the explorer's workers parse it). */
  text: string;
  streams: FsxStream[];
  /** Ops that may change a file or buffer (the reference model's unit of work). */
  mutating: number;
}

/** The concurrent mode cannot be built from these options (too big, nothing to run). */
export class FsxScenarioError extends Error {}

interface LitmusOp {
  text: string;
  mutating: boolean;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** [off, off + len) cut at page boundaries: [offset, length] pairs. */
function pages(off: number, len: number, ps: number): [number, number][] {
  const out: [number, number][] = [];
  for (let p = off; p < off + len; ) {
    const n = Math.min(off + len, (Math.floor(p / ps) + 1) * ps) - p;
    out.push([p, n]);
    p += n;
  }
  return out;
}

/**
 * The litmus ops of one fsx action in stream `i`. Writes, stores and copies are issued a page at a
 * time: Linux makes no write atomic against mmap stores or a concurrent O_DIRECT write (a memcpy
 * through a mapping lands page by page, a write(2) copies folio by folio), while the reference
 * model applies each op whole, so a multi-page op torn by another stream would be reported as a
 * lost write under every scheme. Reads need no cut: the oracle checks each byte of a read on its own.
 */
function litmusOps(a: FsxAction, i: number, o: FsxOptions): LitmusOp[] {
  const direct = o.oDirect ? ' direct' : '';
  const ps = o.pageSize;
  const op = (text: string, mutating = false): LitmusOp => ({ text, mutating });
  switch (a.k) {
    case 'read':
      return [op(`pread f ${a.off} ${a.len}${direct}`)];
    case 'mapread':
      return [op(`load m+${a.off} ${a.len}`)];
    case 'write':
      return pages(a.off, a.data.length, ps).map(([p, n]) => op(`pwrite f ${p} ${n}${direct}`, true));
    case 'mapwrite': {
      // domapwrite(): ftruncate when it extends, mmap from the page, memcpy, msync(MS_SYNC).
      const out: LitmusOp[] = [];
      if (a.truncateTo !== null) out.push(op(`truncate f ${a.truncateTo}`, true));
      const pg = a.off - (a.off % ps);
      for (const [p, n] of pages(a.off, a.data.length, ps)) out.push(op(`store m+${p} ${n}`, true));
      out.push(op(`msync m+${pg} ${a.off + a.data.length - pg}`));
      return out;
    }
    case 'truncate':
      return [op(`truncate f ${a.size}`, true)];
    case 'fallocate': {
      if (a.mode === 'unshare') return [];
      const keep = a.keepSize && (a.mode === 'alloc' || a.mode === 'zero') ? ' keep-size' : '';
      return [op(`fallocate f ${a.mode} ${a.off} ${a.len}${keep}`, true)];
    }
    case 'copy': {
      const src = pages(a.src, a.len, ps);
      const dst = pages(a.dst, a.len, ps);
      return [
        ...src.map(([p, n]) => op(`pread f ${p} ${n}${direct} buf=b${i}+${p - a.src}`, true)),
        ...dst.map(([p, n]) => op(`pwrite f ${p} ${n}${direct} buf=b${i}+${p - a.dst}`, true)),
      ];
    }
    case 'fsync':
      return [op('fsync f')];
    case 'pollute':
      return [op(`store m+${a.fileSize} ${a.data.length}`, true)];
    case 'closeopen': {
      const out: LitmusOp[] = [];
      for (let p = 0; p < o.maxfilelen; p += ps) out.push(op(`evict f ${p}`));
      return out;
    }
    case 'checkcontents':
      return [op(`pread f 0 ${a.expect.length}${direct}`)];
    case 'checksize':
    case 'fail':
      return [];
  }
}

function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * K fsx streams as one scenario. Stream i draws from seed `opts.seed + i`; `opts.pageSize` and
 * `opts.blockSize` are the scenario's geometry (the O_DIRECT alignment is an eighth of the block).
 */
export function fsxScenario(opts: FsxOptions, s: StreamsOptions): FsxScenario {
  const ps = opts.pageSize;
  const bs = opts.blockSize;
  const streams: FsxStream[] = [];
  const taskLines: string[] = [];
  let mutating = 0;
  let copies = false;
  for (let i = 0; i < s.tasks; i++) {
    const seed = opts.seed + i;
    const fsx = new Fsx({ ...opts, seed });
    const task = `P${i}`;
    let ops = 0;
    for (let n = 0; n < s.numops; n++) {
      const call = fsx.test();
      if (!call) break;
      const lops = call.actions.flatMap((a) => litmusOps(a, i, opts));
      const logged = call.entries.map((e) => formatLogEntry(e)).join('; ');
      if (lops.length === 0) {
        taskLines.push(`# ${task} ${call.testcalls}: ${logged}`);
        continue;
      }
      ops += lops.length;
      mutating += lops.filter((x) => x.mutating).length;
      copies ||= call.actions.some((a) => a.k === 'copy');
      taskLines.push(`${task}: ${lops.map((x) => x.text).join('; ')}   # ${call.testcalls}: ${logged}`);
    }
    streams.push({ task, seed, log: [...fsx.log], ops });
  }
  if (streams.every((x) => x.ops === 0)) {
    throw new FsxScenarioError('the streams issue no operation (every test call was skipped): raise -N');
  }
  if (mutating > MUTATING_OPS_MAX) {
    throw new FsxScenarioError(
      `the streams issue ${mutating} ops that change the file, more than the ${MUTATING_OPS_MAX} the reference model orders: lower -N or --tasks`,
    );
  }
  const fileLen = roundUp(Math.max(opts.maxfilelen, 1), ps);
  const disk = Math.ceil(opts.maxfilelen / bs) * 4 + 64;
  const seeds = streams.map((x) => x.seed).join(', ');
  const head = [
    ...(s.command ? [`# ${s.command}`] : []),
    `# ${s.tasks} fsx streams (seeds ${seeds}) on one file; each line is one fsx test call: its litmus ops, then what fsx logged.`,
    `litmus fsx-s${opts.seed}-t${s.tasks}`,
    `doc ${quote(`${s.tasks} fsx streams on one file (seeds ${seeds}, ${s.numops} test calls each)`)}`,
    `page ${ps}`,
    ...(bs !== ps ? [`block ${bs}`] : []),
    `disk ${disk}`,
    opts.lite ? `file f ${opts.maxfilelen} written` : 'file f 0 hole',
    `map m f 0 ${fileLen} shared`,
    ...(copies ? streams.map((_, i) => `buf b${i} ${Math.max(opts.maxoplen, 1)}`) : []),
    '',
  ];
  const text = `${[...head, ...taskLines].join('\n')}\n`;
  const scenario = parseLitmus(text, `<fsx -S ${opts.seed} --tasks ${s.tasks}>`);
  return { scenario, text, streams, mutating };
}
