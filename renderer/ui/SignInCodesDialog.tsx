/**
 * "Sign-in codes": how to get back in without this device. The recovery code (made anew here;
 * the old one stops working) and a short code that signs another device in as this user, once,
 * within minutes (also as a link to this page when it is served by the relay).
 */
import { useState } from 'react';
import type { LinkCodeCreated } from '../../relay/protocol/sign-in-codes.js';
import { CodeBox, CopyButton } from './CodeBox.js';
import { Dialog } from './Dialog.js';
import { useClient, useParley } from './parley-context.js';
import { formatDateTime, formatTime } from './time-format.js';
import { useDialogRequest, useRecoveryCodeState } from './use-recovery-code.js';

/** A link that opens this web client with the name and code filled in (ConnectScreen reads it). */
function linkUrl(name: string, code: string): string | null {
  const { protocol, origin } = window.location;
  if (protocol !== 'http:' && protocol !== 'https:') return null;
  return `${origin}/#sign-in?${new URLSearchParams({ name, code }).toString()}`;
}

export function SignInCodesDialog({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const name = useParley((s) => s.me?.name ?? '');
  const [recoveryCode, setRecoveryCode] = useRecoveryCodeState();
  /** Unknown (undefined) until the relay has said. */
  const createdAt = recoveryCode.state === 'known' ? recoveryCode.createdAt : undefined;
  const [confirmNew, setConfirmNew] = useState(false);
  const [link, setLink] = useState<LinkCodeCreated | null>(null);
  const { busy, error, run } = useDialogRequest();
  const [notice, setNotice] = useState('');

  async function regenerate() {
    const made = await run(
      () => client.regenerateRecoveryCode(),
      'A new recovery code could not be made',
    );
    setConfirmNew(false);
    if (made !== null) setRecoveryCode({ state: 'known', createdAt: made.created_at });
  }

  async function makeLink() {
    const made = await run(() => client.createLinkCode(), 'A code could not be made');
    if (made !== null) setLink(made);
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
            <CodeBox
              label="Code for another device"
              labelId="codes-link-label"
              code={link.link_code}
              testId="link-code"
            />
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
              <CopyButton text={url ?? link.link_code} onNotice={setNotice}>
                {url === null ? 'Copy code' : 'Copy link'}
              </CopyButton>
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
