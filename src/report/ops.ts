/**
 * What each op instance of a run returned, as a report shows it: its name in the scenario (`P1.2`,
 * task P1's second op), its return value with an errno by name, and for a read or a load the bytes
 * it returned, summarised by the write each run of them came from (`saw [0,32) P0.1 [32,64) init`).
 * Read from the run's history (src/check/history.ts); the trace's op events carry the op's tag.
 */
import { cellTag, TAG_GARBAGE, TAG_INIT, TAG_ZERO } from '../block/data.js';
import type { History, OpRecord } from '../check/history.js';
import { EFAULT, errnoName } from '../sim/errno.js';

/** A run of bytes a read returned that came from one source. */
export interface SawRun {
  /** The file (or buffer) and its byte range [start, end), as the finding names bytes. */
  region: string;
  start: number;
  end: number;
  /** The op that wrote them (`P1.2`), or `init` (the initial contents), `zero`, `garbage`. */
  from: string;
}

export interface OpResult {
  /** The op's provenance tag (the `obj` of its `op` and `op-return` trace events). */
  tag: number;
  task: string;
  /** `P1.2`: the task's second op, counting from 1 after `loop` expansion. */
  name: string;
  label: string;
  /** Bytes, 0 or -errno; null while in flight (a run that ended in a deadlock). */
  ret: number | null;
  /** A failure by name: `EINVAL`; a load or store's EFAULT is `EFAULT (SIGBUS)`. Null: success. */
  errno: string | null;
  /** A read or a load that returned bytes: where they came from, run by run; else null. */
  saw: SawRun[] | null;
}

/** Runs a return line shows; the rest are counted (`--json` has them all). */
const SAW_RUNS_SHOWN = 4;

/**
 * A failure's name. A load or store has no errno: -EFAULT is the signal the access would take.
 * Every litmus address lies in a VMA (maps and bufs are declared), so that signal is SIGBUS (a
 * fault past EOF or on a truncated page: filemap_fault's VM_FAULT_SIGBUS), never SIGSEGV.
 */
export function errnoText(ret: number | null, label: string): string | null {
  if (ret === null || ret >= 0) return null;
  const mapped = label.startsWith('load ') || label.startsWith('store ');
  return mapped && -ret === EFAULT ? 'EFAULT (SIGBUS)' : errnoName(ret);
}

function sourceName(tag: number, names: ReadonlyMap<number, string>): string {
  if (tag === TAG_ZERO) return 'zero';
  if (tag === TAG_INIT) return 'init';
  if (tag === TAG_GARBAGE) return 'garbage';
  return names.get(tag) ?? `op #${tag}`;
}

function sawRuns(o: OpRecord, names: ReadonlyMap<number, string>): SawRun[] | null {
  const obs = o.observed;
  if (!obs || o.ret === null || o.ret < 0) return null;
  const out: SawRun[] = [];
  for (let i = 0; i < obs.cells.length; ) {
    const tag = cellTag(obs.cells[i]);
    let j = i + 1;
    while (j < obs.cells.length && cellTag(obs.cells[j]) === tag) j++;
    out.push({ region: obs.region, start: obs.off + i, end: obs.off + j, from: sourceName(tag, names) });
    i = j;
  }
  return out;
}

/** Every op that started in the run, in the history's order (each task's ops in program order). */
export function opResults(history: History): OpResult[] {
  const count = new Map<string, number>();
  const names = new Map<number, string>();
  for (const o of [...history.ops].sort((a, b) => a.tag - b.tag)) {
    const n = (count.get(o.task) ?? 0) + 1;
    count.set(o.task, n);
    names.set(o.tag, `${o.task}.${n}`);
  }
  return history.ops.map((o) => ({
    tag: o.tag,
    task: o.task,
    name: names.get(o.tag) as string,
    label: o.label,
    ret: o.ret,
    errno: errnoText(o.ret, o.label),
    saw: sawRuns(o, names),
  }));
}

/** `saw [0,32) P0.1 [32,64) init`, at most SAW_RUNS_SHOWN runs. */
export function sawText(runs: readonly SawRun[]): string {
  const shown = runs.slice(0, SAW_RUNS_SHOWN).map((r) => `[${r.start},${r.end}) ${r.from}`);
  const more = runs.length - shown.length;
  return `saw ${shown.join(' ')}${more > 0 ? ` (+${more} runs)` : ''}`;
}

/** An op's return as the trace shows it: `pread f 0 64 = 64 saw [0,64) P1.1`, `store m+0 8 = EFAULT (SIGBUS)`. */
export function returnText(r: OpResult): string {
  const ret = r.errno ?? String(r.ret);
  return `${r.label} = ${ret}${r.saw ? ` ${sawText(r.saw)}` : ''}`;
}
