/**
 * Scenario → litmus text. `formatOp` prints one op in bytes (for traces); `formatScenario` prints
 * a whole scenario that parses back to the same AST (modulo `line`, `text` and `source`).
 */
import {
  type Addr,
  diskBlocksDefault,
  FINDING_KINDS,
  LATENCY_DEFAULT,
  LOOP_COUNT_MAX,
  type Op,
  type Scenario,
  type TaskDecl,
} from './ast.js';

/** One op in litmus syntax, every size in bytes: `pwrite f 0 32 direct buf=m+64 data=0xab`. */
export function formatOp(op: Op): string {
  switch (op.op) {
    case 'pread':
      return join(['pread', op.file, op.off, op.len, op.direct && 'direct', op.buf && `buf=${addr(op.buf)}`]);
    case 'pwrite': {
      const buf = op.buf && `buf=${addr(op.buf)}`;
      return join(['pwrite', op.file, op.off, op.len, op.direct && 'direct', buf, byte(op.data)]);
    }
    case 'load':
      return join(['load', addr(op.addr), op.len]);
    case 'store':
      return join(['store', addr(op.addr), op.len, byte(op.data)]);
    case 'fallocate': {
      const keep = op.keepSize && op.mode !== 'punch' && 'keep-size';
      return join(['fallocate', op.file, op.mode, op.off, op.len, keep]);
    }
    case 'truncate':
      return join(['truncate', op.file, op.size]);
    case 'fsync':
    case 'fdatasync':
    case 'writeback':
      return join([op.op, op.file]);
    case 'msync':
      return join(['msync', addr(op.addr), op.len]);
    case 'evict':
      return join(['evict', op.file, op.off]);
  }
}

/**
 * A whole scenario in litmus syntax: header, declarations, one line per run of ops that came
 * from one source line (a repeated run as `loop N`), then `forbid`/`expect` when not default.
 */
export function formatScenario(s: Scenario): string {
  const size = (n: number) => (n > 0 && n % s.pageSize === 0 ? `${n / s.pageSize}p` : `${n}`);
  const out = [`litmus ${s.name}`];
  if (s.doc !== '') out.push(`doc ${quote(s.doc)}`);
  out.push(`page ${s.pageSize}`);
  if (s.blockSize !== s.pageSize) out.push(`block ${s.blockSize}`);
  if (s.diskBlocks !== diskBlocksDefault(s.files, s.blockSize)) out.push(`disk ${s.diskBlocks}`);
  if (s.latency !== LATENCY_DEFAULT) out.push(`latency ${s.latency}`);
  if (s.reclaim > 0) out.push(`reclaim ${s.reclaim}`);
  for (const [key, value] of Object.entries(s.options)) out.push(`option ${key}=${value}`);
  for (const f of s.files) out.push(`file ${f.name} ${size(f.size)} ${f.init}`);
  for (const m of s.maps) {
    out.push(
      `map ${m.name} ${m.file} ${size(m.offset)} ${size(m.length)} ${m.shared ? 'shared' : 'private'}`,
    );
  }
  for (const b of s.bufs) out.push(`buf ${b.name} ${size(b.size)}`);
  out.push('');
  for (const t of s.tasks) out.push(...formatTask(t));
  if (s.nodes && s.nodes.length > 0)
    out.push('', ...s.nodes.map((n) => `node ${n.name}: ${n.tasks.join(' ')}`));
  const tail = formatVerdicts(s);
  if (tail.length > 0) out.push('', ...tail);
  return `${out.join('\n')}\n`;
}

function formatVerdicts(s: Scenario): string[] {
  const out: string[] = [];
  const isDefault =
    s.forbid.length === FINDING_KINDS.length && s.forbid.every((k, i) => k === FINDING_KINDS[i]);
  if (!isDefault) out.push(`forbid ${s.forbid.length === 0 ? 'none' : s.forbid.join(' ')}`);
  if (s.expect !== null) out.push(`expect ${s.expect}`);
  return out;
}

/** One line per run of ops sharing a source line. */
function formatTask(t: TaskDecl): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 1; i <= t.ops.length; i++) {
    if (i < t.ops.length && t.ops[i].line === t.ops[start].line) continue;
    out.push(`${t.name}: ${formatRun(t.ops.slice(start, i).map(formatOp))}`);
    start = i;
  }
  return out;
}

/** `a; b; a; b` → `loop 2 a; b`: the shortest period whose count fits a loop (not for `a; a`). */
function formatRun(ops: readonly string[]): string {
  if (ops.length < 3) return ops.join('; ');
  for (let period = 1; period <= ops.length / 2; period++) {
    const count = ops.length / period;
    if (!Number.isInteger(count) || count > LOOP_COUNT_MAX) continue;
    if (ops.every((o, i) => o === ops[i % period])) return `loop ${count} ${ops.slice(0, period).join('; ')}`;
  }
  return ops.join('; ');
}

function join(parts: readonly (string | number | false | null)[]): string {
  return parts.filter((p) => p !== false && p !== null).join(' ');
}

function addr(a: Addr): string {
  return `${a.region}+${a.offset}`;
}

function byte(data: number | null): string | null {
  return data === null ? null : `data=0x${data.toString(16).padStart(2, '0')}`;
}

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
