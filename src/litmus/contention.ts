/**
 * Which ops of a scenario contend with another task's ops, as the oracles judge them: the ones whose
 * place in real time can change a verdict. The explorer's partial-order reduction orders the
 * history's clock ticks (an op's start and end) only for them (src/litmus/world.ts, HistoryClock).
 *
 * The oracles see real time only through `a.end < b.start` (src/check/oracles.ts, refmodel.ts): a
 * history is legal when some sequential order of its ops consistent with that relation explains
 * every read, the final contents and every fsync. Call an op *uncontended* when no op of another
 * task writes a byte it touches and no op of another task touches a byte it writes. Moving an
 * uncontended op R in real time (its start or end past another task's start or end) never changes a
 * verdict:
 * - what R must observe, and what it leaves, depends only on its own task's ops on its bytes, and
 *   those are ordered by program order whatever the schedule;
 * - R constrains nobody else: real time is an interval order, so if A ended before R started and R
 *   ended before B started then A ended before B started — every constraint R carries between two
 *   other ops, they carry directly. Given a legal order of the other ops, R fits in it after every
 *   op that ended before R started and before every op that started after R ended (all of the
 *   former end before all of the latter start, so the legal order already puts them in that
 *   order), and no other op's legality depends on where.
 * Contention is not pairwise: two reads of disjoint bytes can matter through a third op that writes
 * both (R1 saw x new, R1 ended before R2 started, R2 saw y old, one write set both). Both reads
 * then contend with that write, so all three are ordered.
 *
 * Bytes are resolved statically and over-approximated: a mapping stands for the file bytes behind
 * it (even MAP_PRIVATE, whose pages show the file until a store copies them); collapse and insert write the whole
 * file; a file whose size may change (truncate, any fallocate but a punch or a keep_size
 * zero/alloc, a pwrite past the initial size) is touched as a whole by every op on it; fsync,
 * fdatasync and msync read the whole file (the durability oracle orders them against every write
 * of it); writeback and evict change nothing the oracles see and touch nothing. Over-approximating only makes more ops contended: more schedules
 * explored, never fewer.
 *
 * One limit: the checker gives up on a partition past its state budget (src/check/linearize.ts)
 * and the run is inconclusive; an uncontended op left concurrent with an op of its partition adds
 * states, so at that edge two equivalent runs could differ in whether they are inconclusive. No
 * built-in scenario comes near it.
 */
import type { Addr, Op, Scenario } from './ast.js';

interface Access {
  region: string;
  start: number;
  end: number;
  write: boolean;
}

const WHOLE = Number.MAX_SAFE_INTEGER;

/** Files whose size no op of the scenario can change. */
function sizeStaticFiles(s: Scenario): Set<string> {
  const out = new Set(s.files.map((f) => f.name));
  const size = new Map(s.files.map((f) => [f.name, f.size]));
  for (const task of s.tasks) {
    for (const op of task.ops) {
      if (op.op === 'truncate') out.delete(op.file);
      else if (op.op === 'fallocate') {
        const keeps = op.mode === 'punch' || ((op.mode === 'zero' || op.mode === 'alloc') && op.keepSize);
        if (!keeps) out.delete(op.file);
      } else if (op.op === 'pwrite' && op.off + op.len > (size.get(op.file) ?? 0)) out.delete(op.file);
    }
  }
  return out;
}

/** The bytes behind a user address: a file's (through a mapping) or a named buffer's. */
function userBytes(s: Scenario, a: Addr, len: number, write: boolean): Access {
  const map = s.maps.find((m) => m.name === a.region);
  if (map) return { region: map.file, start: map.offset + a.offset, end: map.offset + a.offset + len, write };
  return { region: a.region, start: a.offset, end: a.offset + len, write };
}

function opAccesses(s: Scenario, op: Op): Access[] {
  switch (op.op) {
    case 'pread':
    case 'pwrite': {
      const file = { region: op.file, start: op.off, end: op.off + op.len, write: op.op === 'pwrite' };
      return op.buf ? [file, userBytes(s, op.buf, op.len, op.op === 'pread')] : [file];
    }
    case 'load':
      return [userBytes(s, op.addr, op.len, false)];
    case 'store':
      return [userBytes(s, op.addr, op.len, true)];
    case 'fallocate':
      // Collapse and insert shift every byte after the range; the other modes change the range
      // (and the size, unless kept: sizeStaticFiles widens those to the whole file).
      if (op.mode === 'collapse' || op.mode === 'insert')
        return [{ region: op.file, start: 0, end: WHOLE, write: true }];
      return [{ region: op.file, start: op.off, end: op.off + op.len, write: true }];
    case 'truncate':
      return [{ region: op.file, start: 0, end: WHOLE, write: true }];
    case 'fsync':
    case 'fdatasync':
      return [{ region: op.file, start: 0, end: WHOLE, write: false }];
    case 'msync': {
      const b = userBytes(s, op.addr, op.len, false);
      return [{ region: b.region, start: 0, end: WHOLE, write: false }];
    }
    case 'writeback':
    case 'evict':
      return [];
  }
}

function conflict(a: readonly Access[], b: readonly Access[]): boolean {
  for (const x of a) {
    for (const y of b) {
      if (x.region === y.region && (x.write || y.write) && x.start < y.end && y.start < x.end) return true;
    }
  }
  return false;
}

const cache = new WeakMap<Scenario, Set<Op>>();

/** The ops of `s` that contend with some op of another task (see the comment at the top). */
export function contendedOps(s: Scenario): Set<Op> {
  const hit = cache.get(s);
  if (hit) return hit;
  const fixed = sizeStaticFiles(s);
  const accesses = s.tasks.map((task) =>
    task.ops.map((op) =>
      opAccesses(s, op).map((a) =>
        fixed.has(a.region) || !isFile(s, a.region) ? a : { ...a, start: 0, end: WHOLE },
      ),
    ),
  );
  const out = new Set<Op>();
  for (let i = 0; i < s.tasks.length; i++) {
    for (let j = i + 1; j < s.tasks.length; j++) {
      s.tasks[i].ops.forEach((a, ia) => {
        s.tasks[j].ops.forEach((b, jb) => {
          if (conflict(accesses[i][ia], accesses[j][jb])) {
            out.add(a);
            out.add(b);
          }
        });
      });
    }
  }
  cache.set(s, out);
  return out;
}

function isFile(s: Scenario, region: string): boolean {
  return s.files.some((f) => f.name === region);
}
