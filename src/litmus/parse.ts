/**
 * The litmus parser: text → Scenario. One pass over the lines; names are declared before use;
 * `page` and `block` come before the first file, map, buf or task (sizes like `2p` need them).
 * The grammar is in docs/litmus.md.
 */
import {
  BLOCK_SIZE_MIN,
  DEVICE_BYTES_MAX,
  DISK_BLOCKS_MAX,
  diskBlocksDefault,
  FILE_INITS,
  FILES_MAX,
  FINDING_KINDS,
  type FindingKind,
  fileBlocksAllocated,
  INODE_ADDR_ORDERS,
  LATENCY_DEFAULT,
  LATENCY_MAX,
  NODES_MAX,
  type NodeDecl,
  PAGE_SIZE_DEFAULT,
  PAGE_SIZE_MAX,
  PAGE_SIZE_MIN,
  RECLAIM_MAX,
  REGIONS_MAX,
  type Scenario,
  TASK_OPS_MAX,
  type TaskDecl,
} from './ast.js';
import { Cursor, type Decl, type DeclKind, type Env, shown, suggest } from './cursor.js';
import { LitmusError } from './error.js';
import { lexLines, type SourceLine, type Token } from './lex.js';
import { OP_NAMES, parseTaskLine } from './ops.js';

export { LitmusError } from './error.js';
export { formatOp, formatScenario } from './format.js';

type Keyword =
  | 'litmus'
  | 'doc'
  | 'page'
  | 'block'
  | 'disk'
  | 'latency'
  | 'file'
  | 'map'
  | 'buf'
  | 'reclaim'
  | 'option'
  | 'node'
  | 'forbid'
  | 'expect';

/** Every statement with its usage line, as shown in errors and docs/litmus.md. */
export const STATEMENT_USAGE: Readonly<Record<Keyword, string>> = {
  litmus: 'litmus NAME',
  doc: 'doc "TEXT"',
  page: 'page BYTES',
  block: 'block BYTES',
  disk: 'disk BLOCKS',
  latency: 'latency TICKS',
  file: `file NAME SIZE ${FILE_INITS.join('|')}`,
  map: 'map NAME FILE OFFSET LENGTH shared|private',
  buf: 'buf NAME SIZE',
  reclaim: 'reclaim FOLIOS',
  option: 'option KEY=VALUE...',
  node: 'node NAME: TASK...',
  forbid: 'forbid KIND... | forbid none',
  expect: `expect KIND|ok`,
};

const KEYWORDS = Object.keys(STATEMENT_USAGE) as Keyword[];
/** Statements that may appear once. */
const SINGLETONS: ReadonlySet<Keyword> = new Set<Keyword>([
  'litmus',
  'doc',
  'page',
  'block',
  'disk',
  'latency',
  'reclaim',
  'forbid',
  'expect',
]);

const SCENARIO_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const DECL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const OPTION_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Parses a litmus scenario. `file` names the input in errors and becomes `Scenario.source`.
 * Throws LitmusError (message `file:line:col: reason`) on any bad input.
 */
export function parseLitmus(text: string, file = '<input>'): Scenario {
  const lines = lexLines(text, file);
  if (lines.length === 0) throw new LitmusError(file, 1, 1, "empty scenario: expected 'litmus NAME'");
  return new ScenarioParser(file, text, lines).parse();
}

type Handler = (c: Cursor, head: Token) => void;

class ScenarioParser implements Env {
  private readonly s: Scenario;
  private readonly decls = new Map<string, Decl>();
  private readonly declsAnywhere: Map<string, Decl>;
  private readonly seen = new Map<Keyword, number>();
  private readonly optionLines = new Map<string, number>();
  private readonly optionCols = new Map<string, number>();
  private readonly tasks = new Map<string, TaskDecl>();
  /** `node` lines: each task named on one, with the column of its name (checked in finish). */
  private readonly nodes: NodeDecl[] = [];
  private readonly nodeTaskCols = new Map<NodeDecl, number[]>();
  /** Line of the first file, map, buf or task: `page` and `block` must come before it. */
  private firstUseLine: number | null = null;
  private diskTok: { value: number; line: number; col: number } | null = null;
  /** `option sector=N`, checked against the block size once every line is read. */
  private sectorTok: { value: string; line: number; col: number } | null = null;

  constructor(
    readonly file: string,
    text: string,
    private readonly lines: readonly SourceLine[],
  ) {
    this.declsAnywhere = prescanDecls(lines);
    this.s = {
      name: '',
      doc: '',
      source: file,
      pageSize: PAGE_SIZE_DEFAULT,
      blockSize: PAGE_SIZE_DEFAULT,
      diskBlocks: 0,
      latency: LATENCY_DEFAULT,
      files: [],
      maps: [],
      bufs: [],
      reclaim: 0,
      options: {},
      tasks: [],
      forbid: [...FINDING_KINDS],
      expect: null,
      text,
    };
  }

  parse(): Scenario {
    this.checkLitmusFirst(this.lines[0]);
    for (const line of this.lines) {
      if (line.label !== null) this.task(line);
      else this.statement(line);
    }
    return this.finish();
  }

  get pageSize(): number {
    return this.s.pageSize;
  }

  get blockSize(): number {
    return this.s.blockSize;
  }

  decl(name: string): Decl | undefined {
    return this.decls.get(name);
  }

  declAnywhere(name: string): Decl | undefined {
    return this.declsAnywhere.get(name);
  }

  names(kind: DeclKind): string[] {
    return [...this.decls].filter(([, d]) => d.kind === kind).map(([n]) => n);
  }

  private fail(line: number, col: number, reason: string): never {
    throw new LitmusError(this.file, line, col, reason);
  }

  private checkLitmusFirst(line: SourceLine): void {
    if (line.label !== null) {
      this.fail(line.no, line.label.col, `expected 'litmus NAME' first, got task '${line.label.text}'`);
    }
    const head = line.tokens[0];
    if (head.text !== 'litmus' || head.kind !== 'word') {
      this.fail(line.no, head.col, `expected 'litmus NAME' first, got ${shown(head)}`);
    }
  }

  private statement(line: SourceLine): void {
    const head = line.tokens[0];
    const kw = this.keyword(line.no, head, line.tokens[1]);
    const first = this.seen.get(kw);
    if (first !== undefined && SINGLETONS.has(kw)) {
      this.fail(line.no, head.col, `duplicate '${kw}' (first at line ${first})`);
    }
    if (first === undefined) this.seen.set(kw, line.no);
    const c = new Cursor(this, line.no, line.tokens.slice(1), line.end, STATEMENT_USAGE[kw]);
    this.handlers[kw](c, head);
  }

  private keyword(lineNo: number, head: Token, next: Token | undefined): Keyword {
    if (head.kind !== 'word') this.fail(lineNo, head.col, `expected a statement, got ${shown(head)}`);
    const kw = KEYWORDS.find((k) => k === head.text);
    if (kw !== undefined) return kw;
    if (OP_NAMES.some((n) => n === head.text)) {
      this.fail(
        lineNo,
        head.col,
        `'${head.text}' is an op: put it on a task line, e.g. 'P0: ${head.text} ...'`,
      );
    }
    this.fail(
      lineNo,
      head.col,
      `unknown statement '${head.text}'${suggest(head.text, KEYWORDS) || colonHint(head, next)}`,
    );
  }

  private readonly handlers: Readonly<Record<Keyword, Handler>> = {
    litmus: (c) => {
      const tok = c.next('NAME');
      if (!SCENARIO_NAME.test(tok.text)) {
        c.fail(
          tok,
          `bad scenario name '${tok.text}' (use [a-z0-9][a-z0-9._-]*, e.g. dio-write-vs-mmap-store)`,
        );
      }
      c.done();
      this.s.name = tok.text;
    },
    doc: (c) => {
      this.s.doc = c.nextString('"TEXT"').text;
      c.done();
    },
    page: (c, head) => this.page(c, head),
    block: (c, head) => this.block(c, head),
    disk: (c) => {
      const tok = c.next('BLOCKS');
      this.diskTok = { value: c.countOf(tok, 'disk size', 1, DISK_BLOCKS_MAX), line: c.line, col: tok.col };
      c.done();
    },
    latency: (c) => {
      this.s.latency = c.count('latency', 0, LATENCY_MAX);
      c.done();
    },
    reclaim: (c) => {
      this.s.reclaim = c.count('reclaim', 1, RECLAIM_MAX);
      c.done();
    },
    file: (c) => this.fileDecl(c),
    map: (c) => this.mapDecl(c),
    buf: (c) => {
      this.checkCount(c, 'buf');
      const name = this.declare(c, 'buf');
      const size = c.size('SIZE', 1);
      c.done();
      this.decls.set(name, { kind: 'buf', size, line: c.line });
      this.s.bufs.push({ name, size, line: c.line });
    },
    option: (c) => {
      if (!c.more()) c.fail(null, `missing KEY=VALUE (usage: ${c.usage})`);
      for (const tok of c.rest()) this.option(c, tok);
    },
    node: (c) => this.nodeDecl(c),
    forbid: (c) => this.forbid(c),
    expect: (c) => {
      this.s.expect = c.choice('KIND', [...FINDING_KINDS, 'ok'] as const);
      c.done();
    },
  };

  private option(c: Cursor, tok: Token): void {
    if (tok.kind !== 'word') c.fail(tok, `unexpected ${shown(tok)} (usage: ${c.usage})`);
    const eq = tok.text.indexOf('=');
    if (eq < 0) c.fail(tok, `bad option '${tok.text}': expected KEY=VALUE`);
    const key = tok.text.slice(0, eq);
    const value = tok.text.slice(eq + 1);
    if (!OPTION_KEY.test(key)) c.fail(tok, `bad option key '${key}' (keys match [A-Za-z_][A-Za-z0-9_.-]*)`);
    if (value === '') c.fail(tok, `missing value after '${key}='`);
    // Checked here so that a bad value is a parse error (exit 2), not an exception in buildWorld.
    if (key === 'inode-addr' && !INODE_ADDR_ORDERS.some((o) => o === value))
      c.fail(tok, `bad option 'inode-addr=${value}': expected ${INODE_ADDR_ORDERS.join(' or ')}`);
    if (key === 'sector') this.sectorTok = { value, line: c.line, col: tok.col };
    if (key === 'dlm-latency' && !(/^[0-9]+$/.test(value) && Number(value) <= LATENCY_MAX))
      c.fail(
        tok,
        `bad option 'dlm-latency=${value}': expected ticks of a DLM round trip, 0 to ${LATENCY_MAX}`,
      );
    const first = this.optionLines.get(key);
    if (first !== undefined) c.fail(tok, `duplicate option '${key}' (first at line ${first})`);
    this.optionLines.set(key, c.line);
    this.optionCols.set(key, tok.col);
    // An own property even for keys like `__proto__`.
    Object.defineProperty(this.s.options, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }

  private geometryFirst(c: Cursor, head: Token): void {
    if (this.firstUseLine === null) return;
    c.fail(
      head,
      `'${head.text}' must come before the first file, map, buf or task (line ${this.firstUseLine})`,
    );
  }

  private page(c: Cursor, head: Token): void {
    this.geometryFirst(c, head);
    const tok = c.next('BYTES');
    const n = powerOfTwo(c, tok, 'page size', PAGE_SIZE_MIN, PAGE_SIZE_MAX);
    c.done();
    const blockLine = this.seen.get('block');
    if (blockLine !== undefined && this.blockSize > n) {
      c.fail(tok, `page size ${n} is smaller than the block size ${this.blockSize} (line ${blockLine})`);
    }
    this.s.pageSize = n;
    if (blockLine === undefined) this.s.blockSize = n;
  }

  private block(c: Cursor, head: Token): void {
    this.geometryFirst(c, head);
    const tok = c.next('BYTES');
    const n = powerOfTwo(c, tok, 'block size', BLOCK_SIZE_MIN, PAGE_SIZE_MAX);
    c.done();
    if (n > this.pageSize) {
      const hint = this.seen.has('page') ? '' : " (put 'page' before 'block')";
      c.fail(tok, `block size ${n} is larger than the page size ${this.pageSize}${hint}`);
    }
    this.s.blockSize = n;
  }

  /** Reads and checks a new name; returns it. The caller records the declaration. */
  private declare(c: Cursor, kind: DeclKind): string {
    this.firstUseLine ??= c.line;
    const tok = c.next('NAME');
    if (!DECL_NAME.test(tok.text)) {
      c.fail(tok, `bad ${kind} name '${tok.text}' (names match [A-Za-z_][A-Za-z0-9_]*)`);
    }
    const old = this.decls.get(tok.text);
    if (old !== undefined)
      c.fail(tok, `duplicate name '${tok.text}' (already a ${old.kind} at line ${old.line})`);
    return tok.text;
  }

  /** At most FILES_MAX files, REGIONS_MAX maps and bufs: what the model holds. */
  private checkCount(c: Cursor, kind: 'file' | 'map' | 'buf'): void {
    if (kind === 'file' && this.s.files.length >= FILES_MAX) {
      this.fail(c.line, 1, `more than ${FILES_MAX} files (the model holds at most ${FILES_MAX})`);
    }
    if (kind !== 'file' && this.s.maps.length + this.s.bufs.length >= REGIONS_MAX) {
      this.fail(c.line, 1, `more than ${REGIONS_MAX} maps and bufs (the model holds at most ${REGIONS_MAX})`);
    }
  }

  private fileDecl(c: Cursor): void {
    this.checkCount(c, 'file');
    const name = this.declare(c, 'file');
    const size = c.size('SIZE', 0);
    const init = c.choice('STATE', FILE_INITS);
    c.done();
    this.decls.set(name, { kind: 'file', size, line: c.line });
    this.s.files.push({ name, size, init, line: c.line });
  }

  private mapDecl(c: Cursor): void {
    this.checkCount(c, 'map');
    const name = this.declare(c, 'map');
    const fileTok = c.next('FILE');
    c.lookup(fileTok, ['file']);
    const offTok = c.next('OFFSET');
    const offset = c.sizeOf(offTok, 'OFFSET', 0);
    if (offset % this.pageSize !== 0) {
      c.fail(
        offTok,
        `map offset ${offset} is not page-aligned (page ${this.pageSize}): mmap(2) fails with EINVAL`,
      );
    }
    const length = roundUp(c.size('LENGTH', 1), this.pageSize);
    const shared = c.choice('shared|private', ['shared', 'private'] as const) === 'shared';
    c.done();
    this.decls.set(name, { kind: 'map', size: length, line: c.line });
    this.s.maps.push({ name, file: fileTok.text, offset, length, shared, line: c.line });
  }

  /**
   * `node NAME: TASK...`: the node's name (with its colon: `NAME:` at the start of a line is a task
   * label, so the node's colon comes after the keyword) and the tasks on it, which may be declared
   * anywhere in the scenario (checked in finish()).
   */
  private nodeDecl(c: Cursor): void {
    const tok = c.next('NAME:');
    const name = tok.text.endsWith(':') ? tok.text.slice(0, -1) : '';
    if (name === '' || !DECL_NAME.test(name)) {
      c.fail(tok, `bad node '${tok.text}': expected NAME: (names match [A-Za-z_][A-Za-z0-9_]*)`);
    }
    const old = this.nodes.find((n) => n.name === name);
    if (old !== undefined) c.fail(tok, `duplicate node '${name}' (first at line ${old.line})`);
    if (this.nodes.length >= NODES_MAX) c.fail(tok, `more than ${NODES_MAX} nodes`);
    const tokens = c.rest();
    if (tokens.length === 0) c.fail(null, `node ${name} has no task (usage: ${c.usage})`);
    const node: NodeDecl = { name, tasks: [], line: c.line };
    const cols: number[] = [];
    for (const t of tokens) {
      if (t.kind !== 'word') c.fail(t, `unexpected ${shown(t)} (usage: ${c.usage})`);
      const other =
        this.nodes.find((n) => n.tasks.includes(t.text)) ?? (node.tasks.includes(t.text) ? node : null);
      if (other) c.fail(t, `task ${t.text} is already on node ${other.name} (line ${other.line})`);
      node.tasks.push(t.text);
      cols.push(t.col);
    }
    this.nodes.push(node);
    this.nodeTaskCols.set(node, cols);
  }

  /**
   * Each node has its own memory: a buffer or private mapping exists once per node, and the
   * reference model would take the copies for one region. So one that an op writes (a store, a
   * read into it) may be used on one node only; read-only use on several is the same zeroes or
   * file bytes on each.
   */
  private checkNodeMemory(): void {
    const nodeOf = new Map(this.nodes.flatMap((n) => n.tasks.map((t) => [t, n.name] as const)));
    const own = new Set([
      ...this.s.bufs.map((b) => b.name),
      ...this.s.maps.filter((m) => !m.shared).map((m) => m.name),
    ]);
    const users = new Map<string, Set<string>>();
    const written = new Map<string, number>();
    for (const task of this.s.tasks) {
      for (const op of task.ops) {
        const region = 'addr' in op ? op.addr.region : 'buf' in op && op.buf ? op.buf.region : null;
        if (!region || !own.has(region)) continue;
        users.set(region, (users.get(region) ?? new Set()).add(nodeOf.get(task.name) as string));
        if (op.op === 'store' || op.op === 'pread') written.set(region, written.get(region) ?? op.line);
      }
    }
    for (const [region, nodes] of users) {
      const line = written.get(region);
      if (nodes.size < 2 || line === undefined) continue;
      this.fail(
        line,
        1,
        `'${region}' is written on node ${[...nodes].join(' and node ')}: each node has its own memory; declare one buffer or private map per node`,
      );
    }
  }

  /** Every task named on a `node` line exists, and once there are nodes, every task is on one. */
  private checkNodes(): void {
    if (this.nodes.length === 0) {
      const line = this.optionLines.get('dlm-latency');
      if (line !== undefined)
        this.fail(
          line,
          this.optionCols.get('dlm-latency') as number,
          `option dlm-latency without 'node' lines: one node has no DLM`,
        );
      return;
    }
    this.checkNodeMemory();
    // A file's initial pages would be in one node's cache under a glock state nobody took.
    for (const f of this.s.files) {
      if (f.init !== 'cached' && f.init !== 'dirty') continue;
      this.fail(
        f.line,
        1,
        `file ${f.name} is ${f.init}: with 'node' lines, whose cache would hold it? Declare it written and read or write it on a node`,
      );
    }
    for (const node of this.nodes) {
      const cols = this.nodeTaskCols.get(node) as number[];
      for (const [i, name] of node.tasks.entries()) {
        if (this.tasks.has(name)) continue;
        const known = [...this.tasks.keys()];
        this.fail(node.line, cols[i], `node ${node.name}: no task '${name}'${suggest(name, known)}`);
      }
    }
    for (const task of this.s.tasks) {
      if (this.nodes.some((n) => n.tasks.includes(task.name))) continue;
      this.fail(
        task.line,
        1,
        `task ${task.name} is on no node: with 'node' lines, every task goes on one (e.g. 'node ${this.nodes[0].name}: ... ${task.name}')`,
      );
    }
    this.s.nodes = this.nodes;
  }

  private forbid(c: Cursor): void {
    const tokens = c.rest();
    if (tokens.length === 0) c.fail(null, `missing KIND (usage: ${c.usage})`);
    const kinds: FindingKind[] = [];
    for (const tok of tokens) {
      if (tok.text === 'none' && tok.kind === 'word') {
        if (tokens.length > 1) c.fail(tok, "'none' cannot be combined with finding kinds");
        continue;
      }
      const kind = FINDING_KINDS.find((k) => k === tok.text && tok.kind === 'word');
      if (kind === undefined) c.fail(tok, unknownKind(tok));
      if (kinds.includes(kind)) c.fail(tok, `'${kind}' listed twice`);
      kinds.push(kind);
    }
    this.s.forbid = kinds;
  }

  private task(line: SourceLine): void {
    const label = line.label!;
    this.firstUseLine ??= line.no;
    const ops = parseTaskLine(this, line);
    let task = this.tasks.get(label.text);
    if (task === undefined) {
      task = { name: label.text, ops: [], line: line.no };
      this.tasks.set(label.text, task);
      this.s.tasks.push(task);
    }
    task.ops.push(...ops);
    if (task.ops.length > TASK_OPS_MAX) {
      this.fail(line.no, label.col, `task ${label.text} has more than ${TASK_OPS_MAX} ops`);
    }
  }

  private finish(): Scenario {
    const s = this.s;
    if (s.tasks.length === 0) {
      this.fail(this.lines[0].no, 1, "no tasks (add a task line such as 'P0: pread f 0 8')");
    }
    s.diskBlocks = this.diskBlocks();
    this.checkSector();
    this.checkNodes();
    return s;
  }

  /** The world's rule for `option sector=N` (src/litmus/world.ts sectorSize), as a parse error. */
  private checkSector(): void {
    const o = this.sectorTok;
    if (o === null) return;
    const n = Number(o.value);
    if (!Number.isInteger(n) || n < 1 || this.s.blockSize % n !== 0)
      this.fail(o.line, o.col, `option sector=${o.value}: must divide the block size ${this.s.blockSize}`);
  }

  private diskBlocks(): number {
    const d = this.diskTok;
    if (d === null) {
      const blocks = diskBlocksDefault(this.s.files, this.blockSize);
      if (blocks * this.blockSize > DEVICE_BYTES_MAX) {
        const last = this.s.files[this.s.files.length - 1];
        this.fail(
          last.line,
          1,
          `the default disk (4 × the files' blocks + 16 = ${blocks} blocks of ${this.blockSize} bytes) is more than the model holds (max ${DEVICE_BYTES_MAX} bytes): declare a smaller 'disk'`,
        );
      }
      return blocks;
    }
    if (d.value * this.blockSize > DEVICE_BYTES_MAX) {
      this.fail(
        d.line,
        d.col,
        `disk of ${d.value} blocks of ${this.blockSize} bytes is more than the model holds (max ${DEVICE_BYTES_MAX} bytes)`,
      );
    }
    let needed = 0;
    for (const f of this.s.files) needed += fileBlocksAllocated(f, this.blockSize);
    if (d.value < needed) {
      this.fail(d.line, d.col, `disk of ${d.value} blocks is too small: the files allocate ${needed} blocks`);
    }
    return d.value;
  }
}

/** The names `file`, `map` and `buf` lines declare anywhere in the text, for better errors. */
/** `P0 : pread …`: a task label whose colon came apart from its name. */
function colonHint(head: Token, next: Token | undefined): string {
  if (!next?.text.startsWith(':') || !/^[A-Za-z][A-Za-z0-9_]*$/.test(head.text)) return '';
  return ` (a task label is written '${head.text}:', with no space before the colon)`;
}

function prescanDecls(lines: readonly SourceLine[]): Map<string, Decl> {
  const found = new Map<string, Decl>();
  for (const line of lines) {
    const [head, name] = line.tokens;
    if (line.label !== null || name === undefined || found.has(name.text)) continue;
    if (head.text === 'file' || head.text === 'map' || head.text === 'buf') {
      found.set(name.text, { kind: head.text, size: 0, line: line.no });
    }
  }
  return found;
}

function powerOfTwo(c: Cursor, tok: Token, arg: string, min: number, max: number): number {
  const n = c.countOf(tok, arg, min, max);
  if ((n & (n - 1)) !== 0) c.fail(tok, `${arg} ${tok.text} is not a power of two`);
  return n;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function unknownKind(tok: Token): string {
  const hint = tok.kind === 'word' ? suggest(tok.text, FINDING_KINDS) : '';
  return `unknown finding kind ${shown(tok)}${hint} (kinds: ${FINDING_KINDS.join(', ')}, or none)`;
}
