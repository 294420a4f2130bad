/**
 * Desktop only: "Invite people", the panel of the room this computer hosts. It says whether the
 * room is up, lists the addresses colleagues can reach it at, shows the certificate fingerprint
 * in short lines to read aloud, says whether a passcode is needed, copies the `parley://` invite
 * (built by the main process from the hosting status: electron/main/hosting-invite.ts) and stops
 * hosting. It follows the hosting status live (the store's `hosting`, fed by watchHosting).
 * Everything is rendered as text.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { HostingInvite, HostingStatus, Result } from '../../electron/shared/bridge.js';
import { copyText } from './clipboard.js';
import { Dialog } from './Dialog.js';
import { Fingerprint } from './Fingerprint.js';
import { addressOf } from './fingerprint-format.js';
import { CopyIcon } from './Icons.js';
import { useParley, useParleyShallow, useServices } from './parley-context.js';
import { IconButton } from './IconButton.js';

function stateLine(status: HostingStatus | null): string {
  switch (status?.state) {
    case 'running':
      return status.displayName === null
        ? 'This computer is hosting a room.'
        : `This computer is hosting a room, as ${status.displayName}.`;
    case 'starting':
      return 'Starting the room…';
    case 'stopping':
      return 'Stopping the room…';
    case 'failed':
      return `Hosting failed${status.error === null ? '.' : `: ${status.error.message}`}`;
    default:
      return 'This computer is not hosting a room.';
  }
}

export function InvitePeopleDialog({ onClose }: { onClose: () => void }) {
  const { desktop } = useServices();
  const hosting = useParley((s) => s.hosting);
  // The open chat goes into the invite when it is a public room anyone may join.
  const room = useParleyShallow((s) => {
    const chat = s.activeChatId === null ? undefined : s.chats[s.activeChatId];
    return chat?.kind === 'room' && chat.visibility === 'public'
      ? { id: chat.id, name: chat.name }
      : null;
  });
  const [chosenUrl, setChosenUrl] = useState<string | null>(null);
  const [invite, setInvite] = useState<Result<HostingInvite> | null>(null);
  const [notice, setNotice] = useState('');
  const [copyFailed, setCopyFailed] = useState(false);
  const [confirmStop, setConfirmStop] = useState(false);
  const [stopError, setStopError] = useState<string | null>(null);
  const linkRef = useRef<HTMLInputElement>(null);
  const ids = { link: useId(), address: useId(), fp: useId(), passcode: useId() };

  const running = hosting?.state === 'running';
  const lanUrls = running ? hosting.lanUrls : [];
  const lanUrl =
    chosenUrl !== null && lanUrls.includes(chosenUrl) ? chosenUrl : (lanUrls[0] ?? null);
  const roomId = room?.id ?? null;
  const roomName = room?.name ?? null;
  const fingerprint = running ? hosting.tlsFingerprint : null;
  const port = running ? hosting.port : null;

  useEffect(() => {
    if (desktop === null || !running) {
      setInvite(null);
      return;
    }
    let live = true;
    desktop.hosting.invite({ lanUrl, room: roomId, roomName }).then(
      (result) => live && setInvite(result),
      (error: unknown) => {
        console.warn('parley: building the invite failed', error);
        if (live)
          setInvite({ ok: false, code: 'ipc_failed', message: 'The invite could not be made.' });
      },
    );
    return () => {
      live = false;
    };
    // The port and fingerprint change when hosting restarts: the invite must follow.
  }, [desktop, running, lanUrl, roomId, roomName, port, fingerprint]);

  async function copy(text: string, what: string): Promise<void> {
    const copied = await copyText(text);
    setCopyFailed(!copied);
    setNotice(copied ? `${what} copied` : '');
    if (!copied && what === 'Invite link') linkRef.current?.select();
  }

  async function stop(): Promise<void> {
    if (desktop === null) return;
    setStopError(null);
    const result = await desktop.hosting.stop();
    if (!result.ok) setStopError(result.message);
    setConfirmStop(false);
  }

  const link = invite?.ok === true ? invite.value.link : '';

  return (
    <Dialog title="Invite people" onClose={onClose} className="invite-dialog">
      <p className={`hosting-state is-${hosting?.state ?? 'stopped'}`}>
        <span className="hosting-dot" aria-hidden="true" />
        <span>{stateLine(hosting)}</span>
      </p>

      {running ? (
        <div className="invite-body">
          <section className="invite-section" aria-labelledby={ids.link}>
            <h3 id={ids.link} className="invite-heading">
              Invite link
            </h3>
            <p className="muted small">
              Colleagues with the Parley app open this link: it connects them and checks the
              certificate for them.
              {room === null ? null : ` It opens #${room.name} once they have joined.`}
            </p>
            <div className="copy-row">
              <input
                ref={linkRef}
                className="copy-field"
                type="text"
                readOnly
                aria-label="Invite link"
                value={link}
                onFocus={(event) => event.currentTarget.select()}
              />
              <button
                type="button"
                className="button primary small"
                disabled={link === ''}
                onClick={() => void copy(link, 'Invite link')}
              >
                <CopyIcon />
                Copy invite link
              </button>
            </div>
            {invite?.ok === false ? (
              <p className="form-error" role="alert">
                {invite.message}
              </p>
            ) : null}
            {lanUrls.length > 1 ? (
              <div className="field invite-address">
                <label htmlFor={ids.address}>Address in the invite</label>
                <select
                  id={ids.address}
                  value={lanUrl ?? ''}
                  onChange={(event) => setChosenUrl(event.target.value)}
                >
                  {lanUrls.map((url) => (
                    <option key={url} value={url}>
                      {addressOf(url)}
                    </option>
                  ))}
                </select>
              </div>
            ) : null}
          </section>

          <section className="invite-section" aria-labelledby={ids.address + '-list'}>
            <h3 id={ids.address + '-list'} className="invite-heading">
              Addresses on this network
            </h3>
            {lanUrls.length === 0 ? (
              <p className="muted small">
                This computer has no network address colleagues can reach. Connect it to the office
                network; the addresses appear here.
              </p>
            ) : (
              <>
                <p className="muted small">Colleagues using a web browser open one of these:</p>
                <ul className="address-list" aria-label="Addresses">
                  {lanUrls.map((url) => (
                    <li key={url}>
                      <code>{url}</code>
                      <IconButton
                        label={`Copy ${url}`}
                        title="Copy"
                        small
                        onClick={() => void copy(url, 'Address')}
                      >
                        <CopyIcon />
                      </IconButton>
                    </li>
                  ))}
                </ul>
              </>
            )}
            <p className="muted small">
              {hosting.advertised
                ? 'Also listed under “On your network” in colleagues’ Parley apps.'
                : 'Not announced on the network (discovery is off): share the link or an address.'}
            </p>
          </section>

          <section className="invite-section" aria-labelledby={ids.fp}>
            <h3 id={ids.fp} className="invite-heading">
              Certificate fingerprint (SHA-256)
            </h3>
            {fingerprint === null ? (
              <p className="card-warning small">
                This room is not encrypted (plain http): anyone on the network can read its
                messages.
              </p>
            ) : (
              <>
                <p className="muted small">
                  Read it out so colleagues can compare it, line by line, with the one their browser
                  or Parley app shows before they trust the connection.
                </p>
                <div className="fingerprint-row">
                  <Fingerprint value={fingerprint} />
                  <button
                    type="button"
                    className="button ghost small"
                    onClick={() => void copy(fingerprint, 'Fingerprint')}
                  >
                    Copy fingerprint
                  </button>
                </div>
              </>
            )}
          </section>

          <section className="invite-section" aria-labelledby={ids.passcode}>
            <h3 id={ids.passcode} className="invite-heading">
              Passcode
            </h3>
            <p className="small">
              {hosting.passcodeRequired
                ? 'Required. Tell colleagues the passcode yourself: it is not in the invite.'
                : 'None: anyone who can reach this computer can join.'}
            </p>
          </section>
        </div>
      ) : null}

      <p className="copy-notice small" role="status">
        {notice}
      </p>
      {copyFailed ? (
        <p className="form-error" role="alert">
          Copying was refused. Select the text and press Ctrl+C (⌘C on a Mac).
        </p>
      ) : null}
      {stopError === null ? null : (
        <p className="form-error" role="alert">
          {stopError}
        </p>
      )}

      {running ? (
        confirmStop ? (
          <div className="stop-confirm" role="group" aria-label="Stop hosting?">
            <p className="small">
              Everyone in this room is disconnected, you included. The messages stay on this
              computer for the next time you host.
            </p>
            <div className="dialog-actions">
              <button
                type="button"
                className="button ghost"
                // The "Stop hosting" button that had focus is gone: keep focus in the dialog.
                autoFocus
                onClick={() => setConfirmStop(false)}
              >
                Keep hosting
              </button>
              <button type="button" className="button danger" onClick={() => void stop()}>
                Stop now
              </button>
            </div>
          </div>
        ) : (
          <div className="dialog-actions">
            <button
              type="button"
              className="button ghost danger-text"
              onClick={() => setConfirmStop(true)}
            >
              Stop hosting
            </button>
          </div>
        )
      ) : null}
    </Dialog>
  );
}
