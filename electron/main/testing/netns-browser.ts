/**
 * Child process for discovery.netns.test.ts, run inside a network namespace: the real discovery
 * browser (bonjour-service). Prints every change of the host list, and probes each new host's
 * advertised address over HTTPS (GET /healthz across the veth), its certificate checked against
 * the fingerprint of the TXT record (`fp`) by the app's certificate pins.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertPins } from '../cert-pins.js';
import { DiscoveryBrowser } from '../discovery-browser.js';
import { createBonjourMdns } from '../../../relay/index.js';
import { probeRelay } from '../relay-probe.js';

const emit = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const mdns = createBonjourMdns({
  onError: (error) => emit({ event: 'mdns-error', message: String(error) }),
});
const browser = new DiscoveryBrowser({ mdns: () => mdns });
const pins = new CertPins({
  path: join(mkdtempSync(join(tmpdir(), 'parley-netns-')), 'pins.json'),
});
const probed = new Set<string>();
browser.onChange((hosts) => {
  emit({ event: 'hosts', hosts });
  for (const host of hosts) {
    if (probed.has(host.id)) continue;
    probed.add(host.id);
    for (const address of host.addresses) {
      if (host.fingerprint !== null) pins.expect(address, host.port, host.fingerprint, 'mDNS');
    }
    void probeRelay(host.url, { pins }).then((result) =>
      emit({
        event: 'probe',
        id: host.id,
        url: host.url,
        result,
        pinned: pins.pinned(host.addresses[0] ?? '', host.port),
      }),
    );
  }
});
browser.start();
emit({ event: 'browsing' });

process.on('SIGTERM', () => {
  browser.stop();
  void mdns.destroy().then(() => process.exit(0));
});
