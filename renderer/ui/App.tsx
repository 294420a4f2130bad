/**
 * Top-level routing by connection status: the connect screen when signed out, the error screen
 * when the server refused the session (or was never reached and nothing is loaded yet), and the
 * workspace otherwise, including while offline with chats already loaded (the offline banner
 * says so and messages queue).
 */
import { AboutServerDialog } from './AboutServerDialog.js';
import { CertificateWarning } from './CertificateWarning.js';
import { ConnectScreen } from './ConnectScreen.js';
import { LogoMark } from './Icons.js';
import { ErrorScreen } from './ErrorScreen.js';
import { InvitePeopleDialog } from './InvitePeopleDialog.js';
import { InviteSwitchDialog } from './InviteSwitchDialog.js';
import { RecoveryCodeDialog } from './RecoveryCodeDialog.js';
import { SignInCodesDialog } from './SignInCodesDialog.js';
import { SignOutDialog } from './SignOutDialog.js';
import { useActions, useParley, useServices } from './parley-context.js';
import { Workspace } from './Workspace.js';

export function App() {
  return (
    <>
      <CertificateWarning />
      <Screen />
      <DesktopDialogs />
      <InviteSwitchDialog />
      <AccountDialogs />
    </>
  );
}

/**
 * Signing out and sign-in codes, while signed in; a recovery code the relay just made comes on
 * top of everything, until the user saved it.
 */
function AccountDialogs() {
  const actions = useActions();
  const signedIn = useParley((s) => s.me !== null);
  const dialog = useParley((s) => s.dialog);
  const recoveryCode = useParley((s) => s.recoveryCode);
  if (!signedIn) return null;
  const close = () => actions.openDialog(null);
  return (
    <>
      {dialog === 'sign-out' ? <SignOutDialog onClose={close} /> : null}
      {dialog === 'sign-in-codes' ? <SignInCodesDialog onClose={close} /> : null}
      {recoveryCode === null ? null : <RecoveryCodeDialog shown={recoveryCode} />}
    </>
  );
}

/** The desktop-only dialogs, open from the connect screen and the workspace alike. */
function DesktopDialogs() {
  const { desktop } = useServices();
  const actions = useActions();
  const dialog = useParley((s) => s.dialog);
  if (desktop === null) return null;
  const close = () => actions.openDialog(null);
  if (dialog === 'invite-people') return <InvitePeopleDialog onClose={close} />;
  if (dialog === 'about-server') return <AboutServerDialog onClose={close} />;
  return null;
}

function Screen() {
  const status = useParley((s) => s.status);
  const errorCode = useParley((s) => s.error?.code ?? null);
  const hasChats = useParley((s) => Object.keys(s.chats).length > 0);

  if (status === 'signed-out') return <ConnectScreen />;
  if (status === 'error') return <ErrorScreen />;
  if (status === 'offline' && errorCode === 'unreachable' && !hasChats) return <ErrorScreen />;
  if (status === 'connecting' && !hasChats) return <Connecting />;
  return <Workspace />;
}

/** The moment between signing in (or resuming) and the first list of chats. */
function Connecting() {
  const serverUrl = useParley((s) => s.serverUrl);
  return (
    <main className="center-screen" aria-busy="true">
      <div className="connecting">
        <LogoMark size={36} />
        <p role="status">Connecting to {serverUrl ?? 'the server'}…</p>
      </div>
    </main>
  );
}
