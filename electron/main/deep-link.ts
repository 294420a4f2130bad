/**
 * `parley://` invites. Canonical form (what `buildInviteLink` writes):
 *
 *     parley://join?host=10.0.0.5&port=4000&room=6f3a…&name=design&fingerprint=AB12...
 *
 * Also accepted: `parley://join/10.0.0.5:4000/general`. `room`, `name` (the room's name, a label
 * for the invited person; only with `room`) and `fingerprint` are optional; the port defaults to
 * 4000. Everything is validated; a bad link is a value, never a throw.
 * The fingerprint (SHA-256 of the host's certificate, with or without colons) comes out in the
 * one canonical form `AB:12:…` (relay/node/tls-fingerprint.ts); with it the relay URL is https://, and
 * cert-pins.ts refuses any other certificate for that relay.
 */
import { normalizeFingerprint } from '../../relay/index.js';
import { isInviteRoomName } from '../../relay/protocol/room-name.js';
import type { Invite } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';

export const DEEP_LINK_SCHEME = 'parley';
export const DEFAULT_RELAY_PORT = 4000;
const MAX_LINK_CHARS = 2_048;

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
const ROOM = /^[A-Za-z0-9_-]{1,64}$/;
const FINGERPRINT = /^(?:[0-9a-f]{2}:?){31}[0-9a-f]{2}$/i;

function validHost(host: string): boolean {
  return IPV4.test(host) || IPV6.test(host) || (HOST_NAME.test(host) && !/^[\d.]+$/.test(host));
}

export function parseDeepLink(link: string): Result<Invite> {
  if (link.length > MAX_LINK_CHARS) return fail('invalid_link', 'the link is too long');
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return fail('invalid_link', 'not a URL');
  }
  if (url.protocol !== `${DEEP_LINK_SCHEME}:`) return fail('invalid_link', 'not a parley:// link');
  if (url.host !== 'join') return fail('invalid_link', `unknown action "${url.host}"`);

  let host = url.searchParams.get('host');
  let portText = url.searchParams.get('port');
  let room = url.searchParams.get('room');
  const path = url.pathname.split('/').filter((part) => part !== '');
  if (host === null && path.length > 0) {
    const authority = decodeURIComponent(path[0] ?? '');
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(authority);
    if (match === null) return fail('invalid_link', 'bad host');
    host = match[1] ?? null;
    portText = match[2] ?? portText;
    room = path[1] === undefined ? room : decodeURIComponent(path[1]);
    if (path.length > 2) return fail('invalid_link', 'unexpected path');
  }
  if (host === null || !validHost(host)) return fail('invalid_link', 'missing or bad host');
  const port = portText === null ? DEFAULT_RELAY_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65_535 || !/^\d+$/.test(portText ?? '4000')) {
    return fail('invalid_link', 'port must be 1 to 65535');
  }
  if (room !== null && !ROOM.test(room)) return fail('invalid_link', 'bad room id');
  const roomName = url.searchParams.get('name');
  if (roomName !== null && (room === null || !isInviteRoomName(roomName))) {
    return fail('invalid_link', 'bad room name');
  }
  const fingerprintText = url.searchParams.get('fingerprint');
  const fingerprint = fingerprintText === null ? null : normalizeFingerprint(fingerprintText);
  if (fingerprintText !== null && (!FINGERPRINT.test(fingerprintText) || fingerprint === null)) {
    return fail('invalid_link', 'fingerprint must be a SHA-256 in hex');
  }
  return ok({
    host,
    port,
    room,
    roomName,
    fingerprint,
    url: `${fingerprint === null ? 'http' : 'https'}://${host}:${port}`,
  });
}

export function buildInviteLink(invite: Omit<Invite, 'url'>): string {
  const params = new URLSearchParams({ host: invite.host, port: String(invite.port) });
  if (invite.room !== null) {
    params.set('room', invite.room);
    if (invite.roomName !== null) params.set('name', invite.roomName);
  }
  if (invite.fingerprint !== null) params.set('fingerprint', invite.fingerprint);
  return `${DEEP_LINK_SCHEME}://join?${params.toString()}`;
}

/** The first `parley://` argument of a command line (Windows and Linux pass links as arguments). */
export function findDeepLink(argv: readonly string[]): string | null {
  return argv.find((arg) => arg.toLowerCase().startsWith(`${DEEP_LINK_SCHEME}://`)) ?? null;
}
