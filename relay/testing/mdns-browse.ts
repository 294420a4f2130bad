/**
 * Child process for cli-mdns.netns.test.ts, run inside a network namespace: browses `_parley._tcp`
 * with the relay's own mDNS module (mdns.ts, the one the desktop app's discovery uses) and prints
 * JSON lines: `browsing`, then `up` and `down` with the service, `error` for socket errors. The
 * line "update" on stdin sends a fresh query and answers `updated`. Never run it outside a
 * namespace: it multicasts.
 */
import { createInterface } from 'node:readline';
import { createBonjourMdns } from '../discovery/mdns.js';

const emit = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const mdns = createBonjourMdns({
  onError: (error) => emit({ event: 'error', message: String(error) }),
});
const browser = mdns.browse({
  up: (service) => emit({ event: 'up', service }),
  down: (service) => emit({ event: 'down', service }),
});
emit({ event: 'browsing' });

process.on('SIGTERM', () => {
  browser.stop();
  void mdns.destroy().then(() => process.exit(0));
});

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'update') continue;
  browser.update();
  emit({ event: 'updated' });
}
