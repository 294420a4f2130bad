/**
 * "Can't connect": the server refused the session (token expired or revoked: sign in again), or
 * could not be reached before anything was loaded (retry, or sign in elsewhere). The client keeps
 * retrying in the background while offline; this screen goes away by itself when it connects.
 */
import { useState } from 'react';
import { AlertIcon, LogoMark } from './Icons.js';
import { useClient, useParley } from './parley-context.js';

export function ErrorScreen() {
  const client = useClient();
  const error = useParley((s) => s.error);
  const serverUrl = useParley((s) => s.serverUrl);
  const queued = useParley((s) => s.outboxCount);
  const [retrying, setRetrying] = useState(false);
  const refused = error?.code === 'unauthorized';

  async function retry() {
    setRetrying(true);
    try {
      await client.resume();
    } finally {
      setRetrying(false);
    }
  }

  return (
    <main className="center-screen">
      <div className="card error-card" role="alert">
        <div className="error-icon">
          <AlertIcon />
        </div>
        <h1 className="card-title">Can't connect</h1>
        <p className="card-text">
          {refused
            ? 'The server refused your sign-in: the session expired or was revoked.'
            : `Parley can't reach ${serverUrl ?? 'the server'}. Check that the server is running and that you are on the right network.`}
        </p>
        {error !== null && error.message !== '' ? (
          <p className="card-detail">{error.message}</p>
        ) : null}
        {queued > 0 ? (
          <p className="card-warning">
            {queued === 1 ? '1 message is' : `${queued} messages are`} waiting to be sent.
            {refused
              ? ' They are kept and sent after you sign in again as the same person.'
              : ' They will be sent once connected.'}
          </p>
        ) : null}
        <div className="card-actions">
          {refused ? null : (
            <button
              type="button"
              className="button primary"
              onClick={() => void retry()}
              disabled={retrying}
            >
              {retrying ? 'Retrying…' : 'Retry'}
            </button>
          )}
          <button
            type="button"
            className={refused ? 'button primary' : 'button'}
            onClick={() => client.signOut({ keepOutbox: true })}
          >
            Sign in again
          </button>
        </div>
      </div>
      <footer className="center-foot">
        <LogoMark size={18} /> Parley
      </footer>
    </main>
  );
}
