import { describe, expect, it } from 'vitest';
import {
  decideInvite,
  inviteHeadline,
  joinFailureNotice,
  NOT_A_MEMBER_NOTICE,
  readInvite,
  roomStep,
  sameServer,
  switchQuestion,
  toInviteRecord,
  type ValidInvite,
} from './invite-plan.js';
import type { ChatState } from './types.js';

const ROOM = '0123456789abcdef01234567';
const invite = {
  host: '10.0.0.5',
  port: 4000,
  room: ROOM,
  fingerprint: 'AB:'.repeat(31) + 'AB',
  url: 'https://10.0.0.5:4000',
};
const valid: ValidInvite = {
  serverUrl: 'https://10.0.0.5:4000',
  address: '10.0.0.5:4000',
  room: ROOM,
  roomName: null,
};

function chat(id: string): ChatState {
  return {
    id,
    kind: 'room',
    name: 'design',
    visibility: 'public',
    ephemeral_ttl_s: null,
    is_main: false,
    dm_user_ids: [],
    last_seq: 0,
    created_at: '2026-01-01T00:00:00.000Z',
    unread_count: 0,
    read_seq: 0,
    last_message: null,
    present: {},
  } as ChatState;
}

describe('readInvite', () => {
  it('accepts what deep-link.ts produces, building the origin with the URL parser', () => {
    expect(readInvite(invite)).toEqual(valid);
    expect(readInvite({ ...invite, room: null })).toEqual({ ...valid, room: null });
    expect(readInvite({ ...invite, roomName: 'Design & Ops' })).toEqual({
      ...valid,
      roomName: 'Design & Ops',
    });
    expect(
      readInvite({
        host: '[::1]',
        port: 4000,
        room: null,
        fingerprint: null,
        url: 'http://[::1]:4000',
      }),
    ).toEqual({
      serverUrl: 'http://[::1]:4000',
      address: '[::1]:4000',
      room: null,
      roomName: null,
    });
    expect(
      readInvite({ ...invite, host: 'Chat.Example', url: 'https://chat.example:4000' }),
    ).toEqual({
      serverUrl: 'https://chat.example:4000',
      address: 'chat.example:4000',
      room: ROOM,
      roomName: null,
    });
  });

  it('refuses anything that is not an http(s) origin agreeing with host and port', () => {
    const bad: unknown[] = [
      null,
      'https://10.0.0.5:4000',
      [],
      { ...invite, url: 'javascript:alert(1)' },
      { ...invite, url: 'file:///etc/passwd' },
      { ...invite, url: 'https://user:pw@10.0.0.5:4000' },
      { ...invite, url: 'https://10.0.0.5:4000/api/session' },
      { ...invite, url: 'https://10.0.0.5:4000/?x=1' },
      { ...invite, url: 'https://10.0.0.5:4000/#frag' },
      { ...invite, url: 'https://evil.example:4000' },
      { ...invite, url: 'https://10.0.0.5:4001' },
      { ...invite, url: `https://10.0.0.5:4000${'/'.repeat(400)}` },
      { ...invite, url: 'not a url' },
      { ...invite, port: '4000' },
      { ...invite, host: undefined },
    ];
    for (const value of bad) expect(readInvite(value), JSON.stringify(value)).toBeNull();
  });

  it('treats the room id as untrusted: only a chat id passes', () => {
    for (const room of [
      '<img src=x onerror=alert(1)>',
      '../../api/session',
      'a b',
      '',
      'x'.repeat(65),
      'général',
      7,
      undefined,
    ]) {
      expect(readInvite({ ...invite, room }), String(room)).toBeNull();
    }
    // A room name is checked like deep-link.ts checks it, and only labels a room.
    for (const roomName of ['', ' padded', 'n'.repeat(81), 'a\nb', 'a\u202eb', 7]) {
      expect(readInvite({ ...invite, roomName }), JSON.stringify(roomName)).toBeNull();
    }
    expect(readInvite({ ...invite, room: null, roomName: 'design' })).toBeNull();
  });

  it('round-trips through the stored form', () => {
    expect(readInvite(JSON.parse(JSON.stringify(toInviteRecord(valid))))).toEqual(valid);
    const named = { ...valid, roomName: 'design' };
    expect(readInvite(JSON.parse(JSON.stringify(toInviteRecord(named))))).toEqual(named);
    const plain = {
      serverUrl: 'http://chat.example',
      address: 'chat.example',
      room: null,
      roomName: null,
    };
    expect(toInviteRecord(plain)).toEqual({
      url: 'http://chat.example',
      host: 'chat.example',
      port: 80,
      room: null,
      roomName: null,
    });
    expect(readInvite(toInviteRecord(plain))).toEqual(plain);
  });
});

describe('sameServer', () => {
  it('compares scheme, host and port', () => {
    expect(sameServer('https://10.0.0.5:4000', 'https://10.0.0.5:4000/')).toBe(true);
    expect(sameServer('https://HOST.example:4000', 'https://host.example:4000')).toBe(true);
    expect(sameServer('https://10.0.0.5:4000', 'http://10.0.0.5:4000')).toBe(false);
    expect(sameServer('https://10.0.0.5:4000', 'https://10.0.0.5:4001')).toBe(false);
    expect(sameServer('https://10.0.0.5:4000', 'garbage')).toBe(false);
  });
});

describe('decideInvite', () => {
  it('prefills the connect screen when signed out', () => {
    expect(decideInvite(valid, { status: 'signed-out', serverUrl: null })).toEqual({
      kind: 'sign-in',
    });
    // signedOut keeps the last server address; still signed out.
    expect(
      decideInvite(valid, { status: 'signed-out', serverUrl: 'https://10.0.0.9:4000' }),
    ).toEqual({ kind: 'sign-in' });
  });

  it('opens the room when signed in to the same server, whatever the connection state', () => {
    for (const status of ['connecting', 'online', 'offline', 'error'] as const) {
      expect(decideInvite(valid, { status, serverUrl: 'https://10.0.0.5:4000' })).toEqual({
        kind: 'open-room',
      });
    }
  });

  it('asks before switching when signed in elsewhere', () => {
    expect(decideInvite(valid, { status: 'online', serverUrl: 'https://10.0.0.6:4000' })).toEqual({
      kind: 'confirm-switch',
      current: '10.0.0.6:4000',
    });
    // The same host over plain http is another server.
    expect(decideInvite(valid, { status: 'online', serverUrl: 'http://10.0.0.5:4000' })).toEqual({
      kind: 'confirm-switch',
      current: '10.0.0.5:4000',
    });
  });
});

describe('roomStep', () => {
  const here = 'https://10.0.0.5:4000';

  it('waits for the sign-in', () => {
    expect(roomStep(valid, { status: 'signed-out', serverUrl: null, chats: {} })).toEqual({
      kind: 'wait',
    });
  });

  it('opens a chat I am in at once, even offline', () => {
    for (const status of ['connecting', 'online', 'offline'] as const) {
      expect(roomStep(valid, { status, serverUrl: here, chats: { [ROOM]: chat(ROOM) } })).toEqual({
        kind: 'open',
        chatId: ROOM,
      });
    }
  });

  it('joins a room I am not in once connected, and waits until then', () => {
    expect(roomStep(valid, { status: 'online', serverUrl: here, chats: {} })).toEqual({
      kind: 'join',
      chatId: ROOM,
    });
    expect(roomStep(valid, { status: 'connecting', serverUrl: here, chats: {} })).toEqual({
      kind: 'wait',
    });
    expect(roomStep(valid, { status: 'offline', serverUrl: here, chats: {} })).toEqual({
      kind: 'wait',
    });
  });

  it('drops an invite without a room, or once signed in to another server', () => {
    expect(
      roomStep({ ...valid, room: null }, { status: 'online', serverUrl: here, chats: {} }),
    ).toEqual({ kind: 'drop' });
    expect(
      roomStep(valid, { status: 'online', serverUrl: 'https://10.0.0.6:4000', chats: {} }),
    ).toEqual({ kind: 'drop' });
  });
});

describe('texts', () => {
  it('says who invited where, and asks before switching', () => {
    expect(inviteHeadline(valid)).toBe(`You were invited to ${ROOM} on 10.0.0.5:4000`);
    expect(inviteHeadline({ ...valid, room: null })).toBe('You were invited to 10.0.0.5:4000');
    expect(inviteHeadline({ ...valid, roomName: 'design' })).toBe(
      'You were invited to #design on 10.0.0.5:4000',
    );
    expect(switchQuestion(valid, '10.0.0.6:4000')).toBe(
      'Switch to 10.0.0.5:4000? You will sign out of 10.0.0.6:4000.',
    );
  });

  it('explains a refused join', () => {
    expect(joinFailureNotice('not_member', '10.0.0.5:4000')).toBe(NOT_A_MEMBER_NOTICE);
    expect(NOT_A_MEMBER_NOTICE).toBe('You are not a member of this room; ask a member to add you.');
    expect(joinFailureNotice('not_found', '10.0.0.5:4000')).toContain(
      'does not exist on 10.0.0.5:4000',
    );
    expect(joinFailureNotice('rate_limited', '10.0.0.5:4000')).toContain('(rate_limited)');
  });
});
