import { describe, expect, it } from 'vitest';
import { startBanner, startUrls, type StartBannerInput } from './start-banner.js';

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i * 7).toString(16).padStart(2, '0'))
  .join(':')
  .toUpperCase();

const base: StartBannerInput = {
  version: '9.8.7',
  scheme: 'https',
  host: '0.0.0.0',
  port: 4000,
  lanAddresses: ['192.168.1.20', '10.0.0.5'],
  tlsFingerprint: FINGERPRINT,
};

describe('start banner', () => {
  it('lists localhost and every LAN address on a wildcard listener, else the one host', () => {
    expect(startUrls(base)).toEqual([
      'https://localhost:4000/',
      'https://192.168.1.20:4000/',
      'https://10.0.0.5:4000/',
    ]);
    expect(startUrls({ ...base, host: '::', lanAddresses: [] })).toEqual([
      'https://localhost:4000/',
    ]);
    expect(startUrls({ ...base, host: '127.0.0.1' })).toEqual(['https://127.0.0.1:4000/']);
    expect(startUrls({ ...base, host: '::1', scheme: 'http' })).toEqual(['http://[::1]:4000/']);
  });

  it('shows the version, the URLs, the fingerprint to read out and how to stop', () => {
    const text = startBanner(base);
    expect(text).toContain('Parley relay 9.8.7');
    for (const url of startUrls(base)) expect(text).toContain(url);
    expect(text).toContain(`    ${FINGERPRINT}\n`);
    expect(text).toMatch(/read this certificate fingerprint/i);
    expect(text).toContain('Ctrl+C');
    // Short enough to read at a glance: one line per URL, a few more for the rest.
    expect(text.trim().split('\n').length).toBeLessThanOrEqual(16);
  });

  it('says plainly that there is no certificate without TLS', () => {
    const text = startBanner({ ...base, scheme: 'http', tlsFingerprint: null });
    expect(text).toContain('http://localhost:4000/');
    expect(text).toContain('no TLS');
    expect(text).not.toMatch(/fingerprint/i);
  });
});
