import { describe, expect, it } from 'vitest';
import type { DiscoveredHost } from '../shared/bridge.js';
import { DiscoveryBrowser, MAX_DISCOVERED_HOSTS, toDiscoveredHost } from './discovery-browser.js';
import type { MdnsService } from '../../relay/index.js';
import { FakeNetwork } from '../../relay/testing/fake-mdns.js';

const ID = 'a'.repeat(32);
const service = (over: Partial<MdnsService> = {}): MdnsService => ({
  name: 'Ana (aaaa)',
  fqdn: 'Ana (aaaa)._parley._tcp.local',
  host: 'ana.local',
  port: 4000,
  addresses: ['10.200.0.1'],
  refererAddress: '10.200.0.1',
  txt: { v: '1', name: 'Ana', id: ID, pc: '1' },
  ...over,
});

describe('toDiscoveredHost', () => {
  it('reads name, address, port and the TXT record', () => {
    expect(toDiscoveredHost(service(), null)).toEqual({
      id: ID,
      name: 'Ana (aaaa)',
      displayName: 'Ana',
      addresses: ['10.200.0.1'],
      port: 4000,
      url: 'http://10.200.0.1:4000',
      fingerprint: null,
      protocolVersion: 1,
      passcodeRequired: true,
      isSelf: false,
    });
  });

  it('reads the certificate fingerprint (fp): the host serves https, pinned to it', () => {
    const fp = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0')).join(':');
    const host = toDiscoveredHost(service({ txt: { v: '1', name: 'Ana', id: ID, fp } }), null);
    expect(host).toMatchObject({ url: 'https://10.200.0.1:4000', fingerprint: fp.toUpperCase() });
    // Untrusted input: anything but a SHA-256 is no fingerprint (and so no https claim).
    for (const bad of ['', 'AB', `${fp}:00`, 'zz'.repeat(32), 'x'.repeat(300)]) {
      const parsed = toDiscoveredHost(service({ txt: { id: ID, fp: bad } }), null);
      expect(parsed, bad).toMatchObject({ url: 'http://10.200.0.1:4000', fingerprint: null });
    }
  });

  it('prefers IPv4, skips link-local IPv6, brackets IPv6 and marks its own relay', () => {
    const host = toDiscoveredHost(
      service({ addresses: ['fe80::1', 'fd00::5', '192.168.1.9'], refererAddress: null }),
      ID,
    );
    expect(host).toMatchObject({
      addresses: ['192.168.1.9', 'fd00::5'],
      url: 'http://192.168.1.9:4000',
      isSelf: true,
    });
    expect(
      toDiscoveredHost(service({ addresses: ['fd00::5'], refererAddress: null }), null)?.url,
    ).toBe('http://[fd00::5]:4000');
  });

  it('tolerates a foreign or partial TXT record, and drops unusable answers', () => {
    expect(toDiscoveredHost(service({ txt: {} }), null)).toMatchObject({
      id: 'Ana (aaaa)._parley._tcp.local',
      displayName: 'Ana (aaaa)',
      protocolVersion: null,
      passcodeRequired: false,
    });
    expect(toDiscoveredHost(service({ addresses: [], refererAddress: null }), null)).toBeNull();
    expect(toDiscoveredHost(service({ port: 0 }), null)).toBeNull();
  });
});

describe('DiscoveryBrowser', () => {
  it('lists hosts live as they appear and say goodbye', async () => {
    const network = new FakeNetwork();
    const browser = new DiscoveryBrowser({ mdns: () => network.mdns('10.200.0.2') });
    const seen: DiscoveredHost[][] = [];
    browser.onChange((hosts) => seen.push(hosts));
    browser.start();
    const ben = await network.mdns('10.200.0.3').publish({
      name: 'Ben (bbbb)',
      port: 4100,
      txt: { v: '1', name: 'Ben', id: 'b'.repeat(32) },
    });
    const ana = await network
      .mdns('10.200.0.1')
      .publish({ name: 'Ana (aaaa)', port: 4000, txt: { v: '1', name: 'Ana', id: ID } });
    expect(browser.hosts().map((h) => [h.displayName, h.url])).toEqual([
      ['Ana', 'http://10.200.0.1:4000'],
      ['Ben', 'http://10.200.0.3:4100'],
    ]);
    await ben.stop();
    expect(browser.hosts().map((h) => h.displayName)).toEqual(['Ana']);
    await ana.stop();
    expect(browser.hosts()).toEqual([]);
    expect(seen.map((list) => list.length)).toEqual([1, 2, 1, 0]);
  });

  it('does nothing when discovery is off, and refresh() starts over', async () => {
    const off = new DiscoveryBrowser({ mdns: () => null });
    off.start();
    expect(off.running).toBe(false);
    expect(off.refresh()).toEqual([]);

    const network = new FakeNetwork();
    await network.mdns().publish({ name: 'Ana (aaaa)', port: 4000, txt: { id: ID } });
    const browser = new DiscoveryBrowser({ mdns: () => network.mdns() });
    browser.start();
    expect(browser.refresh()).toHaveLength(1);
    browser.stop();
    expect(browser.hosts()).toEqual([]);
  });

  it('keeps at most MAX_DISCOVERED_HOSTS entries', () => {
    const network = new FakeNetwork();
    const browser = new DiscoveryBrowser({ mdns: () => network.mdns() });
    browser.start();
    return (async () => {
      for (let i = 0; i < MAX_DISCOVERED_HOSTS + 5; i += 1) {
        await network.mdns().publish({ name: `host-${i}`, port: 4000, txt: {} });
      }
      expect(browser.hosts()).toHaveLength(MAX_DISCOVERED_HOSTS);
    })();
  });
});
