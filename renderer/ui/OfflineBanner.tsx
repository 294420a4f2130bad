/** Shown while disconnected: the client keeps retrying, and says how many messages wait. */
import { useParley } from './parley-context.js';

export function OfflineBanner() {
  const offline = useParley((s) => s.status === 'offline');
  const queued = useParley((s) => s.outboxCount);
  if (!offline) return null;
  return (
    <div className="offline-banner" role="alert">
      <span className="offline-dot" aria-hidden="true" />
      <strong>Offline</strong>
      <span>
        {' '}
        — reconnecting…
        {queued > 0
          ? ` ${queued} ${queued === 1 ? 'message' : 'messages'} waiting to be sent.`
          : ' New messages will be sent when the connection is back.'}
      </span>
    </div>
  );
}
