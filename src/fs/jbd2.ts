/**
 * jbd2, as far as seed 002's deadlock needs it (fs/jbd2/transaction.c, fs/jbd2/commit.c,
 * fs/jbd2/journal.c): one journal per filesystem with a running transaction, handles that join it
 * with credits (jbd2_journal_start / jbd2_journal_stop), and a commit that locks the running
 * transaction (T_LOCKED: start_this_handle → add_transaction_credits → wait_transaction_locked
 * sleeps until the commit switches to a new running transaction) and waits for every open handle
 * of it to stop (jbd2_journal_wait_updates: t_updates == 0).
 *
 * Lock ordering (fs/ext4/super.c, "Lock ordering"):
 *   i_rwsem → invalidate_lock → transaction start (a handle) → folio lock → i_data_sem
 *   writepages: transaction start → folio lock(s) → i_data_sem
 * A handle is a shared hold on the journal (lockdep: start_this_handle does
 * rwsem_acquire_read(&journal->j_trans_commit_map)); the commit's T_LOCKED is the exclusive side:
 * it waits for the holders of handles and makes new ones wait. So a task that holds a handle and
 * waits for something that waits for a new handle closes a cycle through the commit — seed 002's
 * "ext4_writepages() ... ext4_journal_start_with_reserve() ... clear_page_dirty_for_io(page) ->
 * blocks on pin" against "ext4_direct_IO_write() ... iov_iter_get_pages() - pins page" followed by
 * the DIO's own journal start.
 *
 * Who commits: jbd2_get_transaction() arms j_commit_timer (t_expires = now + j_commit_interval,
 * 5 s) when it creates a transaction; when it fires, or when fsync asks (jbd2_log_start_commit),
 * kjournald2 runs jbd2_journal_commit_transaction(). The model spawns one `kjournald2` task per
 * transaction at its creation, which commits it when the scheduler first runs it: "the commit
 * timer may fire at any moment". fsync (jbd2_complete_transaction → jbd2_log_wait_commit) waits
 * for that commit to complete.
 *
 * Departures from Linux and why:
 * - Only the locking of a commit is modelled: T_LOCKED, the wait for t_updates, T_SWITCH (a new
 *   transaction may start), then completion. No log blocks, no checkpointing, no ordered-data
 *   flush of the transaction's inodes (journal_submit_inode_data_buffers): the block map is
 *   durable the moment it changes, as elsewhere in the model (src/fs/sync.ts). The ordered-data
 *   flush runs after T_SWITCH, when new handles no longer wait for it, so it adds no cycle here.
 * - No reserved handles (h_rsv_handle), no barrier (jbd2_journal_lock_updates), no h_sync.
 * - Credits are counted (a handle that would overflow j_max_transaction_buffers makes the running
 *   transaction commit first and joins the next one), but the scenarios never get near the limit.
 */
import { assert } from '../sim/assert.js';
import { objectId, record } from '../sim/footprint.js';
import { attachState } from '../sim/statehash.js';
import type { Task, Waitable } from '../sim/task.js';
import { WaitQueue } from '../sim/waitqueue.js';
import { Completion } from '../sync/completion.js';
import { attrs, noteAcquired, noteReleased } from '../sync/held.js';
import type { FileSystem } from './fs.js';

/** t_state, reduced: T_RUNNING, T_LOCKED (commit waits for handles), then committed. */
export enum TState {
  Running = 0,
  Locked = 1,
  Committing = 2,
  Finished = 3,
}

/** j_max_transaction_buffers: credits a transaction can take before it must commit. */
export const JBD2_MAX_TRANSACTION_CREDITS = 1024;

/** A wait on a transaction: its holders are who must act before the waiter can go on. */
class TransactionWait implements Waitable {
  readonly q = new WaitQueue();
  constructor(
    readonly name: string,
    readonly lockClass: string,
    private readonly who: () => readonly Task[],
  ) {}
  holders(): readonly Task[] {
    return this.who();
  }
}

export class Transaction {
  state = TState.Running;
  /** t_outstanding_credits */
  credits = 0;
  /** One entry per open handle (t_updates), in start order. */
  readonly updates: Task[] = [];
  committer: Task | null = null;
  /** "jbd2 handle": held (shared) by every open handle; the commit waits on it for t_updates == 0. */
  readonly handles: TransactionWait;
  /** "transaction commit": held by the committer while T_LOCKED; new handles wait on it. */
  readonly locked: TransactionWait;
  /** jbd2_log_wait_commit() waits for this. */
  readonly commitDone: Completion;

  constructor(readonly tid: number) {
    this.handles = new TransactionWait(
      `jbd2 handle of transaction ${tid}`,
      'jbd2_handle',
      () => this.updates,
    );
    this.locked = new TransactionWait(`transaction commit ${tid}`, 'jbd2_transaction_commit', () =>
      this.committer ? [this.committer] : [],
    );
    this.commitDone = new Completion(`commit of transaction ${tid}`, 'jbd2_commit');
  }
}

/** handle_t: one per task per journal; nested starts share it (h_ref). */
export interface Handle {
  readonly transaction: Transaction;
  readonly task: Task;
  credits: number;
  ref: number;
}

export class Journal {
  running: Transaction | null = null;
  /** j_transaction_sequence: the next tid. */
  private nextTid = 1;
  /** j_commit_sequence: the last committed tid. */
  committedTid = 0;
  private readonly byTid = new Map<number, Transaction>();
  /** current->journal_info, per task. */
  private readonly current = new Map<Task, Handle>();
  /**
   * The footprint object of the journal's whole state (j_running_transaction, the tids, every
   * transaction's t_state, t_updates and credits, each task's handle): every step that reads or
   * changes any of it records it (src/sim/footprint.ts). One object for all of it is coarse, but
   * journal steps are few; the handles and commit waits record themselves as locks do.
   */
  readonly obj: number;

  constructor(readonly name: string) {
    this.obj = objectId(`journal ${name}`);
  }

  transaction(tid: number): Transaction | undefined {
    record(this.obj, false);
    return this.byTid.get(tid);
  }

  handleOf(t: Task): Handle | undefined {
    record(this.obj, false);
    return this.current.get(t);
  }

  /**
   * jbd2_journal_start() → start_this_handle(): joins the running transaction (creating one if
   * there is none), sleeping while it is T_LOCKED. A task that already has a handle nests into it.
   * `ino` declares what the caller's code after the start touches until its next scheduling point
   * (the inode as a whole; -1: anything); the journal records its own state (this.obj).
   */
  async start(t: Task, credits: number, site: string, ino = -1): Promise<Handle> {
    record(this.obj, true);
    const nested = this.current.get(t);
    if (nested) {
      nested.ref++;
      return nested;
    }
    for (;;) {
      await t.point('start_this_handle', ino, true);
      record(this.obj, true);
      const tr = this.running ?? this.newTransaction(t);
      if (tr.state === TState.Locked) {
        await this.waitTransactionLocked(t, tr);
        continue;
      }
      if (tr.credits + credits > JBD2_MAX_TRANSACTION_CREDITS && tr.updates.length > 0) {
        // add_transaction_credits(): too big — have it committed and join the next one.
        await this.waitTransactionLocked(t, tr);
        continue;
      }
      return this.join(t, tr, credits, site);
    }
  }

  /** jbd2_journal_stop(): the last handle of a locked transaction wakes its commit. */
  stop(t: Task, h: Handle): void {
    record(this.obj, true);
    if (--h.ref > 0) return;
    const tr = h.transaction;
    const i = tr.updates.indexOf(t);
    assert(i >= 0, () => `jbd2_journal_stop: ${t} has no handle in transaction ${tr.tid}`);
    tr.updates.splice(i, 1);
    this.current.delete(t);
    noteReleased(t, tr.handles, 'jbd2_journal_stop');
    if (t.tracing) t.event('jbd2_journal_stop', `transaction ${tr.tid} t_updates=${tr.updates.length}`);
    if (tr.updates.length === 0) tr.handles.q.wakeAll();
  }

  /**
   * jbd2_complete_transaction(): if transaction `tid` is not committed yet, have it committed and
   * wait for the commit (jbd2_log_start_commit + jbd2_log_wait_commit).
   */
  async completeTransaction(t: Task, tid: number): Promise<void> {
    record(this.obj, false);
    const tr = this.byTid.get(tid);
    if (!tr || tr.state === TState.Finished) return;
    if (t.tracing) t.event('jbd2_complete_transaction', `wait for the commit of transaction ${tid}`);
    await tr.commitDone.wait(t, 'jbd2_log_wait_commit');
  }

  private join(t: Task, tr: Transaction, credits: number, site: string): Handle {
    tr.credits += credits;
    tr.updates.push(t);
    const h: Handle = { transaction: tr, task: t, credits, ref: 1 };
    this.current.set(t, h);
    noteAcquired(t, tr.handles, 'handle', site, attrs(1, '', false));
    if (t.tracing)
      t.event('jbd2_journal_start', `transaction ${tr.tid} t_updates=${tr.updates.length} (${site})`);
    return h;
  }

  /**
   * wait_transaction_locked(): sleeps until the commit has switched away from `tr` (T_SWITCH wakes
   * j_wait_transaction_locked). Also used for a transaction still running but too full to join:
   * add_transaction_credits() has it committed and waits the same way.
   */
  private async waitTransactionLocked(t: Task, tr: Transaction): Promise<void> {
    while (tr.state <= TState.Locked) {
      await tr.locked.q.wait(t, tr.locked, 'start_this_handle:wait_transaction_locked');
      record(this.obj, false);
    }
  }

  /**
   * jbd2_get_transaction(): a new running transaction; arms its commit timer, i.e. spawns the
   * kjournald2 run that will commit it.
   */
  private newTransaction(t: Task): Transaction {
    const tr = new Transaction(this.nextTid++);
    this.byTid.set(tr.tid, tr);
    this.running = tr;
    if (t.tracing) t.event('jbd2_get_transaction', `${this.name}: transaction ${tr.tid} running`);
    const k = t.sim.spawn(`kjournald2:${tr.tid}`, (kt) => this.commitTransaction(kt, tr));
    tr.committer = k;
    tr.commitDone.setWaker(k);
    return tr;
  }

  /**
   * jbd2_journal_commit_transaction(), the locking part: T_LOCKED, wait for t_updates == 0,
   * T_SWITCH (j_running_transaction = NULL, wake_up_all(j_wait_transaction_locked)), commit.
   */
  private async commitTransaction(k: Task, tr: Transaction): Promise<void> {
    // The commit's steps touch the journal's state and what records itself (the T_LOCKED hold,
    // the wait for t_updates, the wake-up of new handles, the completion): nothing of any inode.
    await k.point('kjournald2:commit_timer', this.obj, true);
    tr.state = TState.Locked;
    noteAcquired(k, tr.locked, 'T_LOCKED', 'jbd2_journal_commit_transaction');
    if (k.tracing)
      k.event(
        'jbd2_journal_commit_transaction',
        `transaction ${tr.tid} T_LOCKED, t_updates=${tr.updates.length}`,
      );
    while (tr.updates.length > 0)
      await tr.handles.q.wait(k, tr.handles, 'jbd2_journal_commit_transaction:jbd2_journal_wait_updates');
    tr.state = TState.Committing;
    if (this.running === tr) this.running = null;
    noteReleased(k, tr.locked, 'jbd2_journal_commit_transaction:T_SWITCH');
    tr.locked.q.wakeAll();
    await k.point('jbd2_journal_commit_transaction:write_commit_block', this.obj, true);
    tr.state = TState.Finished;
    this.committedTid = Math.max(this.committedTid, tr.tid);
    if (k.tracing) k.event('jbd2_journal_commit_transaction', `transaction ${tr.tid} committed`);
    tr.commitDone.complete(k);
  }
}

const journals = new WeakMap<FileSystem, Journal>();

/** The filesystem's journal (EXT4_SB(sb)->s_journal), created on first use. */
export function journalOf(fs: FileSystem): Journal {
  let j = journals.get(fs);
  if (!j) {
    j = new Journal('jbd2');
    journals.set(fs, j);
    attachState(fs, j); // the state hash sees it (src/sim/statehash.ts)
  }
  return j;
}
