/**
 * A scheme is a complete filesystem personality: the entry points (file_operations,
 * vm_operations_struct, ->writepages) built from the shared generic paths with the scheme's own
 * locks around and inside them. Adding a scheme adds one file and one line in index.ts.
 */
import type { FileOperations, Inode } from '../fs/fs.js';

export interface Scheme {
  readonly name: string;
  /** One line for `pagelab list`. */
  readonly summary: string;
  /** Does the kernel this scheme models have mapping->invalidate_lock (Linux ≥ 5.15)? */
  readonly invalidateLock: boolean;
  /** Creates the scheme's per-inode state (in inode.fsPrivate). */
  setupInode(inode: Inode): void;
  readonly ops: FileOperations;
}
