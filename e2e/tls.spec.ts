/**
 * The web client served by a relay in its default host mode, https and wss with the relay's
 * self-signed certificate: a browser that accepts the certificate (as a colleague does after
 * checking its fingerprint on first visit) signs in and two people exchange a message, every
 * socket over wss. The certificate served is the one whose fingerprint the relay logged.
 */
import type { Browser } from '@playwright/test';
import { expect, test } from './support/fixtures.js';
import type { RelayProcess } from './support/relay-process.js';
import { ChatUser } from './support/ui.js';
import { servedFingerprint } from '../relay/testing/served-certificate.js';

test.use({ relayOptions: { tls: true } });

async function person(browser: Browser, relay: RelayProcess, name: string) {
  // The self-signed certificate is not from a CA: the browser must be told to accept it, as a
  // colleague does by hand (after comparing its fingerprint) on the first visit.
  const context = await browser.newContext({ baseURL: relay.url, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  await page.goto(relay.url);
  const user = new ChatUser(name, context, page);
  await user.signIn(relay.url);
  return { user, sockets };
}

test('@hostile the web client over https and wss signs in and exchanges messages', async ({
  browser,
  relay,
}) => {
  expect(relay.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(relay.tlsFingerprint).toMatch(/^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  expect(await servedFingerprint(relay.port)).toBe(relay.tlsFingerprint);

  const ana = await person(browser, relay, 'Ana');
  const ben = await person(browser, relay, 'Ben');
  try {
    await ana.user.send('Hello over TLS');
    await expect(ana.user.message('Hello over TLS')).toHaveAttribute('data-status', 'sent');
    await expect(ben.user.message('Hello over TLS')).toContainText('Ana');
    await ben.user.send('Encrypted reply');
    await expect(ana.user.message('Encrypted reply')).toContainText('Ben');

    for (const { sockets } of [ana, ben]) {
      expect(sockets.length).toBeGreaterThan(0);
      for (const url of sockets) expect(url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/socket\//);
    }
  } finally {
    await ana.user.context.close();
    await ben.user.context.close();
  }
});
