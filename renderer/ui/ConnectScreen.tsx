/**
 * Sign in: a server address (prefilled with the page's origin when a relay serves this page),
 * then a display name (and the passcode when the host set one), or a token from the company's
 * identity provider. In the desktop shell it also lists relays found on the LAN and offers to
 * host a room on this computer, and shows the `parley://` invite being followed ("You were
 * invited to …", the address prefilled, the name field focused). The client remembers the session.
 */
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { DiscoveredHost } from '../../electron/shared/bridge.js';
import { isDisplayName, normalizeName } from '../../relay/protocol/display-name.js';
import { inviteHeadline, sameServer } from '../state/invite-plan.js';
import { addressOf } from './fingerprint-format.js';
import { BroadcastIcon, LogoMark, ServerIcon } from './Icons.js';
import { useActions, useParley, useServices } from './parley-context.js';

const LAST_SERVER_KEY = 'parley.ui.lastServer';
const LAST_NAME_KEY = 'parley.ui.lastName';

type Mode = 'name' | 'token';

interface SignInForm {
  mode: Mode;
  server: string;
  name: string;
  passcode: string;
  token: string;
  /** A recovery code or a code from another device, for a name one already has ("" for none). */
  code: string;
}

/**
 * A link made by "Sign-in codes" on another device: `#sign-in?name=…&code=…`. Read once, then
 * taken out of the address bar (the code works once anyway).
 */
function takeSignInLink(): { name: string; code: string } | null {
  const { hash, pathname, search } = window.location;
  if (!hash.startsWith('#sign-in?')) return null;
  const params = new URLSearchParams(hash.slice('#sign-in?'.length));
  window.history.replaceState(null, '', `${pathname}${search}`);
  const name = params.get('name') ?? '';
  const code = params.get('code') ?? '';
  return code === '' ? null : { name: name.slice(0, 64), code: code.slice(0, 64) };
}

function defaultServer(saved: string | null): string {
  const { protocol, origin } = window.location;
  if (protocol === 'http:' || protocol === 'https:') return origin;
  return saved ?? '';
}

/** The relay's message, made friendlier where the raw one would confuse. */
function describe(code: string, message: string, server: string): string {
  switch (code) {
    case 'unreachable':
      return `Can't reach ${server}. Check the address and that the server is running.`;
    case 'invalid_url':
      return 'Enter a server address such as http://192.168.1.20:4000.';
    case 'sessions_disabled':
      return `${message} Use a token from your company instead.`;
    case 'unauthorized':
      return 'The server refused this token. It may have expired; get a new one.';
    case 'name_taken':
      return 'That name is taken. If it is yours, choose “I already have an account” and enter your recovery code or a code from your other device; otherwise pick another name.';
    case 'bad_recovery_code':
      return 'That name and code do not match. Check both: a code from another device works once, for 10 minutes.';
    default:
      return message === '' ? `Sign-in failed (${code}).` : message;
  }
}

export function ConnectScreen() {
  const { client, storage, desktop, notifications, invites } = useServices();
  const invite = useParley((s) => (s.invite?.stage === 'sign-in' ? s.invite.invite : null));
  const [mode, setMode] = useState<Mode>('name');
  const [server, setServer] = useState(
    () => invite?.serverUrl ?? defaultServer(storage.get(LAST_SERVER_KEY)),
  );
  const [signInLink] = useState(takeSignInLink);
  const [name, setName] = useState(
    () => (signInLink?.name || null) ?? storage.get(LAST_NAME_KEY) ?? '',
  );
  const [passcode, setPasscode] = useState('');
  const [token, setToken] = useState('');
  const [haveAccount, setHaveAccount] = useState(signInLink !== null);
  const [code, setCode] = useState(signInLink?.code ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; text: string } | null>(null);
  const [hosts, setHosts] = useState<DiscoveredHost[]>([]);
  const [hosting, setHosting] = useState(false);
  const actions = useActions();
  const hostingStatus = useParley((s) => s.hosting);
  const nameRef = useRef<HTMLInputElement>(null);
  const tokenRef = useRef<HTMLInputElement>(null);
  const ids = {
    server: useId(),
    name: useId(),
    passcode: useId(),
    token: useId(),
    code: useId(),
  };

  useEffect(() => {
    if (desktop === null) return;
    let live = true;
    desktop.discovery
      .hosts()
      .then((found) => live && setHosts(found))
      .catch((err: unknown) => console.warn('parley: listing LAN hosts failed', err));
    const unsubscribe = desktop.discovery.onHostsChanged((found) => setHosts(found));
    return () => {
      live = false;
      unsubscribe();
    };
  }, [desktop]);

  useEffect(() => {
    (mode === 'token' ? tokenRef : nameRef).current?.focus();
  }, [mode]);

  // A sign-in link pasted into the address bar of this open page.
  useEffect(() => {
    const onHashChange = () => {
      const link = takeSignInLink();
      if (link === null) return;
      setMode('name');
      setHaveAccount(true);
      if (link.name !== '') setName(link.name);
      setCode(link.code);
      setError(null);
    };
    window.addEventListener('hashchange', onHashChange);
    return () => window.removeEventListener('hashchange', onHashChange);
  }, []);

  // A new invite (at start or while this screen is open): its server, a display name next.
  useEffect(() => {
    if (invite === null) return;
    setServer(invite.serverUrl);
    setMode('name');
    setError(null);
    nameRef.current?.focus();
  }, [invite]);

  // A sign-in to the invited server that the policy reload interrupted goes on by itself.
  useEffect(() => {
    const interrupted = invites?.takeSignIn() ?? null;
    if (interrupted === null) return;
    setServer(interrupted.server);
    setName(interrupted.name);
    void connect({ mode: 'name', ...interrupted, passcode: '', token: '', code: '' });
    // Once, when the screen appears after the reload.
  }, []);

  async function connect(form: SignInForm) {
    setError(null);
    setBusy(true);
    const servers = form.server.split(/[\s,]+/).filter(Boolean);
    const nameText = form.name.trim();
    if (desktop !== null) {
      // A sign-in to the invited server without a passcode (never stored) survives the reload
      // that widening the policy needs, and goes on by itself afterwards.
      const first = servers[0];
      if (
        invites !== null &&
        invite !== null &&
        first !== undefined &&
        servers.length === 1 &&
        sameServer(first, invite.serverUrl) &&
        form.mode === 'name' &&
        form.passcode === ''
      ) {
        invites.rememberSignIn({ server: first, name: nameText });
      }
      // The desktop window's CSP only lets the page reach relays the user chose: allow these.
      for (const url of servers) {
        const allowed = await desktop.relays.allow(url);
        if (!allowed.ok) {
          invites?.forgetSignIn();
          setBusy(false);
          setError({ code: allowed.code, text: allowed.message });
          return;
        }
        if (allowed.value.reload) {
          // The window reloads to apply the new policy; the form comes back filled in.
          storage.set(LAST_SERVER_KEY, form.server.trim());
          if (form.mode === 'name') storage.set(LAST_NAME_KEY, nameText);
          return;
        }
      }
      invites?.forgetSignIn();
    }
    const result =
      form.mode === 'name'
        ? await client.signIn({
            serverUrl: servers[0] ?? '',
            name: nameText,
            passcode: form.passcode,
            code: form.code,
          })
        : await client.useToken({ serverUrls: servers, token: form.token.trim() });
    if (result.ok) {
      storage.set(LAST_SERVER_KEY, form.server.trim());
      if (form.mode === 'name') storage.set(LAST_NAME_KEY, nameText);
      // Ask once, right after the first sign-in (a user gesture), never on page load.
      void notifications.request();
      return;
    }
    setBusy(false);
    setError({
      code: result.code,
      text: describe(result.code, result.message, form.server.trim()),
    });
    if (result.code === 'sessions_disabled') setMode('token');
    if (result.code === 'name_taken') setHaveAccount(true);
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    void connect({ mode, server, name, passcode, token, code: haveAccount ? code : '' });
  }

  async function hostHere() {
    if (desktop === null) return;
    setHosting(true);
    setError(null);
    const settings = await desktop.settings.getAll();
    const started = await desktop.hosting.start({
      port: settings.hostPort,
      displayName: name.trim() === '' ? settings.hostDisplayName : name.trim(),
    });
    setHosting(false);
    if (!started.ok) {
      setError({ code: started.code, text: started.message });
    } else if (started.value.url === null) {
      const failure = started.value.error;
      setError({
        code: failure?.code ?? 'hosting_failed',
        text: failure?.message ?? 'The room could not be started.',
      });
    } else {
      setServer(started.value.url);
      setMode('name');
      nameRef.current?.focus();
    }
  }

  // The relay's own rule (relay/protocol/display-name.ts): no blank or invisible names.
  const canSubmit =
    server.trim() !== '' &&
    (mode === 'name' ? isDisplayName(normalizeName(name)) : token.trim() !== '');

  return (
    <main className="center-screen connect-screen">
      <div className="card connect-card">
        <div className="brand">
          <LogoMark size={36} />
          <div>
            <h1 className="brand-name">Parley</h1>
            <p className="brand-tag">Team chat that lives on your own network.</p>
          </div>
        </div>

        {desktop !== null ? (
          <section className="lan-hosts" aria-labelledby={`${ids.server}-lan`}>
            <h2 id={`${ids.server}-lan`} className="section-label">
              On your network
            </h2>
            {hosts.length === 0 ? (
              <p className="muted small">Looking for rooms on this network…</p>
            ) : (
              <ul className="host-list">
                {hosts.map((host) => (
                  <li key={host.id}>
                    <button
                      type="button"
                      className={`host-entry ${server === host.url ? 'is-selected' : ''}`}
                      onClick={() => {
                        setServer(host.url);
                        nameRef.current?.focus();
                      }}
                    >
                      <ServerIcon />
                      <span className="host-name">
                        {host.displayName === '' ? host.name : host.displayName}
                        {host.isSelf ? <span className="muted"> (this computer)</span> : null}
                      </span>
                      {host.passcodeRequired ? <span className="tag">passcode</span> : null}
                      <span className="host-url">{host.url.replace(/^https?:\/\//, '')}</span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
            {hostingStatus?.state === 'running' ? (
              <div className="hosting-box">
                <BroadcastIcon />
                <span className="hosting-box-text">
                  This computer is hosting a room
                  {hostingStatus.lanUrls[0] === undefined
                    ? '.'
                    : ` at ${addressOf(hostingStatus.lanUrls[0])}.`}
                </span>
                <button
                  type="button"
                  className="button small"
                  onClick={() => actions.openDialog('invite-people')}
                >
                  Invite people
                </button>
              </div>
            ) : (
              <button
                type="button"
                className="button wide"
                onClick={() => void hostHere()}
                disabled={hosting}
              >
                {hosting ? 'Starting…' : 'Host a room on this computer'}
              </button>
            )}
            <div className="divider">
              <span>or connect to a server</span>
            </div>
          </section>
        ) : null}

        {invite !== null && sameServer(server.trim(), invite.serverUrl) ? (
          <p className="invite-banner" role="status">
            {inviteHeadline(invite)}
          </p>
        ) : null}

        <form className="form" onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={ids.server}>Server address</label>
            <input
              id={ids.server}
              type="text"
              inputMode="url"
              autoComplete="url"
              spellCheck={false}
              placeholder="http://192.168.1.20:4000"
              value={server}
              onChange={(e) => setServer(e.target.value)}
            />
          </div>

          {mode === 'name' ? (
            <>
              <div className="field">
                <label htmlFor={ids.name}>Display name</label>
                <input
                  id={ids.name}
                  ref={nameRef}
                  type="text"
                  autoComplete="nickname"
                  maxLength={64}
                  placeholder="How colleagues will see you"
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                />
              </div>
              <div className="field">
                <label htmlFor={ids.passcode}>
                  Passcode <span className="optional">optional</span>
                </label>
                <input
                  id={ids.passcode}
                  type="password"
                  autoComplete="off"
                  placeholder="Only if the host set one"
                  value={passcode}
                  onChange={(e) => setPasscode(e.target.value)}
                />
              </div>
              {haveAccount ? (
                <div className="field">
                  <label htmlFor={ids.code}>Recovery code or code from another device</label>
                  <input
                    id={ids.code}
                    type="text"
                    className="code-input"
                    autoComplete="off"
                    autoCapitalize="characters"
                    spellCheck={false}
                    maxLength={64}
                    placeholder="XXXX-XXXX-XXXX-XXXX-XXXX-XXXX or XXXX-XXXX"
                    value={code}
                    onChange={(e) => setCode(e.target.value)}
                  />
                  <p className="muted small">
                    Your recovery code, or a code from Sign-in codes on a device where you are
                    signed in.
                  </p>
                </div>
              ) : null}
            </>
          ) : (
            <div className="field">
              <label htmlFor={ids.token}>Token</label>
              <input
                id={ids.token}
                ref={tokenRef}
                type="password"
                autoComplete="off"
                spellCheck={false}
                placeholder="Paste the token from your company"
                value={token}
                onChange={(e) => setToken(e.target.value)}
              />
            </div>
          )}

          {error === null ? null : (
            <div className="form-error" role="alert">
              {error.text}
            </div>
          )}

          <button type="submit" className="button primary wide" disabled={busy || !canSubmit}>
            {mode === 'name'
              ? busy
                ? haveAccount
                  ? 'Signing in…'
                  : 'Joining…'
                : haveAccount
                  ? 'Sign in'
                  : 'Join'
              : busy
                ? 'Connecting…'
                : 'Connect with token'}
          </button>
        </form>

        <div className="mode-switch">
          {mode === 'name' ? (
            <button
              type="button"
              className="link-button"
              onClick={() => {
                setError(null);
                setHaveAccount(!haveAccount);
              }}
            >
              {haveAccount ? 'I am new here' : 'I already have an account'}
            </button>
          ) : null}
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setError(null);
              setMode(mode === 'name' ? 'token' : 'name');
            }}
          >
            {mode === 'name' ? 'Use a token' : 'Use a display name'}
          </button>
        </div>
      </div>
      <p className="center-foot muted small">
        Messages are stored on the server you connect to, not in the cloud.
      </p>
    </main>
  );
}
