/**
 * Why the room of an invite could not be opened ("You are not a member of this room; ask a
 * member to add you."), above the open chat until dismissed or the next invite. Desktop only.
 */
import { useParley, useServices } from './parley-context.js';

export function InviteNotice() {
  const { invites } = useServices();
  const notice = useParley((s) => s.inviteNotice);
  if (invites === null || notice === null) return null;
  return (
    <div className="invite-notice" role="alert">
      <span>{notice}</span>
      <button type="button" className="button small" onClick={() => invites.dismissNotice()}>
        Dismiss
      </button>
    </div>
  );
}
