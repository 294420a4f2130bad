/**
 * An invite to another server while signed in: "Switch to 10.0.0.6:4000? You will sign out of
 * 10.0.0.5:4000." Switch signs out and shows the connect screen prefilled with the invite;
 * Cancel (or Esc, or the backdrop) forgets the invite and changes nothing else. Desktop only.
 */
import { switchQuestion } from '../state/invite-plan.js';
import { Dialog } from './Dialog.js';
import { useParley, useServices } from './parley-context.js';

export function InviteSwitchDialog() {
  const { invites } = useServices();
  const pending = useParley((s) => (s.invite?.stage === 'confirm-switch' ? s.invite : null));
  const queued = useParley((s) => s.outboxCount);
  if (invites === null || pending === null) return null;
  return (
    <Dialog
      title="Switch server?"
      description={switchQuestion(pending.invite, pending.current)}
      onClose={() => invites.cancelSwitch()}
      initialFocus="[data-autofocus]"
    >
      {queued > 0 ? (
        <p className="card-warning">
          {queued === 1 ? '1 message' : `${queued} messages`} not sent yet will be discarded.
        </p>
      ) : null}
      <div className="dialog-actions">
        <button
          type="button"
          className="button ghost"
          data-autofocus=""
          onClick={() => invites.cancelSwitch()}
        >
          Cancel
        </button>
        <button type="button" className="button primary" onClick={() => invites.confirmSwitch()}>
          Switch
        </button>
      </div>
    </Dialog>
  );
}
