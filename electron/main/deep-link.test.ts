import { describe, expect, it } from 'vitest';
import { buildInviteLink, findDeepLink, parseDeepLink } from './deep-link.js';

const FP = 'ab'.repeat(32);
/** The one fingerprint format of the app (relay/tls-fingerprint.ts). */
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
    const invite = { host: '192.168.1.20', port: 4000, room: 'general', fingerprint: null };
    expect(parseDeepLink(buildInviteLink(invite))).toEqual({
      ok: true,
      value: { ...invite, url: 'http://192.168.1.20:4000' },
    });
    const pinned = { ...invite, fingerprint: CANONICAL };
    expect(parseDeepLink(buildInviteLink(pinned))).toEqual({
      ok: true,
      value: { ...pinned, url: 'https://192.168.1.20:4000' },
    });
  });

  it('finds a link among command-line arguments', () => {
    expect(findDeepLink(['/usr/bin/parley', '--flag', 'PARLEY://join?host=x'])).toBe(
      'PARLEY://join?host=x',
    );
    expect(findDeepLink(['/usr/bin/parley'])).toBeNull();
  });
});
