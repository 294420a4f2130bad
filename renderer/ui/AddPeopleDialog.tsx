/** Add people to a room (any member may; private rooms are only reachable this way). */
import { useState } from 'react';
import { Dialog } from './Dialog.js';
import { useClient } from './parley-context.js';
import { PeoplePicker } from './PeoplePicker.js';

export function AddPeopleDialog({
  chatId,
  roomName,
  onClose,
}: {
  chatId: string;
  roomName: string;
  onClose: () => void;
}) {
  const client = useClient();
  const [added, setAdded] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<string | null>(null);

  return (
    <Dialog
      title="Add people"
      description={`They will see #${roomName} and its history.`}
      onClose={onClose}
      className="dialog-list"
    >
      <PeoplePicker
        label={(user) => (added.has(user.id) ? `${user.name} (added)` : `Add ${user.name}`)}
        trailing={(user) => (added.has(user.id) ? <span className="tag tag-ok">Added</span> : null)}
        onPick={(user) => {
          if (added.has(user.id)) return;
          setError(null);
          void client.addMember(chatId, user.id).then((result) => {
            if (result.ok) setAdded((prev) => new Set([...prev, user.id]));
            else setError(result.message === '' ? `Could not add ${user.name}.` : result.message);
          });
        }}
      />
      {error === null ? null : (
        <div className="form-error" role="alert">
          {error}
        </div>
      )}
      <div className="dialog-actions">
        <button type="button" className="button primary" onClick={onClose}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
