/**
 * Per-connection write batching. The first frame sent to a connection in a task corks its TCP
 * socket (see `Connection.send`); one microtask, queued behind that task's synchronous work,
 * uncorks every connection corked meanwhile, so each connection's frames from that task leave
 * in a single `writev` instead of one syscall per frame.
 *
 * Why: a group commit broadcasts a whole batch of messages in one go, and one syscall per frame
 * per receiver was most of the relay's CPU under load (profile of a saturated fan-out: `writev`
 * ≈ 65% of samples). Socket.IO saves the same syscalls by buffering without limit; here corked
 * bytes count in `ws`'s `bufferedAmount`, which `Connection.send` caps at `maxBufferedBytes`, so
 * every batch is bounded. No timer: the frames leave as soon as the current task is done.
 */

/** Something holding writes back until `flushWrites` (a Connection). */
export interface WriteBatch {
  flushWrites(): void;
}

let pending: WriteBatch[] = [];
let queued = false;

function flushAll(): void {
  const batches = pending;
  pending = [];
  queued = false;
  for (const batch of batches) batch.flushWrites();
}

/** Calls `batch.flushWrites()` once the current task's synchronous work (and earlier microtasks) is done. */
export function flushAtTaskEnd(batch: WriteBatch): void {
  pending.push(batch);
  if (!queued) {
    queued = true;
    queueMicrotask(flushAll);
  }
}
