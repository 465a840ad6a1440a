/**
 * The canonical form of a program: programs equal up to renaming tasks (threads of one process
 * are interchangeable) or files (f and g are both 2-page written files) are one program and run
 * once. The canonical form is the least, over both file namings, of the program's tasks' symbolic
 * ops sorted: sorting the tasks quotients the task renamings, the minimum the file renamings.
 */
import { type FileName, type GenOp, type MapRef, opKey, type Program } from './space.js';

const SWAP: Record<FileName, FileName> = { f: 'g', g: 'f' };

function swapMap(m: MapRef): MapRef {
  return { ...m, file: SWAP[m.file] };
}

/** The op with f and g exchanged (in its file and in the map it uses). */
export function swapFiles(op: GenOp): GenOp {
  switch (op.kind) {
    case 'load':
    case 'store':
      return { ...op, map: swapMap(op.map) };
    case 'pread':
    case 'pwrite':
      return { ...op, file: SWAP[op.file], buf: op.buf ? swapMap(op.buf) : null };
    default:
      return { ...op, file: SWAP[op.file] };
  }
}

function taskKey(ops: readonly GenOp[]): string {
  return ops.map(opKey).join('; ');
}

/** The program's tasks in canonical order, under the file naming whose key is least. */
export function canonical(p: Program): Program {
  const sorted = (tasks: GenOp[][]): GenOp[][] =>
    tasks
      .map((ops) => ({ ops, key: taskKey(ops) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((t) => t.ops);
  const a = sorted(p.tasks);
  const b = sorted(p.tasks.map((ops) => ops.map(swapFiles)));
  const key = (tasks: GenOp[][]) => tasks.map(taskKey).join(' || ');
  return { geometry: p.geometry, tasks: key(a) <= key(b) ? a : b };
}

/** The canonical key: programs with the same key are the same program up to renaming. */
export function canonicalKey(p: Program): string {
  const c = canonical(p);
  return `${c.geometry.name} | ${c.tasks.map(taskKey).join(' || ')}`;
}
