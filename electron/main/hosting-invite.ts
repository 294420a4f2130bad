/**
 * The invite the host hands out ("Copy invite link" in the hosting panel): the running room's
 * LAN address, port and certificate fingerprint as a `parley://` link (deep-link.ts writes and
 * reads the format), so a colleague's app pins the right certificate from the first connection.
 * Built here from the hosting status, never from what the page says the address is: the page
 * only picks one of the status's own LAN URLs.
 */
import type { HostingInvite, HostingInviteInput, HostingStatus } from '../shared/bridge.js';
import { fail, ok, type Result } from '../shared/result.js';
import { isInviteRoomName } from '../../relay/protocol/room-name.js';
import { buildInviteLink } from './deep-link.js';

/** The invite for `status` (a running room), or why there is none, as a value. */
export function hostingInvite(
  status: HostingStatus,
  input: HostingInviteInput,
): Result<HostingInvite> {
  if (status.state !== 'running' || status.port === null) {
    return fail('not_hosting', 'this computer is not hosting a room');
  }
  if (status.lanUrls.length === 0) {
    return fail(
      'no_lan_address',
      'this computer has no network address colleagues can reach (is it connected to the network?)',
    );
  }
  const wanted = input.lanUrl ?? null;
  const url = wanted === null ? status.lanUrls[0] : status.lanUrls.find((u) => u === wanted);
  if (url === undefined) {
    return fail('unknown_address', 'that address is not one this room is reachable at');
  }
  const { hostname, port } = new URL(url);
  const roomName = input.roomName ?? null;
  const link = buildInviteLink({
    host: hostname,
    port: Number(port),
    room: input.room ?? null,
    // Only a label: a name the link format cannot carry is left out (the invited colleague then
    // reads the room id), rather than refusing the invite.
    roomName: roomName !== null && isInviteRoomName(roomName) ? roomName : null,
    fingerprint: status.tlsFingerprint,
  });
  return ok({ link, url, fingerprint: status.tlsFingerprint });
}
