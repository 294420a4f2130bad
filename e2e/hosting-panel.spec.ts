/**
 * "Invite people" and "About this server" in the desktop app, driven in Chromium with the real
 * main-process services behind the page (support/desktop-shell.ts): Ana hosts a room (a real
 * embedded relay with its real self-signed certificate), reads its address and fingerprint from
 * the panel and copies the invite; Ben's app opens that invite, connects, and shows the same
 * fingerprint as the certificate it pinned; Ana stops hosting and the panel follows. A browser
 * without the desktop bridge shows neither part. The page itself is served by a relay process
 * over https (the `relay` fixture, `tls: true`), standing in for the app's own files.
 */
import type { Locator } from '@playwright/test';
import { parseDeepLink } from '../electron/main/deep-link.js';
import { allowRelay, openDesktop, type DesktopShell } from './support/desktop-shell.js';
import { expect, test } from './support/fixtures.js';
import { saveRecoveryCode, saveScreen } from './support/ui.js';
import { servedFingerprint } from '../relay/testing/served-certificate.js';

test.use({ relayOptions: { tls: true } });

async function join(shell: DesktopShell, url: string, name: string): Promise<void> {
  const { page } = shell;
  await page.getByRole('textbox', { name: 'Server address' }).fill(url);
  await page.getByRole('textbox', { name: 'Display name' }).fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await saveRecoveryCode(page);
  await expect(page.getByRole('navigation', { name: 'Chats' })).toBeVisible();
}

/** The fingerprint as the page shows it: its numbered lines, joined back. */
async function shownFingerprint(scope: Locator): Promise<{ lines: string[]; joined: string }> {
  const lines = await scope
    .getByRole('list', { name: 'Certificate fingerprint' })
    .getByRole('listitem')
    .allTextContents();
  return { lines, joined: lines.map((line) => line.trim()).join(':') };
}

test('the host reads out the address and fingerprint and copies the invite; the colleague’s app shows the same certificate', async ({
  browser,
  relay,
}) => {
  const shells: DesktopShell[] = [];
  try {
    const ana = await openDesktop(browser, relay.url, 'ana');
    shells.push(ana);
    const ben = await openDesktop(browser, relay.url, 'ben');
    shells.push(ben);

    // Ana hosts from the connect screen; it then says so and offers "Invite people".
    await ana.page.getByRole('textbox', { name: 'Display name' }).fill('Ana');
    await ana.page.getByRole('button', { name: 'Host a room on this computer' }).click();
    const server = ana.page.getByRole('textbox', { name: 'Server address' });
    // It starts with the page's own origin (the relay fixture) until hosting has started.
    await expect(server).not.toHaveValue(relay.url);
    await expect(server).toHaveValue(/^https:\/\/127\.0\.0\.1:\d+$/);
    const hostedUrl = await server.inputValue();
    const port = Number(new URL(hostedUrl).port);
    await expect(
      ana.page.getByText(`This computer is hosting a room at 127.0.0.1:${port}.`),
    ).toBeVisible();
    await expect(ana.page.getByRole('button', { name: 'Invite people' })).toBeVisible();
    await saveScreen(ana.page, 'connect-hosting');
    const served = await servedFingerprint(port);
    expect(served).toMatch(/^(?:[0-9A-F]{2}:){31}[0-9A-F]{2}$/);

    await allowRelay(ana, hostedUrl);
    await join(ana, hostedUrl, 'Ana');

    // The panel, from the sidebar.
    await ana.page.getByRole('button', { name: 'Invite people' }).click();
    const panel = ana.page.getByRole('dialog', { name: 'Invite people' });
    await expect(panel).toBeVisible();
    await expect(panel).toContainText('This computer is hosting a room, as Ana.');
    await expect(panel.getByRole('list', { name: 'Addresses' }).getByRole('listitem')).toHaveText([
      `https://127.0.0.1:${port}`,
    ]);
    const shown = await shownFingerprint(panel);
    expect(shown.lines).toHaveLength(8);
    for (const line of shown.lines) expect(line.trim()).toMatch(/^(?:[0-9A-F]{2}:){3}[0-9A-F]{2}$/);
    expect(shown.joined).toBe(served);
    await expect(panel).toContainText('None: anyone who can reach this computer can join.');

    const linkField = panel.getByRole('textbox', { name: 'Invite link' });
    await expect(linkField).toHaveValue(/^parley:\/\/join\?/);
    const link = await linkField.inputValue();
    await panel.getByRole('button', { name: 'Copy invite link' }).click();
    await expect(panel.getByRole('status')).toHaveText('Invite link copied');
    const copied = await ana.page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(link);
    const invite = parseDeepLink(copied);
    if (!invite.ok) throw new Error(`the copied invite does not parse: ${invite.message}`);
    expect(invite.value).toMatchObject({
      host: '127.0.0.1',
      port,
      fingerprint: served,
      url: hostedUrl,
    });
    // The open chat (the main room, public) goes into the invite.
    expect(invite.value.room).toMatch(/^[A-Za-z0-9_-]+$/);
    await saveScreen(ana.page, 'hosting-panel');
    await ana.page.keyboard.press('Escape');
    await expect(panel).toBeHidden();

    // Ben's app receives the invite (what main.ts does when the OS opens a parley:// link).
    ben.core.openInvite(invite.value);
    await allowRelay(ben, invite.value.url);
    // Chromium's certificate check for Ben's connection, as main.ts feeds it to the pins: the
    // invite announced this certificate, so it is accepted and pinned.
    expect(
      ben.core.verifyCertificate({
        hostname: '127.0.0.1',
        fingerprint: await servedFingerprint(port),
        chromiumAccepted: false,
      }),
    ).toBe('accept');
    await join(ben, invite.value.url, 'Ben');
    await ben.page.getByRole('button', { name: 'About this server' }).click();
    const about = ben.page.getByRole('dialog', { name: 'About this server' });
    await expect(about).toContainText(invite.value.url);
    await expect(about).toContainText('Connected');
    await expect(about).toContainText('Parley accepts only this certificate from this server');
    // The fingerprint is read from the relay after the dialog opens: wait for it.
    await expect.poll(async () => (await shownFingerprint(about)).joined).toBe(served);
    await saveScreen(ben.page, 'about-this-server');
    await ben.page.keyboard.press('Escape');
    // Ben does not host: no hosting card.
    await expect(ben.page.getByRole('button', { name: 'Invite people' })).toHaveCount(0);

    // Ana's own window knows the server is this computer.
    await ana.page.getByRole('button', { name: 'About this server' }).click();
    const anaAbout = ana.page.getByRole('dialog', { name: 'About this server' });
    await expect(anaAbout).toContainText('This computer');
    // The fingerprint is read from the relay after the dialog opens: wait for it.
    await expect.poll(async () => (await shownFingerprint(anaAbout)).joined).toBe(served);
    await ana.page.keyboard.press('Escape');

    // Stop hosting from the panel: asked first, then the panel and the sidebar follow live.
    await ana.page.getByRole('button', { name: 'Invite people' }).click();
    await panel.getByRole('button', { name: 'Stop hosting' }).click();
    await panel.getByRole('button', { name: 'Keep hosting' }).click();
    await expect(panel).toContainText('This computer is hosting a room, as Ana.');
    await panel.getByRole('button', { name: 'Stop hosting' }).click();
    await panel.getByRole('button', { name: 'Stop now' }).click();
    await expect(panel).toContainText('This computer is not hosting a room.');
    await expect(panel.getByRole('list', { name: 'Certificate fingerprint' })).toHaveCount(0);
    await expect(panel.getByRole('textbox', { name: 'Invite link' })).toHaveCount(0);
    await ana.page.keyboard.press('Escape');
    await expect(ana.page.getByRole('button', { name: 'Invite people' })).toHaveCount(0);
    await expect(ben.page.getByRole('alert').filter({ hasText: /^\s*Offline/ })).toBeVisible();

    for (const shell of shells) expect(shell.rejected).toEqual([]);
  } finally {
    for (const shell of shells) await shell.close();
  }
});

test('a browser without the desktop app shows neither "Invite people" nor "About this server"', async ({
  browser,
  relay,
}) => {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await context.newPage();
    await page.goto(relay.url);
    await expect(page.getByRole('textbox', { name: 'Server address' })).toHaveValue(relay.url);
    await expect(page.getByRole('button', { name: 'Host a room on this computer' })).toHaveCount(0);
    await page.getByRole('textbox', { name: 'Display name' }).fill('Cy');
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    await saveRecoveryCode(page);
    await expect(page.getByRole('navigation', { name: 'Chats' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Invite people' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'About this server' })).toHaveCount(0);
  } finally {
    await context.close();
  }
});
