import { describe, expect, it } from 'vitest';
import { isSafeExternalUrl, navigationDecision } from './external-links.js';

describe('external links', () => {
  it('opens only http(s) links outside the app', () => {
    expect(isSafeExternalUrl('https://example.com/a?b')).toBe(true);
    expect(isSafeExternalUrl('http://10.0.0.5:4000')).toBe(true);
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'smb://host/share',
      'parley://join?host=x',
      'notaurl',
      'https://',
    ]) {
      expect(isSafeExternalUrl(url), url).toBe(false);
    }
  });

  it('keeps navigation inside the app origin', () => {
    expect(navigationDecision('app://parley/index.html#/chat', 'app://parley')).toBe('allow');
    expect(navigationDecision('https://evil.example', 'app://parley')).toBe('open-external');
    expect(navigationDecision('file:///etc/passwd', 'app://parley')).toBe('deny');
    expect(navigationDecision('::', 'app://parley')).toBe('deny');
  });
});
