/**
 * The rules the message list follows for editing and deleting (pure, unit-tested): which messages
 * offer Edit and Delete, what the client is asked to change, how "(edited)" reads, and what an
 * editor says when the client refuses an edit.
 */
import type { ChangeResult, ChangeTarget } from '../net/parley-client.js';
import type { UiMessage } from '../state/types.js';
import { formatDateTime } from './time-format.js';

/** A tombstone: the message was deleted; it has no text and offers no actions. */
export function isDeleted(message: Pick<UiMessage, 'deleted_at'>): boolean {
  return message.deleted_at !== null;
}

/**
 * Edit and Delete are offered on one's own messages that are sent or on their way; not on
 * others' messages, not on tombstones, and not on failed ones (those have their own Edit/Retry
 * and Delete).
 */
export function canChange(
  message: Pick<UiMessage, 'sender_id' | 'deleted_at' | 'status'>,
  myId: string | null,
): boolean {
  return (
    myId !== null &&
    message.sender_id === myId &&
    !isDeleted(message) &&
    message.status !== 'failed'
  );
}

/** What the client changes: the stored message once sent, else the send still in the outbox. */
export function changeTarget(
  message: Pick<UiMessage, 'status' | 'message_id' | 'mobile_ref_id'>,
): ChangeTarget {
  return message.status === 'sent'
    ? { messageId: message.message_id }
    : { mobileRefId: message.mobile_ref_id };
}

/** The tooltip and screen-reader text of "(edited)": "Edited Monday, 7 December 2026 at 10:05". */
export function editedLabel(editedAt: string | null, locale?: string): string | null {
  if (editedAt === null) return null;
  const at = Date.parse(editedAt);
  return Number.isNaN(at) ? 'Edited' : `Edited ${formatDateTime(at, locale)}`;
}

/** Why an edit was not saved, in words for the editor; null when it was. */
export function editProblem(result: ChangeResult): string | null {
  if (result.ok) return null;
  switch (result.code) {
    case 'empty':
      return 'A message cannot be empty. To remove it, delete it instead.';
    case 'too_long':
      return 'Not saved: the message is too long.';
    case 'outbox_full':
      return 'Not saved: too many changes are waiting for the connection. Try again once you are back online.';
    case 'not_found':
      return 'This message can no longer be edited.';
    case 'no_chat':
      return 'This chat is no longer available.';
  }
}
