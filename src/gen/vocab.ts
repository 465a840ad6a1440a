/**
 * The op vocabulary of the default space (docs/campaign.md): buffered and O_DIRECT pread and
 * pwrite over every range class with every buffer (anonymous, or a shared or private mapping of
 * either file at either page), load and store through every mapping, every fallocate mode over
 * every range class (alloc and zero also with keep-size, past EOF where it matters), truncate down
 * and up, fsync, writeback, and evict of either page.
 */
import {
  FILES,
  type GenOp,
  type Geometry,
  MAP_REFS,
  type MapRef,
  type RangeClass,
  rangeClasses,
} from './space.js';

const BUFFERS: readonly (MapRef | null)[] = [null, ...MAP_REFS];
const FALLOC_MODES = ['alloc', 'punch', 'zero', 'collapse', 'insert'] as const;

function transfers(geo: Geometry): GenOp[] {
  const out: GenOp[] = [];
  for (const kind of ['pread', 'pwrite'] as const)
    for (const direct of [false, true])
      for (const file of FILES)
        for (const range of rangeClasses(geo))
          for (const buf of BUFFERS) out.push({ kind, file, range, direct, buf });
  return out;
}

function fallocates(geo: Geometry): GenOp[] {
  const out: GenOp[] = [];
  for (const file of FILES) {
    for (const mode of FALLOC_MODES)
      for (const range of rangeClasses(geo))
        out.push({ kind: 'fallocate', file, mode, range, keepSize: false });
    // FALLOC_FL_KEEP_SIZE changes nothing inside EOF: only the range across EOF tells it apart.
    const eof: RangeClass = 'eof';
    out.push({ kind: 'fallocate', file, mode: 'alloc', range: eof, keepSize: true });
    out.push({ kind: 'fallocate', file, mode: 'zero', range: eof, keepSize: true });
  }
  return out;
}

/** Every op of the default space in one geometry, in a fixed order. */
export function vocabulary(geo: Geometry): GenOp[] {
  const ops: GenOp[] = [...transfers(geo)];
  for (const kind of ['load', 'store'] as const) for (const map of MAP_REFS) ops.push({ kind, map });
  ops.push(...fallocates(geo));
  for (const file of FILES) {
    ops.push({ kind: 'truncate', file, dir: 'down' }, { kind: 'truncate', file, dir: 'up' });
    ops.push({ kind: 'fsync', file }, { kind: 'writeback', file });
    ops.push({ kind: 'evict', file, page: 0 }, { kind: 'evict', file, page: 1 });
  }
  return ops;
}
