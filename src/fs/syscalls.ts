/**
 * The system call layer: argument checks as Linux makes them, then the scheme's entry point.
 * pread/pwrite (ksys_pread64 → vfs_read/vfs_write → ->read_iter/->write_iter), fallocate
 * (vfs_fallocate), truncate (do_truncate → notify_change → ->setattr), fsync/fdatasync.
 * O_DIRECT alignment is not checked here (vfs_read/vfs_write do not): each filesystem's path does
 * (iomap per extent, fs/direct-io.c and bcachefs up front, DAX not at all).
 */
import { EINVAL } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import { fallocateCheck } from './fallocate.js';
import type { FallocMode, Inode } from './fs.js';
import { rwVerifyArea } from './read_write.js';

export async function sysPread(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  direct: boolean,
): Promise<number> {
  const err = rwVerifyArea(pos, len);
  if (err) return err;
  if (len === 0) return 0;
  return inode.fs.ops.readIter(t, inode, pos, len, ubuf, direct);
}

export async function sysPwrite(
  t: Task,
  inode: Inode,
  pos: number,
  len: number,
  ubuf: number,
  direct: boolean,
): Promise<number> {
  const err = rwVerifyArea(pos, len);
  if (err) return err;
  if (len === 0) return 0;
  return inode.fs.ops.writeIter(t, inode, pos, len, ubuf, direct);
}

export async function sysFallocate(
  t: Task,
  inode: Inode,
  mode: FallocMode,
  off: number,
  len: number,
  keepSize: boolean,
): Promise<number> {
  const err = fallocateCheck(inode, mode, off, len, keepSize);
  if (err) return err;
  return inode.fs.ops.fallocate(t, inode, mode, off, len, keepSize);
}

export async function sysTruncate(t: Task, inode: Inode, size: number): Promise<number> {
  if (size < 0) return -EINVAL;
  return inode.fs.ops.setattrSize(t, inode, size);
}

export async function sysFsync(t: Task, inode: Inode, datasync: boolean): Promise<number> {
  return inode.fs.ops.fsync(t, inode, 0, Number.MAX_SAFE_INTEGER, datasync);
}

/** A background writeback pass over the whole file (the flusher thread, WB_SYNC_NONE). */
export async function writebackInode(t: Task, inode: Inode): Promise<number> {
  return inode.fs.ops.writepages(t, inode, { start: 0, end: Number.MAX_SAFE_INTEGER, syncAll: false });
}
