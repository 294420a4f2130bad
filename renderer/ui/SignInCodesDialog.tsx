/**
 * "Sign-in codes": how to get back in without this device. The recovery code (made anew here;
 * the old one stops working) and a short code that signs another device in as this user, once,
 * within minutes (also as a link to this page when it is served by the relay).
 */
import { useEffect, useState } from 'react';
import type { LinkCodeCreated } from '../../relay/protocol/sign-in-codes.js';
import { copyText } from './clipboard.js';
import { Dialog } from './Dialog.js';
import { useClient, useParley } from './parley-context.js';
import { formatDateTime, formatTime } from './time-format.js';

/** A link that opens this web client with the name and code filled in (ConnectScreen reads it). */
function linkUrl(name: string, code: string): string | null {
  const { protocol, origin } = window.location;
  if (protocol !== 'http:' && protocol !== 'https:') return null;
  return `${origin}/#sign-in?${new URLSearchParams({ name, code }).toString()}`;
}

export function SignInCodesDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const name = useParley((s) => s.me?.name ?? '');
  const [createdAt, setCreatedAt] = useState<string | null | undefined>(undefined);
  const [confirmNew, setConfirmNew] = useState(false);
  const [link, setLink] = useState<LinkCodeCreated | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState('');

  useEffect(() => {
    void client.recoveryCodeStatus().then((answer) => {
      if (answer.ok) setCreatedAt(answer.data.created_at);
    });
  }, [client]);

  async function regenerate() {
    setBusy(true);
    setError(null);
    const made = await client.regenerateRecoveryCode();
    setBusy(false);
    setConfirmNew(false);
    if (made.ok) setCreatedAt(made.data.created_at);
    else setError(`A new recovery code could not be made: ${made.message}`);
  }

  async function makeLink() {
    setBusy(true);
    setError(null);
    const made = await client.createLinkCode();
    setBusy(false);
    if (made.ok) setLink(made.data);
    else setError(`A code could not be made: ${made.message}`);
  }

  const url = link === null ? null : linkUrl(name, link.link_code);

  return (
    <Dialog title="Sign-in codes" onClose={onClose} className="dialog-codes">
      <section className="dialog-prose" aria-labelledby="codes-recovery">
        <h3 id="codes-recovery" className="section-label">
          Recovery code
        </h3>
        <p className="muted small">
          {createdAt === undefined
            ? 'Your recovery code lets you sign in as “' + name + '” when no device of yours is.'
            : createdAt === null
              ? 'You have no recovery code yet. Make one and keep it somewhere safe.'
              : `Yours was made ${formatDateTime(Date.parse(createdAt))}. It cannot be shown again; make a new one if you lost it.`}
        </p>
        {confirmNew ? (
          <div className="confirm-row">
            <span>Your current recovery code will stop working.</span>
            <button
              type="button"
              className="button small primary"
              disabled={busy}
              onClick={() => void regenerate()}
            >
              Make a new one
            </button>
            <button
              type="button"
              className="button small ghost"
              onClick={() => setConfirmNew(false)}
            >
              Keep the old one
            </button>
          </div>
        ) : (
          <button
            type="button"
            className="button small"
            onClick={() => (createdAt === null ? void regenerate() : setConfirmNew(true))}
          >
            Make a new recovery code
          </button>
        )}
      </section>
      <section className="dialog-prose" aria-labelledby="codes-link">
        <h3 id="codes-link" className="section-label">
          Sign in on another device
        </h3>
        {link === null ? (
          <>
            <p className="muted small">
              Get a code that signs another device in as “{name}”, with your chats. It works once,
              for 10 minutes.
            </p>
            <button
              type="button"
              className="button small"
              disabled={busy}
              onClick={() => void makeLink()}
            >
              Show a code
            </button>
          </>
        ) : (
          <>
            <div className="code-box">
              <span className="code-label" id="codes-link-label">
                Code for another device
              </span>
              <code className="code-value" data-testid="link-code">
                {link.link_code}
              </code>
            </div>
            <p className="muted small">
              On the other device open Parley, choose “I already have an account”, and enter “{name}
              ” and this code before {formatTime(Date.parse(link.expires_at))}. It works once.
            </p>
            {url === null ? null : (
              <p className="muted small">
                Or open this link there:{' '}
                <a href={url} className="code-link" rel="noreferrer">
                  {url}
                </a>
              </p>
            )}
            <div className="code-actions">
              <button
                type="button"
                className="button small"
                onClick={() =>
                  void copyText(url ?? link.link_code).then((ok) =>
                    setNotice(ok ? 'Copied.' : 'Copying was refused; select the code and copy it.'),
                  )
                }
              >
                {url === null ? 'Copy code' : 'Copy link'}
              </button>
              <button
                type="button"
                className="button small ghost"
                disabled={busy}
                onClick={() => void makeLink()}
              >
                Another code
              </button>
            </div>
          </>
        )}
        <p className="muted small" role="status">
          {notice}
        </p>
      </section>
      {error === null ? null : (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
