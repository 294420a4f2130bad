/**
 * "Delete message?" asks first: a delete cannot be undone (the text is erased on the relay and
 * in every client). Cancel has the focus, so Enter does not delete by accident.
 */
import { useState } from 'react';
import { Dialog } from './Dialog.js';

export function DeleteMessageDialog({
  onDelete,
  onClose,
}: {
  /** Deletes the message; returns why it could not, or null once done (queued or dropped). */
  onDelete: () => string | null;
  onClose: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog
      title="Delete message?"
      description="This can't be undone."
      onClose={onClose}
      className="dialog-form dialog-confirm"
      initialFocus=".delete-message-cancel"
    >
      {error === null ? null : (
        <p className="form-error" role="alert">
          Could not delete: {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button delete-message-cancel" onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="button danger"
          onClick={() => {
            // Done: the caller closes the dialog. Otherwise it stays, saying why.
            const problem = onDelete();
            if (problem !== null) setError(problem);
          }}
        >
          Delete
        </button>
      </div>
    </Dialog>
  );
}
