/**
 * fsync(2) (fs/sync.c, file_write_and_wait_range, blkdev_issue_flush): write back and wait for the
 * range, flush the device's volatile cache, and report a writeback error once per open file
 * (errseq: a dio_warn_stale_pagecache EIO surfaces here). Departure: the block map is treated as
 * committed the moment it changes (no journal); only data durability is modelled.
 */
import { filemapFdatawaitRange, filemapFdatawriteRange } from '../mm/filemap.js';
import { EIO } from '../sim/errno.js';
import type { Task } from '../sim/task.js';
import type { Inode } from './fs.js';

/** file_write_and_wait_range() + blkdev_issue_flush() + file_check_and_advance_wb_err(). */
export async function genericFsync(t: Task, inode: Inode, start: number, end: number): Promise<number> {
  // What follows the walk records itself up to the flush's point (fdatawait finds its folios by
  // the writeback mark), so the walk's last step declares only what it touches.
  const werr = await filemapFdatawriteRange(t, inode.mapping, start, end, true);
  // file_write_and_wait_range(): "See comment of filemap_write_and_wait()": no wait after -EIO.
  if (werr !== -EIO) await filemapFdatawaitRange(t, inode.mapping, start, end);
  // The flush, its completion and what follows it up to the end of fsync(2) (the errseq check,
  // then the return into the system call: every scheme's ->fsync is this function) record
  // everything they touch.
  await t.pointRecorded('blkdev_issue_flush');
  const ferr = await inode.fs.bdev.submitBioWait(t, 'flush', 0, [], 'blkdev_issue_flush', false, true);
  const seen = inode.mapping.wbErr.checkAndAdvance(inode.file);
  return werr || ferr || seen;
}
