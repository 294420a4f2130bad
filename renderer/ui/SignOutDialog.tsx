/**
 * Signing out, asked first: what this device loses, what it takes to come back (the recovery
 * code, or a code from another signed-in device), and that with neither the name is lost until an
 * administrator resets it. Offers a new recovery code before going. With sign-ins from a company's
 * identity provider (no codes) it only says a token will be needed.
 */
import { Dialog } from './Dialog.js';
import { useClient, useParley } from './parley-context.js';
import { formatDateTime } from './time-format.js';
import {
  useDialogRequest,
  useRecoveryCodeState,
  type RecoveryCodeState,
} from './use-recovery-code.js';

function codeLine(status: RecoveryCodeState): string {
  switch (status.state) {
    case 'loading':
      return 'Checking your recovery code…';
    case 'unknown':
    case 'company':
      return 'Your recovery code could not be checked (the server cannot be reached).';
    case 'known':
      return status.createdAt === null
        ? 'You have no recovery code yet.'
        : `Your recovery code was made ${formatDateTime(Date.parse(status.createdAt))}. Only the copy you saved can be used.`;
  }
}

export function SignOutDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const name = useParley((s) => s.me?.name ?? '');
  const server = useParley((s) => (s.serverUrl ?? '').replace(/^https?:\/\//, ''));
  const [status, setStatus] = useRecoveryCodeState();
  const { busy, error, run } = useDialogRequest();

  async function regenerate() {
    const made = await run(
      () => client.regenerateRecoveryCode(),
      'A new recovery code could not be made',
    );
    if (made !== null) setStatus({ state: 'known', createdAt: made.created_at });
  }

  const company = status.state === 'company';
  return (
    <Dialog title={`Sign out of ${server}?`} onClose={onClose} className="dialog-sign-out">
      <div className="dialog-prose">
        <p>This device will no longer be signed in as “{name}”.</p>
        {company ? (
          <p>To sign in again you will need a token from your company.</p>
        ) : (
          <>
            <p>
              To sign in again, here or anywhere else, you will need your{' '}
              <strong>recovery code</strong>, or a <strong>code from another device</strong> where
              you are still signed in (Sign-in codes, beside Sign out).
            </p>
            <p>
              With neither, the name “{name}” and its chats are lost to you until an administrator
              of this server resets it.
            </p>
            <p className="muted" role="status">
              {codeLine(status)}
            </p>
          </>
        )}
      </div>
      {error === null ? null : (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        {company ? null : (
          <button
            type="button"
            className="button ghost"
            disabled={busy}
            onClick={() => void regenerate()}
          >
            {busy ? 'Making a code…' : 'Make a new recovery code'}
          </button>
        )}
        <button type="button" className="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="button danger" onClick={() => client.signOut()}>
          Sign out
        </button>
      </div>
    </Dialog>
  );
}
