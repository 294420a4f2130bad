/**
 * The invite follower against the real store, with the desktop bridge's `app` part and the
 * client's three calls recorded (the relay side is covered by e2e/invite.spec.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Invite } from '../../electron/shared/bridge.js';
import type { ChatSummary } from '../../relay/protocol/events.js';
import { NOT_A_MEMBER_NOTICE } from '../state/invite-plan.js';
import { createParleyStore, type ParleyStore } from '../state/store.js';
import type { ApiResult } from './api-client.js';
import { CONTINUE_KEY, followInvites, INVITE_KEY, type InviteControl } from './invite-follower.js';
import { MemoryStorage } from './storage.js';

const ROOM = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const OTHER_ROOM = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const HERE = 'https://10.0.0.5:4000';
const ELSEWHERE = 'https://10.0.0.6:4000';

function invite(over: Partial<Invite> = {}): Invite {
  return {
    host: '10.0.0.5',
    port: 4000,
    room: ROOM,
    roomName: 'design',
    fingerprint: null,
    url: HERE,
    ...over,
  };
}

function summary(id: string): ChatSummary {
  return {
    id,
    kind: 'room',
    name: id === ROOM ? 'design' : 'general',
    visibility: 'public',
    ephemeral_ttl_s: null,
    is_main: id !== ROOM,
    dm_user_ids: [],
    last_seq: 0,
    created_at: '2026-01-01T00:00:00.000Z',
    unread_count: 0,
    read_seq: 0,
    last_message: null,
  } as ChatSummary;
}

interface Harness {
  store: ParleyStore;
  control: InviteControl;
  deliver(invite: unknown): void;
  opened: (string | null)[];
  joins: string[];
  signOuts: number;
  errors: string[];
  pageStorage: MemoryStorage;
  /** Lets the pending takePendingInvite answer and its consequences run. */
  settle(): Promise<void>;
}

function start(
  options: {
    pending?: Invite | null;
    pageStorage?: MemoryStorage;
    store?: ParleyStore;
    join?: (chatId: string) => ApiResult<string>;
  } = {},
): Harness {
  const store = options.store ?? createParleyStore();
  const pageStorage = options.pageStorage ?? new MemoryStorage();
  let listener: ((invite: Invite) => void) | null = null;
  const h: Harness = {
    control: null as unknown as InviteControl,
    store,
    deliver: (value) => listener?.(value as Invite),
    opened: [],
    joins: [],
    signOuts: 0,
    errors: [],
    pageStorage,
    settle: async () => {
      for (let i = 0; i < 5; i += 1) await Promise.resolve();
    },
  };
  h.control = followInvites({
    app: {
      takePendingInvite: () => Promise.resolve(options.pending ?? null),
      onInvite: (l) => {
        listener = l;
        return () => {
          listener = null;
        };
      },
    },
    store,
    client: {
      openChat: (chatId) => {
        h.opened.push(chatId);
        store.getState().actions.openChat(chatId);
      },
      joinRoom: (chatId) => {
        h.joins.push(chatId);
        return Promise.resolve(
          options.join?.(chatId) ?? { ok: false, code: 'not_member', message: '', status: 403 },
        );
      },
      signOut: () => {
        h.signOuts += 1;
        store.getState().actions.signedOut();
      },
    },
    pageStorage,
    onError: (message) => h.errors.push(message),
  });
  return h;
}

function signIn(store: ParleyStore, serverUrl: string): void {
  store.getState().actions.signedIn({ serverUrl, me: { id: 'u-ben', name: 'Ben' } });
}

describe('followInvites', () => {
  it('signed out: prefills, then opens the room once signed in to its server', async () => {
    const h = start({ pending: invite() });
    await h.settle();
    expect(h.store.getState().invite).toEqual({
      stage: 'sign-in',
      invite: { serverUrl: HERE, address: '10.0.0.5:4000', room: ROOM, roomName: 'design' },
    });
    expect(h.pageStorage.get(INVITE_KEY)).not.toBeNull();

    signIn(h.store, HERE);
    expect(h.store.getState().invite?.stage).toBe('open-room');
    // The directory arrives: the room is one of my chats (the main room comes along too).
    h.store.getState().actions.upsertChat(summary('general-id-000000000000'));
    expect(h.opened).toEqual([]);
    h.store.getState().actions.upsertChat(summary(ROOM));
    expect(h.opened).toEqual([ROOM]);
    expect(h.store.getState().activeChatId).toBe(ROOM);
    expect(h.store.getState().invite).toBeNull();
    expect(h.pageStorage.get(INVITE_KEY)).toBeNull();
    expect(h.joins).toEqual([]);
  });

  it('signed in to the same server: joins a room I am not in, once online', async () => {
    const h = start({ join: (chatId) => ({ ok: true, data: chatId }) });
    signIn(h.store, HERE);
    h.deliver(invite());
    expect(h.joins).toEqual([]);
    h.store.getState().actions.setStatus('online');
    expect(h.joins).toEqual([ROOM]);
    // Store changes while the request runs do not join twice.
    h.store.getState().actions.setStatus('online');
    h.store.getState().actions.setOutboxCount(1);
    expect(h.joins).toEqual([ROOM]);
    await h.settle();
    expect(h.store.getState().invite).toBeNull();
    expect(h.store.getState().inviteNotice).toBeNull();
  });

  it('a private room I am not in: a clear notice, nothing else changes', async () => {
    const h = start();
    signIn(h.store, HERE);
    h.store.getState().actions.setStatus('online');
    h.store.getState().actions.upsertChat(summary(OTHER_ROOM));
    h.store.getState().actions.openChat(OTHER_ROOM);
    h.deliver(invite());
    await h.settle();
    expect(h.joins).toEqual([ROOM]);
    expect(h.store.getState().inviteNotice).toBe(NOT_A_MEMBER_NOTICE);
    expect(h.store.getState().activeChatId).toBe(OTHER_ROOM);
    h.control.dismissNotice();
    expect(h.store.getState().inviteNotice).toBeNull();
  });

  it('signed in elsewhere: asks; Cancel changes nothing', async () => {
    const h = start();
    signIn(h.store, ELSEWHERE);
    h.store.getState().actions.setStatus('online');
    const before = h.store.getState();
    h.deliver(invite());
    expect(h.store.getState().invite).toEqual({
      stage: 'confirm-switch',
      invite: { serverUrl: HERE, address: '10.0.0.5:4000', room: ROOM, roomName: 'design' },
      current: '10.0.0.6:4000',
    });
    expect(h.pageStorage.get(INVITE_KEY)).toBeNull();
    h.control.cancelSwitch();
    const after = h.store.getState();
    expect(after.invite).toBeNull();
    expect(h.signOuts).toBe(0);
    expect(after.status).toBe('online');
    expect(after.serverUrl).toBe(ELSEWHERE);
    expect(after.me).toBe(before.me);
    await h.settle();
    expect(h.joins).toEqual([]);
  });

  it('signed in elsewhere: Switch signs out and shows the invite on the connect screen', () => {
    const h = start();
    signIn(h.store, ELSEWHERE);
    h.deliver(invite());
    h.control.confirmSwitch();
    expect(h.signOuts).toBe(1);
    expect(h.store.getState().status).toBe('signed-out');
    expect(h.store.getState().invite?.stage).toBe('sign-in');
    expect(h.pageStorage.get(INVITE_KEY)).not.toBeNull();
  });

  it('waiting for a room when the session ends: back on the connect screen', () => {
    const h = start();
    signIn(h.store, HERE);
    h.store.getState().actions.setStatus('error', { code: 'unauthorized', message: 'refused' });
    h.deliver(invite());
    expect(h.store.getState().invite?.stage).toBe('open-room');
    h.store.getState().actions.signedOut();
    expect(h.store.getState().invite?.stage).toBe('sign-in');
    signIn(h.store, HERE);
    h.store.getState().actions.upsertChat(summary(ROOM));
    expect(h.opened).toEqual([ROOM]);
  });

  it('drops the invite when the user signs in to another server instead', () => {
    const h = start();
    h.deliver(invite());
    signIn(h.store, ELSEWHERE);
    expect(h.store.getState().invite).toBeNull();
    expect(h.pageStorage.get(INVITE_KEY)).toBeNull();
  });

  it('ignores invalid invites, and the newest invite wins', () => {
    const h = start();
    h.deliver(invite({ room: '<b>x</b>' }));
    h.deliver(invite({ url: 'javascript:alert(1)' }));
    h.deliver({ nonsense: true });
    expect(h.store.getState().invite).toBeNull();
    expect(h.errors).toHaveLength(3);
    h.deliver(invite());
    h.deliver(invite({ room: OTHER_ROOM }));
    expect(h.store.getState().invite?.invite.room).toBe(OTHER_ROOM);
  });

  it('survives the reload of the page, with the sign-in the user started', async () => {
    const pageStorage = new MemoryStorage();
    const first = start({ pending: invite(), pageStorage });
    await first.settle();
    first.control.rememberSignIn({ server: HERE, name: 'Ben' });
    first.control.stop();

    // The reloaded page: a new store, the same session storage; the app has no invite left.
    const again = start({ pageStorage });
    await again.settle();
    expect(again.store.getState().invite?.stage).toBe('sign-in');
    expect(again.control.takeSignIn()).toEqual({ server: HERE, name: 'Ben' });
    expect(again.control.takeSignIn()).toBeNull();
    expect(pageStorage.get(CONTINUE_KEY)).toBeNull();

    // A remembered sign-in for another server, or a corrupt one, is not continued.
    again.control.rememberSignIn({ server: ELSEWHERE, name: 'Ben' });
    expect(again.control.takeSignIn()).toBeNull();
    pageStorage.set(CONTINUE_KEY, '{not json');
    expect(again.control.takeSignIn()).toBeNull();
    pageStorage.set(INVITE_KEY, JSON.stringify({ url: 'javascript:1', host: 'x', port: 1 }));
    const third = start({ pageStorage });
    expect(third.store.getState().invite).toBeNull();
    expect(pageStorage.get(INVITE_KEY)).toBeNull();
  });
});
