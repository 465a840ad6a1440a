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
   * Null if the scenario can be expressed for this scheme; otherwise why not (the matrix shows the
   * cell as `n/a` with this reason: say, a page-cache refault under DAX, which has no page cache).
   */
  notApplicable?(scenario: Scenario): string | null;
}
