/**
 * A scheme is a complete filesystem personality: the entry points (file_operations,
 * vm_operations_struct, ->writepages) built from the shared generic paths with the scheme's own
 * locks around and inside them. Adding a scheme adds one file and one line in index.ts.
 */
import type { FileOperations, Inode } from '../fs/fs.js';
import type { Scenario } from '../litmus/ast.js';

export interface Scheme {
  readonly name: string;
  /** One line for `pagelab list`. */
  readonly summary: string;
  /** Does the kernel this scheme models have mapping->invalidate_lock (Linux ≥ 5.15)? */
  readonly invalidateLock: boolean;
  /** Creates the scheme's per-inode state (in inode.fsPrivate). */
  setupInode(inode: Inode): void;
  readonly ops: FileOperations;
  /**
   * Runs across nodes (a scenario's `node` lines: one mount per node over the shared device,
   * FileSystem.node set): gfs2 and gfs2-nodf-read. Every other scheme is one node.
   */
  readonly cluster?: boolean;
  /**
   * Null if the scenario can be expressed for this scheme; otherwise why not (the matrix shows the
   * cell as `n/a` with this reason: say, a page-cache refault under DAX, which has no page cache).
   */
  notApplicable?(scenario: Scenario): string | null;
}

/**
 * Why `scheme` cannot run `scenario` (the matrix's `n/a`), or null: the scheme's own reason, or
 * the nodes. Only a cluster scheme (gfs2: docs/cluster.md) runs several nodes; under any other a
 * scenario with `node` lines is n/a — running its tasks in one page cache would hide exactly what
 * the nodes are there to show.
 */
export function scenarioNotApplicable(scheme: Scheme, scenario: Scenario): string | null {
  const nodes = scenario.nodes?.length ?? 0;
  if (nodes > 0 && !scheme.cluster) {
    return `${scheme.name} runs on one node in the model (one page cache, no DLM); the scenario puts its tasks on ${nodes} node${nodes > 1 ? 's' : ''} (docs/cluster.md)`;
  }
  return scheme.notApplicable?.(scenario) ?? null;
}
