/**
 * The kernel state at a step, folded from the trace: what each task holds and waits for, which
 * syscalls are in progress, which folios are in the page cache (dirty, locked, mapped, pinned),
 * which bios are in flight. Folding the whole trace also yields the spans the timelines draw:
 * every lock hold, wait, syscall and bio, from the event that opened it to the one that closed it.
 *
 * The fold reads only the trace's events (their kinds, sites and details, as src/sync/held.ts,
 * src/mm and src/block record them); it never looks at the model's objects.
 */
import type { TraceEvent } from '../sim/trace.js';
import type { InitialPage, TaskInfo } from './input.js';

export type SpanKind = 'op' | 'lock' | 'wait' | 'bio';

export interface Span {
  kind: SpanKind;
  /** The task whose track the span is on: the holder, the waiter, the caller, the submitter. */
  task: number;
  /** `i_rwsem(f) write`, `bio#1`, `pwrite f 0 32 direct`, `bio#1 write [0,32)`. */
  name: string;
  /** Trace seq of the opening event. */
  start: number;
  /** Trace seq of the closing event; for a span still open when the run ended, the trace length. */
  end: number;
  startTime: number;
  endTime: number;
  /** Still open when the run ended (a lock never released, a wait never woken). */
  open: boolean;
  /** Where it was opened (acquisition site, wait site) and closed (release site). */
  site: string;
  endSite: string;
  /** The task of the closing event (a bio's completion, a folio unlocked by another context). */
  endTask: number;
  /** A syscall's return value, as the trace spells it. */
  ret?: string;
}

export interface PageView {
  /** The folio's id (the trace's obj); negative for a page the scenario cached before the run. */
  id: number;
  /** `folio f:0`. */
  name: string;
  cached: boolean;
  dirty: boolean;
  pins: number;
}

export interface PteView {
  /** `m+0`. */
  addr: string;
  folio: string;
  writable: boolean;
}

const DOWNGRADE = /^(.*) (\S+) \(downgraded from (\S+)\)$/;
const FOLIO = /^(folio \S+)/;
const SET_PTE = /^(\S+) → (.+) (rw|ro)$/;
const ZAP_PTE = /^(\S+) \((.+)\)$/;
const COW = /^(\S+) ← copy of (.+)$/;
const PINS = /pin=(\d+)/;
const BIO = /^bio#(\d+)/;

type EventHandler = (s: FoldedState, e: TraceEvent) => void;

/** Model events by site: what each does to the page cache, the page tables and the bios. */
const EVENTS = new Map<string, EventHandler>([
  ['op', (s, e) => s.open(s.ops, e.task, span('op', e, e.detail ?? '?'))],
  ['submit_bio', (s, e) => s.submitBio(e)],
  ['bio_endio', (s, e) => s.endBio(e)],
  ['filemap_add_folio', (s, e) => s.addPage(e)],
  ['filemap_remove_folio', (s, e) => s.removePage(e)],
  ['folio_mark_dirty', (s, e) => s.setDirty(e, true)],
  ['set_page_dirty_lock', (s, e) => s.setDirty(e, true)],
  [
    'clear_page_dirty_for_io',
    (s, e) => {
      // The plain event cleans the folio; an annotated one (`... pinned: wait for unpin`) does not.
      if (e.detail && FOLIO.exec(e.detail)?.[1] === e.detail) s.setDirty(e, false);
    },
  ],
  ['pin_user_page', (s, e) => s.setPins(e)],
  ['unpin_user_page', (s, e) => s.setPins(e)],
  ['set_pte', (s, e) => s.setPte(e)],
  ['wp_page_shared', (s, e) => s.setPte(e)],
  ['zap_pte', (s, e) => s.zapPte(e)],
  ['wp_page_copy', (s, e) => s.cowPte(e)],
]);

function span(kind: SpanKind, e: TraceEvent, name: string): Span {
  return {
    kind,
    task: e.task,
    name,
    start: e.seq,
    end: e.seq,
    startTime: e.time,
    endTime: e.time,
    open: true,
    site: e.site,
    endSite: '',
    endTask: e.task,
  };
}

export class FoldedState {
  /** Lock holds, in acquisition order. */
  readonly holds: Span[] = [];
  readonly waits = new Map<number, Span>();
  readonly ops = new Map<number, Span>();
  readonly bios = new Map<number, Span>();
  readonly pages = new Map<number, PageView>();
  readonly ptes = new Map<string, PteView>();
  /** Every span closed so far, in closing order. */
  readonly closed: Span[] = [];
  /** Seq of the last event applied (-1: none). */
  step = -1;

  constructor(initial: readonly InitialPage[] = []) {
    initial.forEach((p, i) => {
      this.pages.set(-1 - i, { id: -1 - i, name: p.name, cached: true, dirty: p.dirty, pins: 0 });
    });
  }

  apply(e: TraceEvent): void {
    this.step = e.seq;
    if (e.kind === 'acquire') this.acquire(e);
    else if (e.kind === 'release') this.release(e);
    else if (e.kind === 'wait') this.open(this.waits, e.task, span('wait', e, e.detail ?? '?'));
    else if (e.kind === 'wake') this.close(this.waits, e.task, e);
    else if (e.kind === 'result' && e.site === 'op-return') this.closeOp(e);
    else if (e.kind === 'event') EVENTS.get(e.site)?.(this, e);
  }

  /** Spans still open, as they stand when the run ended at `end` (the trace length). */
  openSpans(end: number, endTime: number): Span[] {
    const all = [...this.ops.values(), ...this.holds, ...this.waits.values(), ...this.bios.values()];
    return all.map((s) => ({ ...s, end, endTime, open: true }));
  }

  /** Tasks that hold a lock whose name starts with `name ` (a folio's lock). */
  holdersOf(name: string): number[] {
    return this.holds.filter((h) => h.name.startsWith(`${name} `)).map((h) => h.task);
  }

  ptesOf(folio: string): PteView[] {
    return [...this.ptes.values()].filter((p) => p.folio === folio);
  }

  // --- the handlers (public for the EVENTS table) ---

  open(m: Map<number, Span>, key: number, s: Span): void {
    m.set(key, s);
  }

  close(m: Map<number, Span>, key: number, e: TraceEvent): Span | undefined {
    const s = m.get(key);
    if (!s) return undefined;
    m.delete(key);
    this.finish(s, e);
    return s;
  }

  submitBio(e: TraceEvent): void {
    const id = BIO.exec(e.detail ?? '');
    if (id) this.open(this.bios, Number(id[1]), span('bio', e, e.detail ?? '?'));
  }

  endBio(e: TraceEvent): void {
    const id = BIO.exec(e.detail ?? '');
    if (id) this.close(this.bios, Number(id[1]), e);
  }

  addPage(e: TraceEvent): void {
    const name = FOLIO.exec(e.detail ?? '')?.[1];
    if (name) this.pages.set(e.obj, { id: e.obj, name, cached: true, dirty: false, pins: 0 });
  }

  removePage(e: TraceEvent): void {
    const p = this.page(e);
    if (!p) return;
    p.cached = false;
    if (p.pins === 0 && this.ptesOf(p.name).length === 0) this.pages.delete(p.id);
  }

  setDirty(e: TraceEvent, dirty: boolean): void {
    const p = this.page(e);
    if (p) p.dirty = dirty;
  }

  setPins(e: TraceEvent): void {
    const p = this.page(e);
    const n = PINS.exec(e.detail ?? '');
    if (!p || !n) return;
    p.pins = Number(n[1]);
    if (p.pins === 0 && !p.cached && this.ptesOf(p.name).length === 0) this.pages.delete(p.id);
  }

  setPte(e: TraceEvent): void {
    const m = SET_PTE.exec(e.detail ?? '');
    if (m) this.ptes.set(m[1], { addr: m[1], folio: m[2], writable: m[3] === 'rw' });
  }

  zapPte(e: TraceEvent): void {
    const m = ZAP_PTE.exec(e.detail ?? '');
    if (m) this.ptes.delete(m[1]);
  }

  cowPte(e: TraceEvent): void {
    const m = COW.exec(e.detail ?? '');
    if (m) this.ptes.set(m[1], { addr: m[1], folio: `a private copy of ${m[2]}`, writable: true });
  }

  // --- internals ---

  private acquire(e: TraceEvent): void {
    const name = e.detail ?? e.site;
    const down = DOWNGRADE.exec(name);
    if (down) {
      const i = this.findHold(`${down[1]} ${down[3]}`, e.task);
      if (i >= 0) this.finish(this.holds.splice(i, 1)[0], e);
      this.holds.push(span('lock', e, `${down[1]} ${down[2]}`));
      return;
    }
    this.holds.push(span('lock', e, name));
  }

  /** A release closes the releaser's hold of that lock, else (another context) anyone's. */
  private release(e: TraceEvent): void {
    const i = this.findHold(e.detail ?? e.site, e.task);
    if (i >= 0) this.finish(this.holds.splice(i, 1)[0], e);
  }

  private findHold(name: string, task: number): number {
    let any = -1;
    for (let i = this.holds.length - 1; i >= 0; i--) {
      if (this.holds[i].name !== name) continue;
      if (this.holds[i].task === task) return i;
      if (any < 0) any = i;
    }
    return any;
  }

  private closeOp(e: TraceEvent): void {
    const s = this.close(this.ops, e.task, e);
    if (s && e.detail) s.ret = e.detail.slice(e.detail.lastIndexOf(' = ') + 3);
  }

  private finish(s: Span, e: TraceEvent): void {
    s.end = e.seq;
    s.endTime = e.time;
    s.open = false;
    s.endSite = e.site;
    s.endTask = e.task;
    this.closed.push(s);
  }

  /**
   * The folio an event names: by its id, else a page cached before the run with that name (which
   * then takes the id), else a new entry (a user page: an anonymous buffer, a DIO's pages).
   */
  private page(e: TraceEvent): PageView | undefined {
    const known = this.pages.get(e.obj);
    if (known) return known;
    const name = FOLIO.exec(e.detail ?? '')?.[1];
    if (!name) return undefined;
    for (const p of this.pages.values()) {
      if (p.id < 0 && p.name === name) {
        this.pages.delete(p.id);
        p.id = e.obj;
        this.pages.set(p.id, p);
        return p;
      }
    }
    const p: PageView = { id: e.obj, name, cached: false, dirty: false, pins: 0 };
    this.pages.set(p.id, p);
    return p;
  }
}

/** Folds `events` up to and including seq `upTo` (all of them by default). */
export function foldTrace(
  events: readonly TraceEvent[],
  initial: readonly InitialPage[] = [],
  upTo = Number.POSITIVE_INFINITY,
): FoldedState {
  const s = new FoldedState(initial);
  for (const e of events) {
    if (e.seq > upTo) break;
    s.apply(e);
  }
  return s;
}

/** Every span of the run: the closed ones and, marked open, those the run ended inside. */
export function allSpans(events: readonly TraceEvent[], initial: readonly InitialPage[] = []): Span[] {
  const s = foldTrace(events, initial);
  const last = events.at(-1);
  const open = s.openSpans(events.length, last ? last.time : 0);
  return [...s.closed, ...open].sort((a, b) => a.start - b.start);
}

// --- the state as lines of text (the HTML state panel, tests) ---

export type StateSection = 'syscalls' | 'locks' | 'waits' | 'page cache' | 'user pages' | 'bios';
export const STATE_SECTIONS: readonly StateSection[] = [
  'syscalls',
  'locks',
  'waits',
  'page cache',
  'user pages',
  'bios',
];

export interface StateLine {
  section: StateSection;
  text: string;
}

function short(folio: string): string {
  return folio.startsWith('folio ') ? folio.slice(6) : folio;
}

function pageLine(s: FoldedState, p: PageView, name: (id: number) => string): string {
  const parts: string[] = [p.dirty ? 'dirty' : 'clean'];
  const lockers = s.holdersOf(p.name);
  if (lockers.length) parts.push(`locked by ${lockers.map(name).join(', ')}`);
  for (const pte of s.ptesOf(p.name)) parts.push(`mapped at ${pte.addr} ${pte.writable ? 'rw' : 'ro'}`);
  if (p.pins) parts.push(`pinned ×${p.pins}`);
  return `${short(p.name)}: ${parts.join(', ')}`;
}

/** A page-cache folio is named after a file (`f:0`); a user page after a region (`P0:pwrite@13:0`). */
function isCacheName(p: PageView): boolean {
  return !short(p.name).includes('@');
}

function userPageLine(s: FoldedState, p: PageView): string {
  const parts: string[] = isCacheName(p) ? ['removed from the page cache'] : [];
  for (const pte of s.ptesOf(p.name)) parts.push(`mapped at ${pte.addr} ${pte.writable ? 'rw' : 'ro'}`);
  if (p.pins) parts.push(`pinned ×${p.pins}`);
  return `${short(p.name)}: ${parts.join(', ')}`;
}

/** The state as lines, section by section; `tasks` names the task ids. */
export function stateLines(s: FoldedState, tasks: readonly TaskInfo[]): StateLine[] {
  const names = new Map(tasks.map((t) => [t.id, t.name]));
  const name = (id: number) => names.get(id) ?? `task ${id}`;
  const out: StateLine[] = [];
  const add = (section: StateSection, text: string) => out.push({ section, text });
  for (const o of s.ops.values()) add('syscalls', `${name(o.task)}: ${o.name}  (since step ${o.start})`);
  for (const h of s.holds) add('locks', `${name(h.task)} holds ${h.name}  (step ${h.start}, ${h.site})`);
  for (const w of s.waits.values())
    add('waits', `${name(w.task)} waits for ${w.name}  (step ${w.start}, ${w.site})`);
  for (const p of s.pages.values()) {
    if (p.cached) add('page cache', pageLine(s, p, name));
    else if (p.pins || s.ptesOf(p.name).length) add('user pages', userPageLine(s, p));
  }
  for (const b of s.bios.values())
    add('bios', `${b.name}  (submitted by ${name(b.task)} at step ${b.start})`);
  return out;
}
