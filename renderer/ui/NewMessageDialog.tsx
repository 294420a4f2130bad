/** Start (or reopen) a direct message: pick a person. */
import { useState } from 'react';
import { Dialog } from './Dialog.js';
import { useClient } from './parley-context.js';
import { PeoplePicker } from './PeoplePicker.js';

export function NewMessageDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  return (
    <Dialog title="New message" onClose={onClose} className="dialog-list">
      <PeoplePicker
        disabled={busy}
        onPick={(user) => {
          setBusy(true);
          setError(null);
          void client.startDm(user.id).then((result) => {
            // On success the client opens the DM, which closes this dialog.
            if (!result.ok) {
              setBusy(false);
              setError(
                result.message === ''
                  ? `Could not open the conversation (${result.code}).`
                  : result.message,
              );
            }
          });
        }}
      />
      {error === null ? null : (
        <div className="form-error" role="alert">
          {error}
        </div>
      )}
    </Dialog>
  );
}
