/**
 * Share links and the equivalent command line. A link's fragment carries the scenario text
 * (lz-string, URI-safe), the scheme, the search asked for and, when a run is shown, its schedule:
 * opening the link replays that schedule step for step, as `pagelab replay` does with the replay
 * string. The fragment never reaches a server.
 */
import lz from 'lz-string';
import type { StrategyName } from '../explore/check.js';
import { STRATEGY_NAMES } from '../explore/search.js';
import type { SearchRequest } from './session.js';

export interface ShareState {
  text: string;
  scheme: string;
  search: SearchRequest;
  /** The encoded schedule of the run shown (`0*12.1.0*3`), if any. */
  schedule: string | null;
}

/** The URL fragment (without '#') of a state. */
export function encodeShare(s: ShareState): string {
  const p = new URLSearchParams();
  p.set('s', lz.compressToEncodedURIComponent(s.text));
  p.set('scheme', s.scheme);
  p.set('strategy', s.search.strategy);
  p.set('seed', String(s.search.seed));
  if (s.search.schedules !== undefined) p.set('schedules', String(s.search.schedules));
  if (s.search.depth !== undefined) p.set('depth', String(s.search.depth));
  if (s.search.preemptions !== undefined) p.set('preemptions', String(s.search.preemptions));
  if (s.schedule !== null) p.set('schedule', s.schedule);
  return p.toString();
}

function intParam(p: URLSearchParams, key: string): number | undefined {
  const v = p.get(key);
  if (v === null) return undefined;
  if (!/^\d+$/.test(v)) throw new Error(`share link: ${key} '${v}' is not a number`);
  return Number(v);
}

/** The state a fragment carries; null when it carries no scenario. Throws on a malformed one. */
export function decodeShare(fragment: string): ShareState | null {
  const p = new URLSearchParams(fragment.replace(/^#/, ''));
  const packed = p.get('s');
  if (packed === null) return null;
  const text = lz.decompressFromEncodedURIComponent(packed);
  if (text === null || (text === '' && packed !== ''))
    throw new Error('share link: the scenario does not decompress');
  const strategy = (p.get('strategy') ?? 'random') as StrategyName;
  if (!STRATEGY_NAMES.includes(strategy)) throw new Error(`share link: unknown strategy '${strategy}'`);
  return {
    text,
    scheme: p.get('scheme') ?? 'vfs2019',
    search: {
      strategy,
      seed: intParam(p, 'seed') ?? 1,
      schedules: intParam(p, 'schedules'),
      depth: intParam(p, 'depth'),
      preemptions: intParam(p, 'preemptions'),
    },
    schedule: p.get('schedule'),
  };
}

/** Quotes a word for a POSIX shell. */
function shq(s: string): string {
  return /^[A-Za-z0-9_./:*=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command that does what the page shows: `npx pagelab replay REF:SCHEME:SCHEDULE` for a run,
 * else `npx pagelab check REF --scheme ...`. A scenario that is not a built-in one is written to
 * its file first (a here-document ending at a line LITMUS), since the CLI reads scenarios from files.
 */
export function cliCommand(ref: string, builtin: boolean, text: string, s: ShareState): string {
  let cmd: string;
  if (s.schedule !== null) cmd = `npx pagelab replay ${shq(`${ref}:${s.scheme}:${s.schedule}`)}`;
  else {
    const q = s.search;
    const opts = [`--scheme ${shq(s.scheme)}`, `--strategy ${q.strategy}`, `--seed ${q.seed}`];
    if (q.schedules !== undefined) opts.push(`--schedules ${q.schedules}`);
    if (q.strategy === 'pct' && q.depth !== undefined) opts.push(`--depth ${q.depth}`);
    if (q.strategy === 'dfs' && q.preemptions !== undefined) opts.push(`--preemptions ${q.preemptions}`);
    cmd = `npx pagelab check ${shq(ref)} ${opts.join(' ')}`;
  }
  if (builtin) return cmd;
  const body = text.endsWith('\n') ? text : `${text}\n`;
  return `cat > ${shq(ref)} <<'LITMUS'\n${body}LITMUS\n${cmd}`;
}
