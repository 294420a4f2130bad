import { describe, expect, it } from 'vitest';
import { limitKey } from './trust-proxy.js';

describe('limitKey: what per-address limits count under', () => {
  it('keeps an IPv4 address, also when it comes mapped on a dual-stack socket', () => {
    expect(limitKey('10.0.0.7')).toBe('10.0.0.7');
    expect(limitKey('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(limitKey('::FFFF:127.0.0.1')).toBe('127.0.0.1');
  });

  it('groups an IPv6 address under its /64, whatever its spelling', () => {
    const key = '2001:db8:aa:bb::/64';
    for (const address of [
      '2001:db8:aa:bb::1',
      '2001:0db8:00aa:00bb:0000:0000:0000:0002',
      '2001:DB8:AA:BB:ffff:ffff:ffff:ffff',
      '2001:db8:aa:bb:1:2:3:4',
      '2001:db8:aa:bb::1.2.3.4',
      '2001:db8:aa:bb::9%eth0',
    ]) {
      expect(limitKey(address)).toBe(key);
    }
    expect(limitKey('2001:db8:aa:bc::1')).not.toBe(key);
    expect(limitKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(limitKey('::1')).toBe('0:0:0:0::/64');
    expect(limitKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('leaves anything that is not an address as it is', () => {
    expect(limitKey('')).toBe('');
    expect(limitKey('unknown')).toBe('unknown');
  });
});
