/**
 * Child process for discovery.netns.test.ts, run inside a network namespace: the real hosting
 * controller starts a real embedded relay and advertises it with bonjour-service. Prints JSON
 * lines; the line "stop" on stdin stops hosting (goodbye packets) and exits.
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { HostingController } from '../hosting-controller.js';
import { createBonjourMdns } from '../../../relay/index.js';

const emit = (line: object): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};
const mdns = createBonjourMdns({
  onError: (error) => emit({ event: 'mdns-error', message: String(error) }),
});
const hosting = new HostingController({
  dataDir: process.env.PARLEY_DATA_DIR ?? '',
  mdns: () => mdns,
  logger: pino({ level: 'silent' }),
});
const result = await hosting.start({
  port: Number(process.env.PARLEY_PORT ?? '0'),
  displayName: process.env.PARLEY_NAME ?? 'Host',
  passcode: process.env.PARLEY_PASSCODE ?? null,
});
emit({ event: 'started', result });

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'stop') continue;
  const stopped = await hosting.stop();
  emit({ event: 'stopped', result: stopped });
  await mdns.destroy();
  process.exit(0);
}
