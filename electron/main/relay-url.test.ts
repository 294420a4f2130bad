import { describe, expect, it } from 'vitest';
import { normalizeRelayUrl, relayOrigin } from './relay-url.js';

describe('normalizeRelayUrl', () => {
  it.each([
    ['10.0.0.5:4000', 'http://10.0.0.5:4000'],
    ['  http://host.test:4000/  ', 'http://host.test:4000'],
    ['https://chat.example.com', 'https://chat.example.com'],
    ['https://chat.example.com/parley/', 'https://chat.example.com/parley'],
    ['[fe80::1]:4000', 'http://[fe80::1]:4000'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeRelayUrl(input)).toBe(expected);
  });

  it.each([
    '',
    'ftp://x',
    'file:///etc',
    'http://u:p@h.test',
    'http://h.test/?a=1',
    'http://h.test/#x',
    'javascript:alert(1)',
  ])('refuses %s', (input) => {
    expect(normalizeRelayUrl(input)).toBeNull();
  });

  it('gives the origin', () => {
    expect(relayOrigin('https://chat.example.com/parley')).toBe('https://chat.example.com');
    expect(relayOrigin('nope://')).toBeNull();
  });
});
