/**
 * Progress of a long run, on stderr, with --json too (stdout holds the JSON; a CI job that saves
 * it must not sit silent for minutes either). On a terminal (not CI): a live cli-progress bar.
 * Elsewhere (a pipe, a CI log): a heartbeat line at most every HEARTBEAT_MS, so that a long run is
 * never silent for minutes, and nothing at all for a run shorter than that. Figures are
 * what is known when they are shown: units of work done out of those planned (schedule chunks, DFS
 * subtrees, matrix cells), schedules run, findings, rate and time so far; an ETA only where the
 * total is known up front (random and PCT schedules, matrix cells), never for a DFS, whose
 * subtrees differ by orders of magnitude.
 */
import cliProgress from 'cli-progress';
import type { UnitResult } from '../explore/units.js';

export const HEARTBEAT_MS = 10_000;

/** The figures of a progress display, updated as work finishes. */
export interface Counts {
  /** Units done and planned (0: not known yet). */
  done: number;
  total: number;
  schedules: number;
  findings: number;
}

export interface Ticker {
  update(c: Counts): void;
  stop(): void;
}

/** One line of figures: `what 12/64 subtrees | 3400 schedules | 0 findings | 170/s | 20 s`. */
export function progressLine(what: string, unit: string, c: Counts, secs: number, eta: boolean): string {
  const parts = [`${what} ${c.done}/${c.total || '?'} ${unit}`];
  if (c.schedules)
    parts.push(`${c.schedules} schedules`, `${Math.round(c.schedules / Math.max(secs, 0.001))}/s`);
  parts.push(`${c.findings} finding${c.findings === 1 ? '' : 's'}`, `${Math.round(secs)} s`);
  if (eta && c.total && c.done) parts.push(`ETA ${Math.round((secs * (c.total - c.done)) / c.done)} s`);
  return parts.join(' | ');
}

/** A bar on a TTY (not CI), else heartbeat lines on `stream`. */
export function makeTicker(
  what: string,
  unit: string,
  eta: boolean,
  stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr,
): Ticker {
  const started = Date.now();
  const secs = () => (Date.now() - started) / 1000;
  let last: Counts = { done: 0, total: 0, schedules: 0, findings: 0 };
  if (stream.isTTY && !process.env.CI) {
    const bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WriteStream,
        format: '{bar} {line}',
        hideCursor: true,
        clearOnComplete: true,
        barsize: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(1, 0, { line: progressLine(what, unit, last, 0, eta) });
    const draw = () => {
      bar.setTotal(Math.max(1, last.total));
      bar.update(last.done, { line: progressLine(what, unit, last, secs(), eta) });
    };
    // The time moves on while a long unit runs: redraw every second, not only when one ends.
    const timer = setInterval(draw, 1000);
    timer.unref();
    return {
      update(c) {
        last = c;
        draw();
      },
      stop() {
        clearInterval(timer);
        bar.stop();
      },
    };
  }
  let beaten = started;
  const beat = () => {
    beaten = Date.now();
    stream.write(`pagelab: ${progressLine(what, unit, last, secs(), eta)}\n`);
  };
  // Checked every second, written at most every HEARTBEAT_MS (update() may have written one).
  const timer = setInterval(() => {
    if (Date.now() - beaten >= HEARTBEAT_MS) beat();
  }, 1000);
  timer.unref();
  return {
    update(c) {
      last = c;
      // A run that never yields to the event loop (fsx's sequential run) starves the timer.
      if (Date.now() - beaten >= HEARTBEAT_MS) beat();
    },
    stop() {
      clearInterval(timer);
    },
  };
}

export interface Progress {
  /** The search planned `n` units (known once a DFS has built its frontier). */
  onPlan(n: number): void;
  onUnit(r: UnitResult): void;
  stop(): void;
}

/** Progress of one search (check, fsx --tasks): units are schedule chunks or DFS subtrees. */
export function makeProgress(dfs: boolean): Progress {
  const t = makeTicker('exploring', dfs ? 'subtrees' : 'chunks', !dfs);
  const c: Counts = { done: 0, total: 0, schedules: 0, findings: 0 };
  return {
    onPlan(n) {
      c.total = n;
      t.update({ ...c });
    },
    onUnit(r) {
      c.done++;
      c.schedules += r.schedules;
      if (r.failure) c.findings++;
      t.update({ ...c });
    },
    stop: () => t.stop(),
  };
}

export interface CellProgress {
  onCell(done: number, total: number, finding: boolean): void;
  stop(): void;
}

/** Progress of a matrix (or a campaign): units are cells, each a whole search. */
export function makeCellProgress(what = 'matrix'): CellProgress {
  const t = makeTicker(what, 'cells', true);
  let findings = 0;
  return {
    onCell(done, total, finding) {
      if (finding) findings++;
      t.update({ done, total, schedules: 0, findings });
    },
    stop: () => t.stop(),
  };
}
