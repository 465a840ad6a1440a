/**
 * The playground page: the editor (parse errors inline as you type, from the parser itself), the
 * search controls, the matrix row, and the report of the cell clicked — the `--html` report
 * itself (report/html.ts, rendered by the worker), shown in a sandboxed frame. Every run happens
 * in the Web Worker (worker.ts); this thread only edits, asks and shows.
 */
import { defaultKeymap, historyKeymap, history as undoHistory } from '@codemirror/commands';
import { defaultHighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { type Diagnostic, linter, lintGutter } from '@codemirror/lint';
import { EditorState, type Text } from '@codemirror/state';
import { EditorView, keymap, lineNumbers } from '@codemirror/view';
import { verdictClass } from '../../report/html.js';
import { type Cell, type ParseProblem, parseSource, type SearchRequest, schemeNames } from '../session.js';
import { cliCommand, decodeShare, encodeShare, type ShareState } from '../share.js';
import { litmusLanguage } from './litmus-lang.js';
import type { Reply, Request } from './protocol.js';

/** Every built-in scenario, bundled: name → text. */
const BUILTINS: Map<string, string> = (() => {
  const files = import.meta.glob('../../../scenarios/*.litmus', {
    query: '?raw',
    import: 'default',
    eager: true,
  }) as Record<string, string>;
  const m = new Map<string, string>();
  for (const path of Object.keys(files).sort()) {
    const name = /litmus\s+(\S+)/m.exec(files[path].replace(/^#.*$/gm, ''))?.[1];
    if (name) m.set(name, files[path]);
  }
  return m;
})();

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

/** The name replay strings give the editor's text: the built-in's name when it is one, verbatim. */
function sourceRef(text: string): { ref: string; builtin: boolean } {
  for (const [name, t] of BUILTINS) if (t === text) return { ref: name, builtin: true };
  return { ref: 'scenario.litmus', builtin: false };
}

// ---- the editor ----

/** The parser's line:col as an editor range: the offending token, or a point past the line's end. */
function problemRange(doc: Text, p: ParseProblem): { from: number; to: number } {
  const line = doc.line(Math.min(Math.max(p.line, 1), doc.lines));
  const from = Math.min(line.from + p.column - 1, line.to);
  const token = /^[^\s#;]*/.exec(line.text.slice(from - line.from))?.[0].length ?? 0;
  return { from, to: Math.min(from + Math.max(token, 1), line.to) };
}

function showProblem(p: ParseProblem | null): void {
  const status = $('parse-status');
  status.textContent = p ? p.message : 'parses';
  status.className = p ? 'error' : 'ok';
  status.dataset.line = p ? String(p.line) : '';
  status.dataset.column = p ? String(p.column) : '';
}

const litmusLint = linter(
  (view): Diagnostic[] => {
    const text = view.state.doc.toString();
    const parsed = parseSource({ text, ref: sourceRef(text).ref });
    if (!('problem' in parsed)) {
      showProblem(null);
      return [];
    }
    showProblem(parsed.problem);
    const { from, to } = problemRange(view.state.doc, parsed.problem);
    const p = parsed.problem;
    return [{ from, to, severity: 'error', message: `${p.line}:${p.column}: ${p.reason}`, source: 'litmus' }];
  },
  { delay: 150 },
);

const editor = new EditorView({
  parent: $('editor'),
  state: EditorState.create({
    doc: '',
    extensions: [
      lineNumbers(),
      undoHistory(),
      keymap.of([...defaultKeymap, ...historyKeymap]),
      litmusLanguage,
      syntaxHighlighting(defaultHighlightStyle),
      lintGutter(),
      litmusLint,
    ],
  }),
});

function setText(text: string): void {
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text } });
  for (const b of document.querySelectorAll<HTMLButtonElement>('#scenario-list button'))
    b.classList.toggle('current', BUILTINS.get(b.textContent ?? '') === text);
}

// ---- the controls ----

function fillControls(): void {
  const list = $('scenario-list');
  for (const name of BUILTINS.keys()) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = name;
    b.dataset.scenario = name;
    b.addEventListener('click', () => setText(BUILTINS.get(name)!));
    li.append(b);
    list.append(li);
  }
  const scheme = $<HTMLSelectElement>('scheme');
  for (const name of schemeNames()) scheme.add(new Option(name, name));
  const strategy = $<HTMLSelectElement>('strategy');
  const mark = () => ($('controls').className = `strategy-${strategy.value}`);
  strategy.addEventListener('change', mark);
  mark();
}

function optionalInt(id: string): number | undefined {
  const v = $<HTMLInputElement>(id).value.trim();
  return v === '' ? undefined : Number(v);
}

function searchRequest(): SearchRequest {
  const strategy = $<HTMLSelectElement>('strategy').value as SearchRequest['strategy'];
  return {
    strategy,
    schedules: optionalInt('schedules'),
    seed: optionalInt('seed') ?? 1,
    depth: strategy === 'pct' ? optionalInt('depth') : undefined,
    preemptions: strategy === 'dfs' ? optionalInt('preemptions') : undefined,
  };
}

function setSearch(s: SearchRequest, scheme: string): void {
  $<HTMLSelectElement>('scheme').value = scheme;
  $<HTMLSelectElement>('strategy').value = s.strategy;
  $<HTMLSelectElement>('strategy').dispatchEvent(new Event('change'));
  $<HTMLInputElement>('schedules').value = s.schedules === undefined ? '' : String(s.schedules);
  $<HTMLInputElement>('seed').value = String(s.seed);
  if (s.depth !== undefined) $<HTMLInputElement>('depth').value = String(s.depth);
  if (s.preemptions !== undefined) $<HTMLInputElement>('preemptions').value = String(s.preemptions);
}

// ---- the worker ----

/** A request before it has its id. */
type Ask = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

let worker = newWorker();
let nextId = 1;
const pending = new Map<number, (r: Reply) => void>();

function newWorker(): Worker {
  const w = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  w.onmessage = (e: MessageEvent<Reply>) => pending.get(e.data.id)?.(e.data);
  return w;
}

/** Sends a request; `onReply` sees every reply until 'done' (resolves) or 'error' (rejects). */
function ask(req: Ask, onReply: (r: Reply) => void = () => {}): Promise<void> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, (r) => {
      if (r.type === 'done' || r.type === 'error') pending.delete(id);
      if (r.type === 'done') resolve();
      else if (r.type === 'error') reject(new Error(r.message));
      else onReply(r);
    });
    worker.postMessage({ ...req, id } as Request);
  });
}

function setBusy(busy: boolean, what = ''): void {
  document.body.dataset.state = busy ? 'running' : 'idle';
  for (const id of ['run', 'every']) $<HTMLButtonElement>(id).disabled = busy;
  $<HTMLButtonElement>('stop').disabled = !busy;
  if (what) $('progress').textContent = what;
}

/** Stop: the worker is terminated mid-search and a fresh one takes its place. */
function stop(): void {
  worker.terminate();
  for (const [id, settle] of pending) settle({ type: 'error', id, message: 'stopped' });
  worker = newWorker();
}

// ---- results ----

/** What is shown: the scheme whose report is open and the schedule it ran, for share links. */
let shown: { scheme: string; schedule: string | null } | null = null;
const cells = new Map<string, Cell>();

function addCell(c: Cell): void {
  cells.set(c.scheme, c);
  const table = $<HTMLTableElement>('row');
  table.hidden = false;
  const tr = document.createElement('tr');
  tr.dataset.scheme = c.scheme;
  const name = document.createElement('td');
  name.textContent = c.scheme;
  const verdict = document.createElement('td');
  verdict.className = 'verdict';
  const b = document.createElement('button');
  b.type = 'button';
  b.className = verdictClass(c.verdict);
  b.textContent = c.verdict;
  b.title = c.summary ?? '';
  b.addEventListener('click', () => void openReport(c.scheme));
  verdict.append(b);
  const cert = document.createElement('td');
  cert.className = 'certificate';
  cert.textContent = c.summary && c.verdict !== 'n/a' ? `${c.summary} — ${c.certificate}` : c.certificate;
  tr.append(name, verdict, cert);
  table.tBodies[0].append(tr);
}

function clearResults(): void {
  cells.clear();
  $<HTMLTableElement>('row').tBodies[0].replaceChildren();
  $<HTMLTableElement>('row').hidden = true;
  $<HTMLIFrameElement>('report').hidden = true;
  shown = null;
}

function showHtml(scheme: string, html: string): void {
  const frame = $<HTMLIFrameElement>('report');
  frame.srcdoc = html;
  frame.hidden = false;
  frame.dataset.scheme = scheme;
  shown = { scheme, schedule: cells.get(scheme)?.schedule ?? null };
  for (const tr of $<HTMLTableElement>('row').tBodies[0].rows)
    tr.classList.toggle('current', tr.dataset.scheme === scheme);
  history.replaceState(null, '', `#${encodeShare(shareState())}`);
}

async function openReport(scheme: string): Promise<void> {
  await ask({ type: 'html', scheme }, (r) => {
    if (r.type === 'html') showHtml(r.scheme, r.html);
  });
}

function source() {
  const text = editor.state.doc.toString();
  return { text, ref: sourceRef(text).ref };
}

/** Runs a request that fills the row; `then` follows once it is done. */
async function search(req: Ask, label: string, then?: () => Promise<void>): Promise<void> {
  clearResults();
  setBusy(true, `${label}…`);
  const t0 = performance.now();
  try {
    await ask(req, (r) => {
      if (r.type === 'progress') $('progress').textContent = `${r.scheme}: ${r.schedules} runs…`;
      if (r.type === 'cell') addCell(r.cell);
      if (r.type === 'html') showHtml(r.scheme, r.html);
    });
    await then?.();
    $('progress').textContent = `${label}: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  } catch (e) {
    $('progress').textContent = `${label}: ${(e as Error).message}`;
  } finally {
    setBusy(false);
  }
}

function runOne(): Promise<void> {
  const scheme = $<HTMLSelectElement>('scheme').value;
  return search(
    { type: 'check', src: source(), scheme, search: searchRequest() },
    `check under ${scheme}`,
    () => openReport(scheme),
  );
}

function runEvery(): Promise<void> {
  return search({ type: 'every', src: source(), search: searchRequest() }, 'every scheme');
}

function replayShared(s: ShareState): Promise<void> {
  return search(
    { type: 'replay', src: source(), scheme: s.scheme, schedule: s.schedule! },
    `replay under ${s.scheme}`,
  );
}

// ---- share and CLI ----

function shareState(): ShareState {
  return {
    text: editor.state.doc.toString(),
    scheme: shown?.scheme ?? $<HTMLSelectElement>('scheme').value,
    search: searchRequest(),
    schedule: shown?.schedule ?? null,
  };
}

function shareUrl(): string {
  return `${location.href.replace(/#.*$/, '')}#${encodeShare(shareState())}`;
}

async function copy(what: string): Promise<void> {
  const pre = $('cli-text');
  pre.textContent = what;
  pre.hidden = false;
  try {
    await navigator.clipboard.writeText(what);
  } catch {
    // No clipboard (an insecure origin, a denied permission): the text stays shown to copy by hand.
  }
}

function cli(): string {
  const text = editor.state.doc.toString();
  const { ref, builtin } = sourceRef(text);
  return cliCommand(ref, builtin, text, shareState());
}

// ---- start ----

function start(): void {
  fillControls();
  $('run').addEventListener('click', () => void runOne());
  $('every').addEventListener('click', () => void runEvery());
  $('stop').addEventListener('click', stop);
  $('share').addEventListener('click', () => void copy(shareUrl()));
  $('cli').addEventListener('click', () => void copy(cli()));
  setBusy(false);
  let shared: ShareState | null = null;
  try {
    shared = decodeShare(location.hash);
  } catch (e) {
    $('progress').textContent = (e as Error).message;
  }
  if (!shared) {
    setText(BUILTINS.get('dio-write-vs-mmap-store') ?? [...BUILTINS.values()][0]);
    return;
  }
  setText(shared.text);
  setSearch(shared.search, shared.scheme);
  if (shared.schedule !== null) void replayShared(shared);
}

/** For `npm run bench`: random schedules of a scenario in the worker, timed there. */
(window as unknown as { pagelabBench: unknown }).pagelabBench = (
  scenario: string,
  scheme: string,
  schedules: number,
  seed: number,
): Promise<{ schedules: number; ms: number }> => {
  const text = BUILTINS.get(scenario);
  if (text === undefined) return Promise.reject(new Error(`no built-in scenario ${scenario}`));
  let out = { schedules: 0, ms: 0 };
  return ask({ type: 'bench', src: { text, ref: scenario }, scheme, schedules, seed }, (r) => {
    if (r.type === 'bench') out = { schedules: r.schedules, ms: r.ms };
  }).then(() => out);
};

start();
