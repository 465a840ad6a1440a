import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../sim/trace.js';
import { checkReport } from './fixtures.test-support.js';
import { allSpans, FoldedState, foldTrace, stateLines } from './state.js';

function seqOf(events: readonly TraceEvent[], site: string, detail?: string): number {
  const e = events.find(
    (x) => x.kind === 'event' && x.site === site && (detail === undefined || x.detail?.startsWith(detail)),
  );
  if (!e) throw new Error(`no ${site} ${detail ?? ''}`);
  return e.seq;
}

describe('the state folded from the trace (dio-write-vs-mmap-store under vfs2019)', async () => {
  const input = await checkReport('dio-write-vs-mmap-store', 'vfs2019');
  const events = input.events;
  const at = (seq: number) => foldTrace(events, input.initialPages, seq);
  const lines = (seq: number) => stateLines(at(seq), input.tasks).map((l) => `${l.section}: ${l.text}`);

  it('P0 holds i_rwsem from its acquisition to its release; P1 locks the folio it adds', () => {
    const add = seqOf(events, 'filemap_add_folio');
    const s = at(add);
    expect(s.holds.map((h) => `${h.task} ${h.name}`)).toEqual(
      expect.arrayContaining(['0 i_rwsem(f) write', '1 mmap_lock read', '1 folio f:0 excl']),
    );
    expect(lines(add)).toContain('page cache: f:0: clean, locked by P1');
    expect(s.waits.get(0)?.name).toBe('bio#1');
    expect([...s.bios.values()].map((b) => b.name)).toEqual(['bio#1 write [0,32)']);
  });

  it('P1 dirties and maps the folio; P0 unmaps it; it is still cached and dirty at the end', () => {
    const pte = seqOf(events, 'set_pte');
    expect(lines(pte)).toContain('page cache: f:0: dirty, locked by P1, mapped at m+0 rw');
    const end = at(Number.POSITIVE_INFINITY);
    expect(end.holds).toEqual([]);
    expect(end.waits.size).toBe(0);
    expect(end.ops.size).toBe(0);
    expect(end.bios.size).toBe(0);
    expect(stateLines(end, input.tasks)).toEqual([{ section: 'page cache', text: 'f:0: dirty' }]);
  });

  it("the DIO's user page is pinned while its bio is in flight", () => {
    const pin = seqOf(events, 'pin_user_page');
    expect(lines(pin)).toContain('user pages: P0:pwrite@13:0: pinned ×1');
    const unpin = seqOf(events, 'unpin_user_page');
    expect(lines(unpin).some((l) => l.startsWith('user pages'))).toBe(false);
  });

  it('spans: every closed span ends after it starts; the op spans carry the return value', () => {
    const spans = allSpans(events, input.initialPages);
    for (const s of spans) expect(s.end).toBeGreaterThan(s.start);
    expect(spans.filter((s) => s.open)).toEqual([]);
    const write = spans.find((s) => s.kind === 'op' && s.task === 0);
    expect(write).toMatchObject({ name: 'pwrite f 0 32 direct', ret: '32' });
    const bio = spans.find((s) => s.kind === 'bio' && s.name.startsWith('bio#1'));
    expect(bio?.task).toBe(0);
    expect(bio?.endTask).not.toBe(0);
  });
});

describe('the fold on hand-made traces', () => {
  const ev = (seq: number, task: number, kind: TraceEvent['kind'], site: string, detail?: string, obj = -1) =>
    ({ seq, time: seq, task, kind, site, obj, ...(detail === undefined ? {} : { detail }) }) as TraceEvent;

  it('a folio unlocked by another context releases the holder; a downgrade changes the mode', () => {
    const s = new FoldedState();
    s.apply(ev(0, 0, 'acquire', 'filemap_add_folio', 'folio f:0 excl'));
    s.apply(ev(1, 0, 'acquire', 'down_write', 'i_rwsem(f) write'));
    s.apply(ev(2, 0, 'acquire', 'downgrade_write', 'i_rwsem(f) read (downgraded from write)'));
    s.apply(ev(3, 2, 'release', 'folio_unlock', 'folio f:0 excl'));
    expect(s.holds.map((h) => `${h.task} ${h.name}`)).toEqual(['0 i_rwsem(f) read']);
    expect(s.closed.map((c) => `${c.name} ${c.start}-${c.end} by ${c.endTask}`)).toEqual([
      'i_rwsem(f) write 1-2 by 0',
      'folio f:0 excl 0-3 by 2',
    ]);
  });

  it('pages cached before the run are there at step -1 and adopt their id from the first event', () => {
    const s = new FoldedState([{ name: 'folio f:0', dirty: true }]);
    expect(stateLines(s, [])).toEqual([{ section: 'page cache', text: 'f:0: dirty' }]);
    s.apply(ev(0, 0, 'event', 'clear_page_dirty_for_io', 'folio f:0', 7));
    s.apply(ev(1, 0, 'event', 'clear_page_dirty_for_io', 'folio f:0 pinned (pin=1): wait for unpin', 7));
    expect([...s.pages.values()]).toEqual([
      { id: 7, name: 'folio f:0', cached: true, dirty: false, pins: 0 },
    ]);
    s.apply(ev(2, 0, 'event', 'pin_user_page', 'folio f:0 pin=1', 7));
    s.apply(ev(3, 0, 'event', 'filemap_remove_folio', 'folio f:0 (truncate)', 7));
    expect(stateLines(s, [])).toEqual([
      { section: 'user pages', text: 'f:0: removed from the page cache, pinned ×1' },
    ]);
  });

  it('spans open when the run ended (a deadlock) are marked open', () => {
    const events = [
      ev(0, 0, 'acquire', 'x', 'A excl'),
      ev(1, 0, 'wait', 'mutex_lock', 'B'),
      ev(2, 1, 'acquire', 'x', 'B excl'),
      ev(3, 1, 'wait', 'mutex_lock', 'A'),
    ];
    const spans = allSpans(events);
    expect(spans.map((s) => `${s.kind} ${s.name} ${s.open}`)).toEqual([
      'lock A excl true',
      'wait B true',
      'lock B excl true',
      'wait A true',
    ]);
    expect(spans.every((s) => s.end === 4)).toBe(true);
  });
});
