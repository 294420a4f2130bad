import { describe, expect, it } from 'vitest';
import { buildInviteLink, findDeepLink, parseDeepLink } from './deep-link.js';

const FP = 'ab'.repeat(32);
/** The one fingerprint format of the app (relay/node/tls-fingerprint.ts). */
const CANONICAL = Array.from({ length: 32 }, () => 'AB').join(':');

describe('parseDeepLink', () => {
  it('reads the canonical form', () => {
    expect(
      parseDeepLink(`parley://join?host=10.0.0.5&port=4100&room=general&fingerprint=${FP}`),
    ).toEqual({
      ok: true,
      value: {
        host: '10.0.0.5',
        port: 4100,
        room: 'general',
        roomName: null,
        fingerprint: CANONICAL,
        // A fingerprint means the host serves https, pinned to that certificate.
        url: 'https://10.0.0.5:4100',
      },
    });
  });

  it('reads the path form and defaults the port', () => {
    expect(parseDeepLink('parley://join/ana-laptop.local/design')).toMatchObject({
      ok: true,
      value: {
        host: 'ana-laptop.local',
        port: 4000,
        room: 'design',
        url: 'http://ana-laptop.local:4000',
      },
    });
    expect(parseDeepLink('parley://join/[fe80::1]:4001')).toMatchObject({
      ok: true,
      value: { host: '[fe80::1]', port: 4001, room: null },
    });
  });

  it('normalises a colon-separated fingerprint', () => {
    const colons = FP.toUpperCase().match(/../g)?.join(':') ?? '';
    expect(parseDeepLink(`parley://join?host=h.test&fingerprint=${colons}`)).toMatchObject({
      ok: true,
      value: { fingerprint: CANONICAL },
    });
    expect(
      parseDeepLink(`parley://join?host=h.test&fingerprint=${colons.toLowerCase()}`),
    ).toMatchObject({ ok: true, value: { fingerprint: CANONICAL } });
  });

  it.each([
    ['https://join?host=x', 'not a parley:// link'],
    ['parley://delete?host=x', 'unknown action'],
    ['parley://join', 'missing or bad host'],
    ['parley://join?host=a%20b', 'missing or bad host'],
    ['parley://join?host=999.1.1.1', 'missing or bad host'],
    ['parley://join?host=h.test&port=0', 'port'],
    ['parley://join?host=h.test&port=70000', 'port'],
    ['parley://join?host=h.test&port=4e3', 'port'],
    ['parley://join?host=h.test&room=../../etc', 'bad room'],
    // A name labels a room: never without one, never empty, padded, too long or with controls.
    ['parley://join?host=h.test&name=design', 'bad room name'],
    ['parley://join?host=h.test&room=r1&name=', 'bad room name'],
    ['parley://join?host=h.test&room=r1&name=%20design', 'bad room name'],
    [`parley://join?host=h.test&room=r1&name=${'n'.repeat(81)}`, 'bad room name'],
    ['parley://join?host=h.test&room=r1&name=a%0Ab', 'bad room name'],
    ['parley://join?host=h.test&room=r1&name=a%E2%80%AEb', 'bad room name'],
    ['parley://join?host=h.test&fingerprint=zz', 'fingerprint'],
    ['parley://join/h.test/room/extra', 'unexpected path'],
    [`parley://join?host=${'a'.repeat(3000)}`, 'too long'],
  ])('refuses %s as a value', (link, message) => {
    const result = parseDeepLink(link);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('invalid_link');
      expect(result.message).toContain(message);
    }
  });

  it('round-trips with buildInviteLink', () => {
    const invite = {
      host: '192.168.1.20',
      port: 4000,
      room: 'general',
      roomName: null,
      fingerprint: null,
    };
    expect(parseDeepLink(buildInviteLink(invite))).toEqual({
      ok: true,
      value: { ...invite, url: 'http://192.168.1.20:4000' },
    });
    const pinned = { ...invite, fingerprint: CANONICAL };
    expect(parseDeepLink(buildInviteLink(pinned))).toEqual({
      ok: true,
      value: { ...pinned, url: 'https://192.168.1.20:4000' },
    });
    const named = {
      ...invite,
      room: '6f3a9c0e1b2d4f5a6b7c8d9e',
      roomName: 'Design & Ops 🎨 review',
    };
    const link = buildInviteLink(named);
    expect(new URL(link).searchParams.get('name')).toBe('Design & Ops 🎨 review');
    expect(parseDeepLink(link)).toEqual({
      ok: true,
      value: { ...named, url: 'http://192.168.1.20:4000' },
    });
    // No room, no name: the name only ever labels the room the link opens.
    expect(buildInviteLink({ ...named, room: null })).not.toContain('name=');
  });

  it('finds a link among command-line arguments', () => {
    expect(findDeepLink(['/usr/bin/parley', '--flag', 'PARLEY://join?host=x'])).toBe(
      'PARLEY://join?host=x',
    );
    expect(findDeepLink(['/usr/bin/parley'])).toBeNull();
  });
});
