/**
 * The symbolic program space of `pagelab campaign` (docs/campaign.md): programs are tasks of
 * symbolic ops over two files `f` and `g` of two pages each, in one of two geometries. Offsets and
 * lengths are classes relative to page and block boundaries, the way CrashMonkey's ACE keeps its
 * workloads finite (Mohan et al., OSDI 2018): a class stands for every offset that sits the same way
 * against the boundaries, and the model's algorithms only ever compare offsets with those
 * boundaries (block and page rounding, EOF).
 *
 * A symbolic op is plain data; `litmusText` makes a litmus scenario of a program, declaring the
 * maps its ops use. Buffers and load/store targets are one-page maps named after what they map:
 * `sf0` is a MAP_SHARED mapping of f's page 0, `pg1` a MAP_PRIVATE one of g's page 1, so renaming
 * the files renames the maps with them (canon.ts).
 */

/** Bytes per page in every generated program (the litmus default). */
export const PAGE = 64;

export interface Geometry {
  name: 'block=page' | 'block<page';
  block: number;
}

export const GEOMETRIES: readonly Geometry[] = [
  { name: 'block=page', block: PAGE },
  { name: 'block<page', block: 16 },
];

export type FileName = 'f' | 'g';
export const FILES: readonly FileName[] = ['f', 'g'];
/** Pages of each file before the tasks start (written: blocks on the disk, nothing cached). */
export const FILE_PAGES = 2;

/**
 * Ranges, by where they sit against the boundaries of a 2-page file:
 * p0, p1 — one whole page, page- and block-aligned (page 1 ends at EOF);
 * blk — one block inside page 0, block-aligned, not page-aligned (block < page only);
 * sub — 8 bytes inside block 0, aligned to nothing;
 * straddle — 16 bytes across the page 0/1 boundary (and so a block boundary);
 * eof — 16 bytes across EOF (reads come back short, writes extend the file).
 */
export type RangeClass = 'p0' | 'p1' | 'blk' | 'sub' | 'straddle' | 'eof';

export function rangeClasses(geo: Geometry): RangeClass[] {
  return geo.block < PAGE
    ? ['p0', 'p1', 'blk', 'sub', 'straddle', 'eof']
    : ['p0', 'p1', 'sub', 'straddle', 'eof'];
}

export function rangeOf(rc: RangeClass, geo: Geometry): { off: number; len: number } {
  const eof = FILE_PAGES * PAGE;
  switch (rc) {
    case 'p0':
      return { off: 0, len: PAGE };
    case 'p1':
      return { off: PAGE, len: PAGE };
    case 'blk':
      return { off: geo.block, len: geo.block };
    case 'sub':
      return { off: 4, len: 8 };
    case 'straddle':
      return { off: PAGE - 8, len: 16 };
    case 'eof':
      return { off: eof - 8, len: 16 };
  }
}

/** A one-page mapping of a file's page: the user buffer of a transfer, or a load/store target. */
export interface MapRef {
  file: FileName;
  page: 0 | 1;
  shared: boolean;
}

export function mapName(m: MapRef): string {
  return `${m.shared ? 's' : 'p'}${m.file}${m.page}`;
}

/** Every one-page mapping: either file, either page, shared or private. */
export const MAP_REFS: readonly MapRef[] = FILES.flatMap((file) =>
  ([0, 1] as const).flatMap((page) => [true, false].map((shared) => ({ file, page, shared }))),
);

export type GenOp =
  | { kind: 'pread' | 'pwrite'; file: FileName; range: RangeClass; direct: boolean; buf: MapRef | null }
  | { kind: 'load' | 'store'; map: MapRef }
  | {
      kind: 'fallocate';
      file: FileName;
      mode: 'alloc' | 'punch' | 'zero' | 'collapse' | 'insert';
      range: RangeClass;
      keepSize: boolean;
    }
  | { kind: 'truncate'; file: FileName; dir: 'down' | 'up' }
  | { kind: 'fsync' | 'writeback'; file: FileName }
  | { kind: 'evict'; file: FileName; page: 0 | 1 };

export interface Program {
  geometry: Geometry;
  /** One list of ops per task, P0 first. */
  tasks: GenOp[][];
}

/** Bytes of a truncate: down to inside page 1 (sub-block), up to inside page 2. */
function truncateSize(dir: 'down' | 'up'): number {
  return dir === 'down' ? PAGE + 8 : FILE_PAGES * PAGE + 8;
}

/** The litmus text of one op (sizes in bytes). */
export function opText(op: GenOp, geo: Geometry): string {
  switch (op.kind) {
    case 'pread':
    case 'pwrite': {
      const { off, len } = rangeOf(op.range, geo);
      const flags = `${op.direct ? ' direct' : ''}${op.buf ? ` buf=${mapName(op.buf)}` : ''}`;
      return `${op.kind} ${op.file} ${off} ${len}${flags}`;
    }
    case 'load':
    case 'store':
      return `${op.kind} ${mapName(op.map)}+8 8`;
    case 'fallocate': {
      const { off, len } = rangeOf(op.range, geo);
      return `fallocate ${op.file} ${op.mode} ${off} ${len}${op.keepSize ? ' keep-size' : ''}`;
    }
    case 'truncate':
      return `truncate ${op.file} ${truncateSize(op.dir)}`;
    case 'fsync':
    case 'writeback':
      return `${op.kind} ${op.file}`;
    case 'evict':
      return `evict ${op.file} ${op.page * PAGE}`;
  }
}

/** The short symbolic form of an op: the canonical form's alphabet (canon.ts). */
export function opKey(op: GenOp): string {
  switch (op.kind) {
    case 'pread':
    case 'pwrite':
      return `${op.kind}${op.direct ? '-direct' : ''} ${op.file} ${op.range}${op.buf ? ` ${mapName(op.buf)}` : ''}`;
    case 'load':
    case 'store':
      return `${op.kind} ${mapName(op.map)}`;
    case 'fallocate':
      return `fallocate-${op.mode}${op.keepSize ? '-keep' : ''} ${op.file} ${op.range}`;
    case 'truncate':
      return `truncate-${op.dir} ${op.file}`;
    case 'fsync':
    case 'writeback':
      return `${op.kind} ${op.file}`;
    case 'evict':
      return `evict ${op.file} ${op.page}`;
  }
}

function mapsOf(op: GenOp): MapRef[] {
  if (op.kind === 'load' || op.kind === 'store') return [op.map];
  if ((op.kind === 'pread' || op.kind === 'pwrite') && op.buf) return [op.buf];
  return [];
}

/** The maps a program uses, each once, in the order of MAP_REFS. */
export function programMaps(p: Program): MapRef[] {
  const used = new Set(p.tasks.flatMap((ops) => ops.flatMap(mapsOf)).map(mapName));
  return MAP_REFS.filter((m) => used.has(mapName(m)));
}

/** A program as a litmus scenario named `name`; every kind of finding forbidden. */
export function litmusText(p: Program, name: string): string {
  const lines = [`litmus ${name}`, `page ${PAGE}`];
  if (p.geometry.block !== PAGE) lines.push(`block ${p.geometry.block}`);
  for (const f of FILES) lines.push(`file ${f} ${FILE_PAGES}p written`);
  for (const m of programMaps(p)) {
    lines.push(`map ${mapName(m)} ${m.file} ${m.page}p 1p ${m.shared ? 'shared' : 'private'}`);
  }
  p.tasks.forEach((ops, i) => {
    lines.push(`P${i}: ${ops.map((op) => opText(op, p.geometry)).join('; ')}`);
  });
  return `${lines.join('\n')}\n`;
}

/** The program in one line: geometry, then each task's ops (the campaign's `program` field). */
export function programKey(p: Program): string {
  return `${p.geometry.name} | ${p.tasks.map((ops) => ops.map(opKey).join('; ')).join(' || ')}`;
}
