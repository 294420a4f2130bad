/**
 * What to do with a `parley://` invite, decided from the session alone (no DOM, no network), so
 * the rules are unit-tested: signed out → prefill the connect screen; signed in to the invite's
 * server → open (or join) its room; signed in elsewhere → ask before switching. The invite comes
 * from the desktop bridge (parsed by electron/main/deep-link.ts) or from this page's session
 * storage: both are treated as untrusted and checked again here.
 */
import { isInviteRoomName } from '../../relay/protocol/room-name.js';
import type { ChatState, ConnectionStatus } from './types.js';

/** An invite the renderer accepted: a relay origin and, perhaps, a room id. */
export interface ValidInvite {
  /** The relay's origin, `https://10.0.0.5:4000`, built by the URL parser (never by hand). */
  serverUrl: string;
  /** `10.0.0.5:4000`: how the invite names the server to people. */
  address: string;
  /** Room id (`[A-Za-z0-9_-]{1,64}`), or null when the invite names none. */
  room: string | null;
  /** The room's name as the invite wrote it (a label, never used for access), or null. */
  roomName: string | null;
}

/** The chat id rule of relay/PROTOCOL.md ("Chat topics"). */
const ROOM_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_URL_CHARS = 300;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks an invite (the bridge's `Invite`, or the same object read back from storage). Only an
 * http(s) origin without credentials, path, query or fragment is accepted, and it must agree
 * with the invite's `host` and `port`; a room must be a valid chat id. Anything else: null.
 */
export function readInvite(raw: unknown): ValidInvite | null {
  if (!isRecord(raw)) return null;
  const { url, host, port, room, roomName } = raw;
  if (typeof url !== 'string' || url.length > MAX_URL_CHARS) return null;
  if (typeof host !== 'string' || typeof port !== 'number') return null;
  if (room !== null && (typeof room !== 'string' || !ROOM_ID.test(room))) return null;
  // A room's name labels the room, so it needs one; it may be missing (an invite kept by an
  // older version of the app).
  const name = roomName ?? null;
  if (name !== null && (typeof name !== 'string' || room === null || !isInviteRoomName(name)))
    return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  if (parsed.username !== '' || parsed.password !== '') return null;
  if (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '') return null;
  const effectivePort = Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80));
  if (parsed.hostname.toLowerCase() !== host.toLowerCase() || effectivePort !== port) return null;
  return { serverUrl: parsed.origin, address: parsed.host, room, roomName: name };
}

/** The bridge's invite shape again, for keeping an accepted invite (read back with readInvite). */
export function toInviteRecord(invite: ValidInvite): {
  url: string;
  host: string;
  port: number;
  room: string | null;
  roomName: string | null;
} {
  const url = new URL(invite.serverUrl);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return {
    url: url.origin,
    host: url.hostname,
    port,
    room: invite.room,
    roomName: invite.roomName,
  };
}

/** True when both name the same relay origin (scheme, host and port). */
export function sameServer(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** The address of a server URL as people say it (`10.0.0.5:4000`); the text itself if unparsable. */
export function addressOfServer(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export interface SessionView {
  status: ConnectionStatus;
  serverUrl: string | null;
}

export type InviteDecision =
  /** Not signed in: prefill the connect screen with the invite. */
  | { kind: 'sign-in' }
  /** Signed in to the invite's server: open its room (nothing more when it names none). */
  | { kind: 'open-room' }
  /** Signed in to another server: ask first; `current` is that server's address. */
  | { kind: 'confirm-switch'; current: string };

/**
 * What to do with an invite now. A session the server refused (`error`) counts as signed in to
 * its server: the error screen stays until the user signs in again, and the invite waits.
 */
export function decideInvite(invite: ValidInvite, session: SessionView): InviteDecision {
  if (session.status === 'signed-out' || session.serverUrl === null) return { kind: 'sign-in' };
  if (sameServer(invite.serverUrl, session.serverUrl)) return { kind: 'open-room' };
  return { kind: 'confirm-switch', current: addressOfServer(session.serverUrl) };
}

export type RoomStep =
  /** Nothing to open (no room in the invite, or a different server now): drop the invite. */
  | { kind: 'drop' }
  /** Not yet: wait for the sign-in, or for the connection before asking the relay. */
  | { kind: 'wait' }
  /** The room is one of my chats: open it. */
  | { kind: 'open'; chatId: string }
  /** Not one of my chats: ask the relay to join it (public rooms only; it says otherwise). */
  | { kind: 'join'; chatId: string };

export interface RoomView extends SessionView {
  chats: Readonly<Record<string, ChatState>>;
}

/** The next step towards the invite's room, once an invite is accepted for this server. */
export function roomStep(invite: ValidInvite, state: RoomView): RoomStep {
  if (state.status === 'signed-out' || state.serverUrl === null) return { kind: 'wait' };
  if (!sameServer(invite.serverUrl, state.serverUrl) || invite.room === null) {
    return { kind: 'drop' };
  }
  if (state.chats[invite.room] !== undefined) return { kind: 'open', chatId: invite.room };
  return state.status === 'online' ? { kind: 'join', chatId: invite.room } : { kind: 'wait' };
}

export const NOT_A_MEMBER_NOTICE = 'You are not a member of this room; ask a member to add you.';

/** The notice shown when joining the invited room failed; `address` names the server. */
export function joinFailureNotice(code: string, address: string): string {
  switch (code) {
    case 'not_member':
      return NOT_A_MEMBER_NOTICE;
    case 'not_found':
      return `The room you were invited to does not exist on ${address}.`;
    case 'unreachable':
      return `Can't reach ${address} to open the room you were invited to. Try the invite again once connected.`;
    default:
      return `The room you were invited to could not be opened (${code}).`;
  }
}

/**
 * "You were invited to #design on 10.0.0.5:4000": the room's name as the invite writes it (the
 * room id when the invite carries no name; invites from Parley's own hosting panel do).
 */
export function inviteHeadline(invite: ValidInvite): string {
  if (invite.room === null) return `You were invited to ${invite.address}`;
  const room = invite.roomName === null ? invite.room : `#${invite.roomName}`;
  return `You were invited to ${room} on ${invite.address}`;
}

/** The switch question: "Switch to 10.0.0.6:4000? You will sign out of 10.0.0.5:4000." */
export function switchQuestion(invite: ValidInvite, current: string): string {
  return `Switch to ${invite.address}? You will sign out of ${current}.`;
}
