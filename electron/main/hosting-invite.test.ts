import { describe, expect, it } from 'vitest';
import type { HostingStatus } from '../shared/bridge.js';
import { parseDeepLink } from './deep-link.js';
import { hostingInvite } from './hosting-invite.js';

const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(
  ':',
);

function running(overrides: Partial<HostingStatus> = {}): HostingStatus {
  return {
    state: 'running',
    url: 'https://127.0.0.1:4000',
    lanUrls: ['https://192.168.1.20:4000', 'https://10.0.0.5:4000'],
    port: 4000,
    displayName: 'Ana',
    relayId: '0123456789abcdef0123456789abcdef',
    passcodeRequired: false,
    advertised: true,
    tlsFingerprint: FP,
    error: null,
    ...overrides,
  };
}

describe('hostingInvite', () => {
  it('names the first LAN address, the port and the fingerprint, and parses back', () => {
    const invite = hostingInvite(running(), {});
    if (!invite.ok) throw new Error(invite.message);
    expect(invite.value).toEqual({
      link: `parley://join?host=192.168.1.20&port=4000&fingerprint=${encodeURIComponent(FP)}`,
      url: 'https://192.168.1.20:4000',
      fingerprint: FP,
    });
    expect(parseDeepLink(invite.value.link)).toEqual({
      ok: true,
      value: {
        host: '192.168.1.20',
        port: 4000,
        room: null,
        roomName: null,
        fingerprint: FP,
        url: 'https://192.168.1.20:4000',
      },
    });
  });

  it('uses the chosen LAN address and room', () => {
    const invite = hostingInvite(running(), { lanUrl: 'https://10.0.0.5:4000', room: 'general' });
    if (!invite.ok) throw new Error(invite.message);
    expect(parseDeepLink(invite.value.link)).toMatchObject({
      ok: true,
      value: { host: '10.0.0.5', port: 4000, room: 'general', fingerprint: FP },
    });
    expect(invite.value.url).toBe('https://10.0.0.5:4000');
  });

  it("carries the room's name as a label, and leaves out one a link cannot carry", () => {
    const named = hostingInvite(running(), { room: 'r1', roomName: 'design' });
    if (!named.ok) throw new Error(named.message);
    expect(parseDeepLink(named.value.link)).toMatchObject({
      ok: true,
      value: { room: 'r1', roomName: 'design' },
    });
    const odd = hostingInvite(running(), { room: 'r1', roomName: 'line\nbreak' });
    if (!odd.ok) throw new Error(odd.message);
    expect(parseDeepLink(odd.value.link)).toMatchObject({
      ok: true,
      value: { room: 'r1', roomName: null },
    });
  });

  it('refuses an address the room is not reachable at (the page cannot point invites elsewhere)', () => {
    expect(hostingInvite(running(), { lanUrl: 'https://203.0.113.9:4000' })).toMatchObject({
      ok: false,
      code: 'unknown_address',
    });
    // The loopback URL is this computer's own way in, useless to colleagues.
    expect(hostingInvite(running(), { lanUrl: 'https://127.0.0.1:4000' })).toMatchObject({
      ok: false,
      code: 'unknown_address',
    });
  });

  it('has no fingerprint for a room served over plain http', () => {
    const invite = hostingInvite(
      running({ tlsFingerprint: null, lanUrls: ['http://192.168.1.20:4000'] }),
      {},
    );
    if (!invite.ok) throw new Error(invite.message);
    expect(invite.value.link).toBe('parley://join?host=192.168.1.20&port=4000');
    expect(invite.value.fingerprint).toBeNull();
    expect(parseDeepLink(invite.value.link)).toMatchObject({
      ok: true,
      value: { url: 'http://192.168.1.20:4000', fingerprint: null },
    });
  });

  it('refuses when not hosting or when no colleague can reach this computer', () => {
    for (const state of ['stopped', 'starting', 'stopping', 'failed'] as const) {
      expect(hostingInvite(running({ state }), {})).toMatchObject({
        ok: false,
        code: 'not_hosting',
      });
    }
    expect(hostingInvite(running({ lanUrls: [] }), {})).toMatchObject({
      ok: false,
      code: 'no_lan_address',
    });
  });
});
