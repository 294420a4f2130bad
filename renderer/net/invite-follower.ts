/**
 * Follows `parley://` invites in the desktop app, like a Slack or Discord invite link: the one
 * the app was opened with (`app.takePendingInvite`) and each one that arrives while it runs
 * (`app.onInvite`). The rules are in renderer/state/invite-plan.ts; this module applies them to
 * the store and the client: prefill the connect screen, open or join the room once signed in to
 * its server, or ask before switching servers.
 *
 * An accepted invite is also kept in the page's session storage (not the offline cache): the
 * first sign-in to a new relay reloads the window to widen its Content-Security-Policy, and the
 * invite, with the sign-in the user started, must survive that reload, but not an app restart.
 */
import type { Invite, ParleyDesktopBridge } from '../../electron/shared/bridge.js';
import {
  decideInvite,
  joinFailureNotice,
  readInvite,
  roomStep,
  sameServer,
  toInviteRecord,
  type ValidInvite,
} from '../state/invite-plan.js';
import type { ParleyStore, PendingInvite } from '../state/store.js';
import type { ApiResult } from './api-client.js';
import type { KeyValueStorage } from './storage.js';

/** Session-storage key of the invite being followed. */
export const INVITE_KEY = 'parley.invite';
/** Session-storage key of a sign-in interrupted by the reload (`{server, name}`). */
export const CONTINUE_KEY = 'parley.invite.continue';

export interface InviteFollowerDeps {
  app: Pick<ParleyDesktopBridge['app'], 'takePendingInvite' | 'onInvite'>;
  store: ParleyStore;
  client: {
    openChat(chatId: string | null): void;
    joinRoom(chatId: string): Promise<ApiResult<string>>;
    signOut(): void;
  };
  /** Storage that survives a reload of the page but not a restart (sessionStorage). */
  pageStorage: KeyValueStorage;
  onError?: (message: string, error?: unknown) => void;
}

/** A sign-in to the invite's server that a reload interrupted. */
export interface InterruptedSignIn {
  server: string;
  name: string;
}

/** What the UI calls (renderer/ui/InviteSwitchDialog.tsx, ConnectScreen.tsx, InviteNotice.tsx). */
export interface InviteControl {
  /** "Switch": signs out of the current server; the connect screen then shows the invite. */
  confirmSwitch(): void;
  /** "Cancel": forgets the invite; nothing else changes. */
  cancelSwitch(): void;
  dismissNotice(): void;
  /** The connect screen is about to reload for a sign-in to the invite's server. */
  rememberSignIn(signIn: InterruptedSignIn): void;
  /** The interrupted sign-in, taken once (null when none, or for another invite). */
  takeSignIn(): InterruptedSignIn | null;
  forgetSignIn(): void;
  stop(): void;
}

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function followInvites(deps: InviteFollowerDeps): InviteControl {
  const { store, client, pageStorage } = deps;
  const onError = deps.onError ?? (() => undefined);
  const actions = () => store.getState().actions;
  /** The chat being joined over HTTP, so a store change during the request does not join twice. */
  let joining: string | null = null;
  let live = true;
  let stepping = false;
  let again = false;

  function keep(pending: PendingInvite | null): void {
    if (pending === null || pending.stage === 'confirm-switch') pageStorage.remove(INVITE_KEY);
    else pageStorage.set(INVITE_KEY, JSON.stringify(toInviteRecord(pending.invite)));
    actions().setInvite(pending);
  }

  function accept(invite: ValidInvite): void {
    const state = store.getState();
    const decision = decideInvite(invite, state);
    if (decision.kind === 'confirm-switch') {
      keep({ stage: 'confirm-switch', invite, current: decision.current });
    } else {
      keep({ stage: decision.kind, invite });
    }
    step();
  }

  function receive(raw: Invite | null): void {
    if (!live || raw === null) return;
    const invite = readInvite(raw);
    if (invite === null) {
      onError('ignored an invite that is not a valid relay address and room');
      return;
    }
    actions().setInviteNotice(null);
    accept(invite);
  }

  function join(invite: ValidInvite, chatId: string): void {
    joining = chatId;
    const done = (result: ApiResult<string>): void => {
      joining = null;
      const pending = store.getState().invite;
      if (!live || pending?.invite !== invite) return;
      keep(null);
      if (!result.ok) actions().setInviteNotice(joinFailureNotice(result.code, invite.address));
    };
    client.joinRoom(chatId).then(done, (error: unknown) => {
      onError('joining the invited room failed', error);
      done({ ok: false, code: 'failed', message: String(error), status: 0 });
    });
  }

  /** Moves the pending invite on as far as the state allows; called on every store change. */
  function step(): void {
    if (stepping) {
      again = true;
      return;
    }
    stepping = true;
    try {
      do {
        again = false;
        advance();
      } while (again && live);
    } finally {
      stepping = false;
    }
  }

  function advance(): void {
    const state = store.getState();
    const pending = state.invite;
    if (pending === null || pending.stage === 'confirm-switch') return;
    const { invite } = pending;
    if (pending.stage === 'sign-in') {
      if (state.status === 'signed-out' || state.serverUrl === null) return;
      if (!sameServer(invite.serverUrl, state.serverUrl)) {
        // The user signed in somewhere else instead: the invite no longer applies.
        keep(null);
        return;
      }
      keep({ stage: 'open-room', invite });
      return;
    }
    if (state.status === 'signed-out') {
      // Signed out before the room opened (say from the error screen): show it on the connect
      // screen again.
      keep({ stage: 'sign-in', invite });
      return;
    }
    const next = roomStep(invite, state);
    switch (next.kind) {
      case 'wait':
        return;
      case 'drop':
        keep(null);
        return;
      case 'open':
        keep(null);
        client.openChat(next.chatId);
        return;
      case 'join':
        if (joining === null) join(invite, next.chatId);
        return;
    }
  }

  const unsubscribeStore = store.subscribe(() => {
    if (live) step();
  });
  const unsubscribeInvites = deps.app.onInvite(receive);

  // An invite this page was following before a reload comes first; one the app was opened with
  // (or received before the window was ready) supersedes it.
  const kept = readInvite(parseJson(pageStorage.get(INVITE_KEY)));
  if (kept !== null) accept(kept);
  else pageStorage.remove(INVITE_KEY);
  deps.app.takePendingInvite().then(receive, (error: unknown) => {
    onError('reading the invite the app was opened with failed', error);
  });

  return {
    confirmSwitch() {
      const pending = store.getState().invite;
      if (pending?.stage !== 'confirm-switch') return;
      client.signOut();
      keep({ stage: 'sign-in', invite: pending.invite });
    },
    cancelSwitch() {
      if (store.getState().invite?.stage === 'confirm-switch') keep(null);
    },
    dismissNotice() {
      actions().setInviteNotice(null);
    },
    rememberSignIn(signIn) {
      pageStorage.set(CONTINUE_KEY, JSON.stringify(signIn));
    },
    takeSignIn() {
      const raw = parseJson(pageStorage.get(CONTINUE_KEY));
      pageStorage.remove(CONTINUE_KEY);
      const pending = store.getState().invite;
      if (pending?.stage !== 'sign-in' || typeof raw !== 'object' || raw === null) return null;
      const { server, name } = raw as Record<string, unknown>;
      if (typeof server !== 'string' || typeof name !== 'string') return null;
      if (!sameServer(server, pending.invite.serverUrl) || name.trim() === '') return null;
      return { server, name };
    },
    forgetSignIn() {
      pageStorage.remove(CONTINUE_KEY);
    },
    stop() {
      live = false;
      unsubscribeStore();
      unsubscribeInvites();
    },
  };
}
