/**
 * An in-memory stand-in for mDNS, for unit tests of the hosting controller, the discovery
 * browser and the CLI's advertisement only (the real multicast path is tested in network
 * namespaces). Publications on one FakeNetwork reach every browser on it; stop() is the goodbye.
 */
import type { Mdns, MdnsService } from '../discovery/mdns.js';

export class FakeNetwork {
  readonly published = new Map<string, MdnsService>();
  readonly #browsers = new Set<{ up(s: MdnsService): void; down(s: MdnsService): void }>();
  goodbyes = 0;

  #self(): FakeNetwork {
    return this;
  }

  mdns(address = '10.200.0.1'): Mdns & { destroyed: boolean } {
    const network = this.#self();
    const fake = {
      destroyed: false,
      async publish(input: { name: string; port: number; txt: Record<string, string> }) {
        const fqdn = `${input.name}._parley._tcp.local`;
        if (network.published.has(fqdn)) throw new Error('name in use');
        const service: MdnsService = {
          name: input.name,
          fqdn,
          host: 'host.local',
          port: input.port,
          addresses: [address],
          refererAddress: address,
          txt: { ...input.txt },
        };
        network.published.set(fqdn, service);
        for (const browser of network.#browsers) browser.up(service);
        return {
          async stop() {
            if (!network.published.delete(fqdn)) return;
            network.goodbyes += 1;
            for (const browser of network.#browsers) browser.down(service);
          },
        };
      },
      browse(handlers: { up(s: MdnsService): void; down(s: MdnsService): void }) {
        network.#browsers.add(handlers);
        for (const service of network.published.values()) handlers.up(service);
        return {
          update() {
            for (const service of network.published.values()) handlers.up(service);
          },
          stop() {
            network.#browsers.delete(handlers);
          },
        };
      },
      async destroy() {
        fake.destroyed = true;
      },
    };
    return fake;
  }
}
