import { describe, expect, it } from 'vitest';
import { buildCsp, connectSources, relayOrigins } from './csp.js';

describe('buildCsp', () => {
  it('lets the page connect only to the listed relays, over HTTP and WebSocket', () => {
    const csp = buildCsp({ relayUrls: ['http://10.0.0.5:4000', 'https://chat.example.com/'] });
    expect(connectSources(csp)).toEqual([
      'http://10.0.0.5:4000',
      'https://chat.example.com',
      'ws://10.0.0.5:4000',
      'wss://chat.example.com',
    ]);
  });

  it('allows no connection at all when no relay is known', () => {
    expect(connectSources(buildCsp({ relayUrls: [] }))).toEqual(["'none'"]);
  });

  it('is strict everywhere else: no eval, no inline scripts, no frames, no plugins', () => {
    const csp = buildCsp({ relayUrls: [] });
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("base-uri 'none'");
  });

  it('drops anything that is not an http(s) relay, and cannot be injected into', () => {
    const csp = buildCsp({
      relayUrls: [
        'file:///etc/passwd',
        'javascript:alert(1)',
        'not a url',
        'http://a.test:1; script-src *',
      ],
    });
    expect(connectSources(csp)).toEqual(["'none'"]);
    expect(csp.split(';').filter((d) => d.trim().startsWith('script-src'))).toHaveLength(1);
  });

  it('deduplicates and ignores paths and credentials', () => {
    expect(relayOrigins('http://user:pw@h.test:4000/api')).toEqual([
      'http://h.test:4000',
      'ws://h.test:4000',
    ]);
    const csp = buildCsp({ relayUrls: ['http://h.test:4000', 'http://h.test:4000/x'] });
    expect(connectSources(csp)).toEqual(['http://h.test:4000', 'ws://h.test:4000']);
  });
});
