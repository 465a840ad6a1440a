/**
 * The run's trace: every scheduling point, lock acquire/release, wait, wake, model event and
 * result, with task and virtual time. Stored as a struct of typed arrays (no object per event)
 * so that recording stays cheap enough to leave on; `toJSON` builds objects only when asked.
 */

export const TRACE_KINDS = [
  'spawn',
  'point',
  'acquire',
  'release',
  'wait',
  'wake',
  'event',
  'result',
  'exit',
] as const;
export type TraceKind = (typeof TRACE_KINDS)[number];
const KIND_CODE: Record<TraceKind, number> = Object.fromEntries(TRACE_KINDS.map((k, i) => [k, i])) as Record<
  TraceKind,
  number
>;

export interface TraceEvent {
  seq: number;
  time: number;
  task: number;
  kind: TraceKind;
  site: string;
  obj: number;
  detail?: string;
}

export class Trace {
  private count = 0;
  private times = new Float64Array(1024);
  private tasks = new Int32Array(1024);
  private kinds = new Uint8Array(1024);
  private sites = new Int32Array(1024);
  private objs = new Int32Array(1024);
  private readonly details = new Map<number, string>();
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();

  get length(): number {
    return this.count;
  }

  record(time: number, task: number, kind: TraceKind, site: string, obj = -1, detail?: string): void {
    if (this.count === this.times.length) this.grow();
    const i = this.count++;
    this.times[i] = time;
    this.tasks[i] = task;
    this.kinds[i] = KIND_CODE[kind];
    this.sites[i] = this.intern(site);
    this.objs[i] = obj;
    if (detail !== undefined) this.details.set(i, detail);
  }

  event(i: number): TraceEvent {
    const e: TraceEvent = {
      seq: i,
      time: this.times[i],
      task: this.tasks[i],
      kind: TRACE_KINDS[this.kinds[i]],
      site: this.strings[this.sites[i]],
      obj: this.objs[i],
    };
    const detail = this.details.get(i);
    if (detail !== undefined) e.detail = detail;
    return e;
  }

  events(): TraceEvent[] {
    const out: TraceEvent[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.event(i);
    return out;
  }

  toJSON(): TraceEvent[] {
    return this.events();
  }

  private intern(s: string): number {
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.stringIds.set(s, id);
    }
    return id;
  }

  private grow(): void {
    const n = this.times.length * 2;
    this.times = copyInto(new Float64Array(n), this.times);
    this.tasks = copyInto(new Int32Array(n), this.tasks);
    this.kinds = copyInto(new Uint8Array(n), this.kinds);
    this.sites = copyInto(new Int32Array(n), this.sites);
    this.objs = copyInto(new Int32Array(n), this.objs);
  }
}

function copyInto<T extends Float64Array | Int32Array | Uint8Array>(dst: T, src: T): T {
  dst.set(src as never);
  return dst;
}
