/**
 * Child process for discovery.netns.test.ts, run inside a network namespace: the real discovery
 * browser (bonjour-service). Prints every change of the host list, and probes each new host's
 * advertised address over HTTP (GET /healthz across the veth).
 */
import { DiscoveryBrowser } from '../discovery-browser.js';
import { createBonjourMdns } from '../mdns.js';
import { probeRelay } from '../relay-probe.js';

const emit = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const mdns = createBonjourMdns({
  onError: (error) => emit({ event: 'mdns-error', message: String(error) }),
});
const browser = new DiscoveryBrowser({ mdns: () => mdns });
const probed = new Set<string>();
browser.onChange((hosts) => {
  emit({ event: 'hosts', hosts });
  for (const host of hosts) {
    if (probed.has(host.id)) continue;
    probed.add(host.id);
    void probeRelay(host.url).then((result) =>
      emit({ event: 'probe', id: host.id, url: host.url, result }),
    );
  }
});
browser.start();
emit({ event: 'browsing' });

process.on('SIGTERM', () => {
  browser.stop();
  void mdns.destroy().then(() => process.exit(0));
});
