/**
 * "Leave room" asks first: the room by name, what leaving does, and how one comes back (a
 * private room needs a new invite). Cancel has the focus, so Enter does not leave by accident.
 */
import { useState } from 'react';
import type { ChatState } from '../state/types.js';
import { leaveRoomText } from './chat-text.js';
import { Dialog } from './Dialog.js';
import { LeaveIcon } from './Icons.js';

export function LeaveRoomDialog({
  chat,
  onLeave,
  onClose,
}: {
  chat: Pick<ChatState, 'kind' | 'visibility' | 'ephemeral_ttl_s' | 'is_main' | 'name'>;
  /** Leaves the room; resolves with why it failed, or null once left. */
  onLeave: () => Promise<string | null>;
  onClose: () => void;
}) {
  const text = leaveRoomText(chat, chat.name);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function leave() {
    setBusy(true);
    setError(null);
    const failed = await onLeave();
    // On success the room is gone from the list, and this dialog with its header.
    if (failed !== null) {
      setBusy(false);
      setError(failed);
    }
  }

  return (
    <Dialog
      title={text.title}
      description={text.description}
      onClose={onClose}
      className="dialog-form dialog-confirm"
      initialFocus=".leave-cancel"
    >
      <p className="dialog-note">{text.comingBack}</p>
      {error === null ? null : (
        <p className="form-error" role="alert">
          Could not leave: {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button leave-cancel" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="button danger"
          disabled={busy}
          onClick={() => void leave()}
        >
          <LeaveIcon />
          {busy ? 'Leaving…' : 'Leave room'}
        </button>
      </div>
    </Dialog>
  );
}
