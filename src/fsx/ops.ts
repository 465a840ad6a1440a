/**
 * fsx's operations (the OP_* enum and op_names[] of fstests ltp/fsx.c) and its log entry. The
 * numbering is fsx's own: the op of a random test call is `random() % OP_MAX_FULL`, so the order
 * here decides which op a seed draws.
 */
export const OP_READ = 0;
export const OP_READ_DONTCACHE = 1;
export const OP_WRITE = 2;
export const OP_WRITE_DONTCACHE = 3;
export const OP_WRITE_ATOMIC = 4;
export const OP_MAPREAD = 5;
export const OP_MAPWRITE = 6;
export const OP_MAX_LITE = 7;
export const OP_TRUNCATE = 7;
export const OP_FALLOCATE = 8;
export const OP_PUNCH_HOLE = 9;
export const OP_ZERO_RANGE = 10;
export const OP_COLLAPSE_RANGE = 11;
export const OP_INSERT_RANGE = 12;
export const OP_CLONE_RANGE = 13;
export const OP_DEDUPE_RANGE = 14;
export const OP_COPY_RANGE = 15;
export const OP_EXCHANGE_RANGE = 16;
export const OP_MAX_FULL = 17;
export const OP_FSYNC = 17;
export const OP_MAX_INTEGRITY = 18;

/** op_names[], indexed by op code. */
export const OP_NAMES: readonly string[] = [
  'read',
  'read_dontcache',
  'write',
  'write_dontcache',
  'write_atomic',
  'mapread',
  'mapwrite',
  'truncate',
  'fallocate',
  'punch_hole',
  'zero_range',
  'collapse_range',
  'insert_range',
  'clone_range',
  'dedupe_range',
  'copy_range',
  'exchange_range',
  'fsync',
];

/** op_code(): the op of a log name, or -1. */
export function opCode(name: string): number {
  return OP_NAMES.indexOf(name);
}

/** op_args_count(): the ops with a destination log four numbers (log5), the others three (log4). */
export function opArgsCount(op: number): number {
  return op === OP_CLONE_RANGE || op === OP_DEDUPE_RANGE || op === OP_COPY_RANGE || op === OP_EXCHANGE_RANGE
    ? 4
    : 3;
}

/** enum opflags. `overlap` is the `*` marker (the entry's range holds the first bad offset). */
export interface LogFlags {
  skipped: boolean;
  keepSize: boolean;
  closeOpen: boolean;
  unshare: boolean;
}

/**
 * struct log_entry: an op and its numbers (offset, length, [dest,] file size before the op; a
 * truncate is `0 newsize oldsize`). Numbers are C ints, kept here as unsigned 32-bit values as
 * `%x` prints them. `line` is the 1-based line of a parsed entry (0 for a generated one).
 */
export interface LogEntry {
  op: number;
  args: number[];
  flags: LogFlags;
  line: number;
}

export const NO_FLAGS: LogFlags = { skipped: false, keepSize: false, closeOpen: false, unshare: false };
