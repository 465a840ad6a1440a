/**
 * The playground's Web Worker: every search and replay runs here, never on the page's thread, so
 * the page stays live; Stop terminates this worker (main.ts starts a new one). It keeps the last
 * result per scheme so that a click on a cell renders its report without searching again.
 */
import './immediate.js';
import type { CheckResult } from '../../explore/check.js';
import { runOnce } from '../../explore/run.js';
import type { Scenario } from '../../litmus/ast.js';
import { mixSeed } from '../../sim/rng.js';
import { RandomStrategy } from '../../sim/strategy.js';
import {
  type Cell,
  cellOf,
  check,
  checkHtml,
  parseSource,
  replay,
  schemeNamed,
  schemeNames,
} from '../session.js';
import type { Reply, Request } from './protocol.js';

const post = (r: Reply): void => (self as unknown as Worker).postMessage(r);

/** The last check (or replay) per scheme, with the scenario it ran: what a cell's click shows. */
const shown = new Map<string, { scenario: Scenario; result: CheckResult | null; html: string | null }>();

function parsed(req: { src: { text: string; ref: string } }): Scenario {
  const p = parseSource(req.src);
  if ('problem' in p) throw new Error(p.problem.message);
  return p.scenario;
}

async function checkOne(
  id: number,
  scenario: Scenario,
  ref: string,
  name: string,
  req: Request,
): Promise<Cell> {
  const search = (req as { search: Parameters<typeof check>[3] }).search;
  let done = 0;
  const r = await check(scenario, ref, schemeNamed(name), search, (u) => {
    done += u.schedules + u.pruned;
    post({ type: 'progress', id, scheme: name, schedules: done });
  });
  shown.set(name, { scenario, result: r, html: null });
  const cell = cellOf(r);
  post({ type: 'cell', id, cell });
  return cell;
}

/** Random schedules of one scenario, timed here: the bench's `playground.schedules_per_sec`. */
async function bench(
  id: number,
  scenario: Scenario,
  name: string,
  schedules: number,
  seed: number,
): Promise<void> {
  const scheme = schemeNamed(name);
  const t0 = performance.now();
  for (let i = 0; i < schedules; i++) await runOnce(scenario, scheme, new RandomStrategy(mixSeed(seed, i)));
  post({ type: 'bench', id, schedules, ms: performance.now() - t0 });
}

async function handle(req: Request): Promise<void> {
  switch (req.type) {
    case 'check':
      shown.clear();
      await checkOne(req.id, parsed(req), req.src.ref, req.scheme, req);
      break;
    case 'every': {
      shown.clear();
      const scenario = parsed(req);
      for (const name of schemeNames()) await checkOne(req.id, scenario, req.src.ref, name, req);
      break;
    }
    case 'replay': {
      shown.clear();
      const scenario = parsed(req);
      const r = await replay(scenario, req.src.ref, schemeNamed(req.scheme), req.schedule);
      shown.set(req.scheme, { scenario, result: null, html: r.html });
      post({ type: 'cell', id: req.id, cell: r.cell });
      post({ type: 'html', id: req.id, scheme: req.scheme, html: r.html });
      break;
    }
    case 'html': {
      const s = shown.get(req.scheme);
      if (!s) throw new Error(`no result for ${req.scheme}`);
      const html = s.html ?? (await checkHtml(s.scenario, schemeNamed(req.scheme), s.result!));
      s.html = html;
      post({ type: 'html', id: req.id, scheme: req.scheme, html });
      break;
    }
    case 'bench':
      await bench(req.id, parsed(req), req.scheme, req.schedules, req.seed);
      break;
  }
  post({ type: 'done', id: req.id });
}

self.onmessage = (e: MessageEvent<Request>) => {
  handle(e.data).catch((err: unknown) =>
    post({ type: 'error', id: e.data.id, message: err instanceof Error ? err.message : String(err) }),
  );
};
