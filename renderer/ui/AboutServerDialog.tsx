/**
 * Desktop only: "About this server", the relay this window is connected to and the certificate
 * the app holds it to (electron/main/relay-certificate.ts over `tls:pin-for`), shown in short
 * lines so the user can compare it with the fingerprint the host reads out from their "Invite
 * people" panel. Asked again whenever the connection state changes (a connection is when the
 * certificate gets pinned). Text only.
 */
import { useEffect, useState } from 'react';
import type { RelayCertificate, Result } from '../../electron/shared/bridge.js';
import { Dialog } from './Dialog.js';
import { Fingerprint } from './Fingerprint.js';
import { useParley, useServices } from './parley-context.js';

function connectionText(status: string): string {
  if (status === 'online') return 'Connected';
  if (status === 'offline') return 'Offline, reconnecting';
  if (status === 'connecting') return 'Connecting…';
  return 'Not connected';
}

function certificateText(cert: RelayCertificate): string {
  switch (cert.state) {
    case 'pinned':
      return `Parley accepts only this certificate from this server${
        cert.pinnedAt === null ? '' : ` (trusted since ${new Date(cert.pinnedAt).toLocaleString()})`
      }. If the server presents another one, the connection is refused and you are warned.`;
    case 'announced':
      return 'Announced by the invite or the network; Parley checks it at the next connection and then accepts no other.';
    case 'unknown':
      return 'No certificate checked yet: it is checked, and kept, at the first connection.';
    case 'plain':
      return 'Not encrypted: this server uses plain http, so anyone on the network can read the messages.';
  }
}

export function AboutServerDialog({ onClose }: { onClose: () => void }) {
  const { desktop } = useServices();
  const serverUrl = useParley((s) => s.serverUrl);
  const status = useParley((s) => s.status);
  const hostedHere = useParley(
    (s) =>
      s.hosting?.state === 'running' &&
      serverUrl !== null &&
      [s.hosting.url, ...s.hosting.lanUrls].includes(serverUrl),
  );
  const [cert, setCert] = useState<Result<RelayCertificate> | null>(null);

  useEffect(() => {
    if (desktop === null || serverUrl === null) return;
    let live = true;
    desktop.tls.pinFor(serverUrl).then(
      (result) => live && setCert(result),
      (error: unknown) => {
        console.warn('parley: reading the certificate pin failed', error);
        if (live) setCert({ ok: false, code: 'ipc_failed', message: 'Not available.' });
      },
    );
    return () => {
      live = false;
    };
  }, [desktop, serverUrl, status]);

  return (
    <Dialog title="About this server" onClose={onClose} className="about-server-dialog">
      <dl className="about-list">
        <dt>Address</dt>
        <dd>
          <code>{serverUrl ?? '—'}</code>
        </dd>
        <dt>Connection</dt>
        <dd>{connectionText(status)}</dd>
        {hostedHere ? (
          <>
            <dt>Hosted by</dt>
            <dd>This computer</dd>
          </>
        ) : null}
      </dl>

      <section className="invite-section" aria-label="Certificate">
        <h3 className="invite-heading">Certificate fingerprint (SHA-256)</h3>
        {cert === null ? (
          <p className="muted small">Checking…</p>
        ) : !cert.ok ? (
          <p className="form-error" role="alert">
            {cert.message}
          </p>
        ) : (
          <>
            <p className={`small ${cert.value.state === 'plain' ? 'card-warning' : 'muted'}`}>
              {certificateText(cert.value)}
            </p>
            {cert.value.fingerprint === null ? null : (
              <>
                <Fingerprint value={cert.value.fingerprint} />
                <p className="muted small">
                  Ask the host to read out the fingerprint in their “Invite people” panel and
                  compare it line by line. If it differs, sign out and tell them.
                </p>
              </>
            )}
          </>
        )}
      </section>
    </Dialog>
  );
}
