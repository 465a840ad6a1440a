/**
 * A run's outcome as one string, for the tests that compare the outcome sets of two searches (POR
 * or not, the state cache or not: src/explore/explore.test.ts, stateful.test.ts).
 */
import type { RunReport } from '../explore/run.js';
import { fileViews } from '../litmus/world.js';

/** Everything a finished run leaves that the oracles could look at, as one string. */
export function outcomeDigest(rep: RunReport): string | null {
  const kind = rep.result.outcome.kind;
  if (kind === 'pruned') return null;
  const parts = [kind, rep.findings.map((f) => f.kind).join(',')];
  for (const r of [...rep.world.history.ops].sort((a, b) => a.tag - b.tag)) {
    // An op still running when a broken invariant stops the run has no outcome: whether another
    // task had entered its op by then depends on where the run stops, not on the order of
    // dependent steps (dio-buffers-crossed-pages under gfs2-2021).
    if (r.ret === null) continue;
    parts.push(`${r.tag}=${r.ret}:${r.observed ? r.observed.cells.join('.') : ''}`);
  }
  if (kind === 'done') {
    for (const name of rep.world.inodes.keys()) {
      const v = fileViews(rep.world, name);
      parts.push(
        `${name}:${v.cache.cells.join('.')}/${v.direct.cells.join('.')}/${v.crashed.cells.join('.')}`,
      );
      // Across nodes, every node's cache (docs/cluster.md).
      for (const n of v.perNode ?? []) parts.push(`${n.node}:${n.cache.cells.join('.')}`);
    }
  }
  return parts.join('|');
}
