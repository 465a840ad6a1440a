/**
 * Linux errno values. Model paths return errors as values (negative errno, as the kernel does),
 * never as exceptions: an exception in the model is a broken invariant, i.e. a finding.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const EINTR = 4;
export const EIO = 5;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EBUSY = 16;
export const EINVAL = 22;
export const EFBIG = 27;
export const ENOSPC = 28;
export const EDEADLK = 35;
export const EOPNOTSUPP = 95;
/** Kernel-internal: "fall back to buffered I/O" (never reaches userspace). */
export const ENOTBLK = 15;

const NAMES: Record<number, string> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [EINTR]: 'EINTR',
  [EIO]: 'EIO',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EINVAL]: 'EINVAL',
  [EFBIG]: 'EFBIG',
  [ENOSPC]: 'ENOSPC',
  [EDEADLK]: 'EDEADLK',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
  [ENOTBLK]: 'ENOTBLK',
};

/** "EINVAL" for 22 or -22; "E123" for an errno without a name here. */
export function errnoName(err: number): string {
  const e = Math.abs(err);
  return NAMES[e] ?? `E${e}`;
}
