/**
 * "Save your recovery code": the code the relay just made (at sign-up, when the old one was used
 * to sign in, or on request), shown once. Copy and download it; it closes only after the user
 * ticks that they saved it, because nothing can show this code again.
 */
import { useId, useState } from 'react';
import type { ShownRecoveryCode } from '../state/store.js';
import { CodeBox, CopyButton } from './CodeBox.js';
import { Dialog } from './Dialog.js';
import { useActions, useParley } from './parley-context.js';

function lead(reason: ShownRecoveryCode['reason'], name: string): string {
  switch (reason) {
    case 'sign-up':
      return `With this code you can sign in as “${name}” again after signing out, clearing this browser or losing this device. It is shown only now.`;
    case 'replaced':
      return 'You signed in with your recovery code, so it has been replaced: the old one no longer works. Save this new one.';
    case 'regenerated':
      return 'Your previous recovery code no longer works. Save this new one.';
  }
}

/** Starts a download of `text` as a file, from the page (no server involved). */
function download(fileName: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

export function RecoveryCodeDialog({ shown }: { shown: ShownRecoveryCode }) {
  const actions = useActions();
  const name = useParley((s) => s.me?.name ?? '');
  const server = useParley((s) => s.serverUrl ?? '');
  const [saved, setSaved] = useState(false);
  const [notice, setNotice] = useState('');
  const ids = { code: useId(), saved: useId() };

  const fileText =
    `Parley recovery code\n\nServer: ${server}\nName: ${name}\nRecovery code: ${shown.code}\n\n` +
    'Sign in with your name and this code when no device of yours is signed in.\n' +
    'Signing in with it replaces it with a new one. Keep it private.\n';

  function close() {
    if (saved) actions.showRecoveryCode(null);
    else setNotice('Tick “I saved my recovery code” first: this code cannot be shown again.');
  }

  return (
    <Dialog
      title="Save your recovery code"
      description={lead(shown.reason, name)}
      onClose={close}
      className="dialog-recovery"
      initialFocus=".code-actions button"
    >
      <CodeBox
        label={`Recovery code for ${name}`}
        labelId={ids.code}
        code={shown.code}
        testId="recovery-code"
      />
      <div className="code-actions">
        <CopyButton text={shown.code} onNotice={setNotice}>
          Copy
        </CopyButton>
        <button
          type="button"
          className="button small"
          onClick={() => {
            download(
              `parley-recovery-code-${name.replace(/[^\p{L}\p{N}_-]+/gu, '_')}.txt`,
              fileText,
            );
            setNotice('Downloaded.');
          }}
        >
          Download
        </button>
      </div>
      <label className="check-row" htmlFor={ids.saved}>
        <input
          id={ids.saved}
          type="checkbox"
          checked={saved}
          onChange={(event) => {
            setSaved(event.target.checked);
            setNotice('');
          }}
        />
        I saved my recovery code
      </label>
      <p className="muted small" role="status">
        {notice}
      </p>
      <div className="dialog-actions">
        <button type="button" className="button primary" disabled={!saved} onClick={close}>
          Done
        </button>
      </div>
    </Dialog>
  );
}
