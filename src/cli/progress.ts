/**
 * The live progress line of a long search, on stderr, only when stderr is a terminal and neither
 * --json nor CI asks for quiet: units of work done (schedule chunks or DFS subtrees), schedules
 * run, findings, rate, and the ETA (of the unit count: for a bounded DFS, of the frontier).
 */
import cliProgress from 'cli-progress';
import type { UnitResult } from '../explore/units.js';

export interface Progress {
  onUnit(r: UnitResult): void;
  stop(): void;
}

const QUIET: Progress = { onUnit() {}, stop() {} };

export function makeProgress(enabled: boolean, totalSchedules: number): Progress {
  if (!enabled || !process.stderr.isTTY || process.env.CI) return QUIET;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format:
        'exploring {bar} {value}/{total} schedules | {findings} findings | {rate}/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let schedules = 0;
  let findings = 0;
  bar.start(totalSchedules, 0, { findings: 0, rate: 0 });
  return {
    onUnit(r) {
      schedules += r.schedules + r.pruned;
      if (r.failure) findings++;
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      bar.setTotal(Math.max(totalSchedules, schedules));
      bar.update(schedules, { findings, rate: Math.round(schedules / secs) });
    },
    stop() {
      bar.stop();
    },
  };
}
