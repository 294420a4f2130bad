/**
 * Who may change a stored message, decided once. The stores call it inside the transaction that
 * applies the change, with the message as it stands then, so a rule holds under every race (a
 * delete and an edit at once, an expiry between the check and the write).
 */
import { failure, type Failure } from '../protocol/errors.js';

/** The stored message a change targets, as the transaction sees it. */
export interface ChangeTarget {
  senderId: string;
  deletedAt: string | null;
  /** For ephemeral chats: when it expires (ISO 8601), else null. */
  expiresAt: string | null;
}

export interface ChangeAsk {
  kind: 'edit' | 'delete';
  actorId: string;
  now: Date;
}

/**
 * Null when the change may go ahead. Only the author edits or deletes a message (moderators
 * arrive with roles, issue 20); a deleted message is never edited; an expired one is gone.
 * A delete of an already deleted message is not refused here: the store answers it as a
 * duplicate (idempotent retries).
 */
export function checkChange(ask: ChangeAsk, target: ChangeTarget): Failure | null {
  if (target.expiresAt !== null && Date.parse(target.expiresAt) <= ask.now.getTime()) {
    return failure('message_expired', 'the message has expired');
  }
  if (target.senderId !== ask.actorId) {
    return failure(
      'forbidden',
      ask.kind === 'edit'
        ? 'only the author may edit a message'
        : 'only the author may delete a message',
    );
  }
  if (ask.kind === 'edit' && target.deletedAt !== null) {
    return failure('message_deleted', 'the message was deleted');
  }
  return null;
}
