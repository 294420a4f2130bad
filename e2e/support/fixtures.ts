/**
 * Playwright fixtures for Parley's end-to-end specs:
 * - `relay`: a real relay process (relay/cli/cli.ts) per test, on a free loopback port with a fresh
 *   data folder, serving dist/renderer; stopped and its folder deleted afterwards, also when the
 *   test fails. Its log is kept as the test's `relay.log` attachment.
 * - `people`: opens browser contexts, one per person, and closes them all afterwards. Each
 *   context records Web Notifications (see notifications.ts) and fails the test on uncaught page
 *   errors.
 *
 * Tune the relay per file with `test.use({ relayOptions: { limits: {...} } })`.
 */
import { test as base, expect, type BrowserContextOptions } from '@playwright/test';
import { recordNotifications } from './notifications.js';
import { RelayProcess, type RelayProcessOptions } from './relay-process.js';
import { ChatUser } from './ui.js';

export interface People {
  /** A new person: a fresh context and page, signed in with `name` through the connect screen. */
  join(name: string): Promise<ChatUser>;
  /** A new context (with a saved state, e.g. a returning user) and a page opened at the relay. */
  open(name: string, storageState?: BrowserContextOptions['storageState']): Promise<ChatUser>;
}

interface Fixtures {
  relayOptions: Omit<RelayProcessOptions, 'logFile'>;
  relay: RelayProcess;
  people: People;
}

export const test = base.extend<Fixtures>({
  relayOptions: [{}, { option: true }],

  relay: async ({ relayOptions }, use, testInfo) => {
    const logFile = testInfo.outputPath('relay.log');
    const relay = await RelayProcess.start({ ...relayOptions, logFile });
    try {
      await use(relay);
    } finally {
      await relay.dispose();
      await testInfo.attach('relay.log', { path: logFile, contentType: 'text/plain' });
    }
  },

  people: async ({ browser, relay }, use, testInfo) => {
    const opened: ChatUser[] = [];
    const pageErrors: string[] = [];

    async function open(
      name: string,
      storageState?: BrowserContextOptions['storageState'],
    ): Promise<ChatUser> {
      const context = await browser.newContext({
        baseURL: relay.url,
        viewport: { width: 1280, height: 800 },
        permissions: ['notifications'],
        ...(storageState === undefined ? {} : { storageState }),
      });
      await context.addInitScript(recordNotifications);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.stack ?? error.message}`));
      const user = new ChatUser(name, context, page);
      opened.push(user);
      await page.goto(relay.url);
      return user;
    }

    await use({
      open,
      async join(name) {
        const user = await open(name);
        await user.signIn(relay.url);
        return user;
      },
    });

    for (const user of opened) await user.context.close();
    if (pageErrors.length > 0) {
      await testInfo.attach('page-errors.txt', { body: pageErrors.join('\n\n') });
    }
    expect(pageErrors, 'uncaught errors in the web client').toEqual([]);
  },
});

export { expect };
