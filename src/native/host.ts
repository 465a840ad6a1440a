/**
 * Which filesystem the host runs under the directory (statfs f_type, from the probe) and which
 * scheme models it, if any.
 */
import { type HostFeatures, TMPFS_MAGIC } from '../fsx/differential.js';

export interface HostScheme {
  /** The filesystem's name, or its magic number. */
  fs: string;
  /** The scheme that models it, or null. */
  scheme: string | null;
  /** Why none does (when scheme is null). */
  why: string;
}

const HOSTS: Record<string, HostScheme> = {
  '0xef53': { fs: 'ext4', scheme: 'ext4', why: '' },
  '0x58465342': { fs: 'xfs', scheme: 'xfs', why: '' },
  '0x9123683e': {
    fs: 'btrfs',
    scheme: null,
    why: 'the btrfs scheme models the 5.16 fault-in loop, not btrfs as Linux 6.x runs it',
  },
  [TMPFS_MAGIC]: {
    fs: 'tmpfs',
    scheme: null,
    why: 'shmem has no block device: its O_DIRECT goes through the page cache (noop_direct_IO), which no scheme models',
  },
};

export function hostScheme(h: HostFeatures): HostScheme {
  return HOSTS[h.fstype] ?? { fs: h.fstype, scheme: null, why: `no scheme models filesystem ${h.fstype}` };
}
