/**
 * Opening a `parley://` invite in the desktop app, like clicking a Slack or Discord invite: Ana
 * hosts a room (a real embedded relay with its real certificate, support/desktop-shell.ts) and
 * copies the invite to #design; Ben's app is started by that link (main.ts's launch path), its
 * connect screen says where he was invited with the address filled in and the name field
 * focused; he types his name, joins (through the reload that widening the window's policy needs)
 * and lands in #design, where they talk. While he is signed in, a second invite (a second
 * instance's command line, main.ts's other path) opens #ops, an invite to a private room says he
 * is not a member, and an invite to another server asks before switching: Cancel keeps him where
 * he was, Switch shows that server's connect screen. The page itself is served by a relay
 * process over https (the `relay` fixture, `tls: true`), which is also the "other server".
 */
import { buildInviteLink } from '../electron/main/deep-link.js';
import { hostingInvite } from '../electron/main/hosting-invite.js';
import { pinnedRequest } from '../electron/main/pinned-request.js';
import type { ChatSummary } from '../relay/protocol/events.js';
import { allowRelay, openDesktop, openLink, type DesktopShell } from './support/desktop-shell.js';
import { expect, test } from './support/fixtures.js';
import { ChatUser, saveRecoveryCode, saveScreen } from './support/ui.js';
import { servedFingerprint } from '../relay/testing/served-certificate.js';

test.use({ relayOptions: { tls: true } });

/** How the OS starts the app (or a second copy of it) for a link. */
const APP = '/opt/Parley/parley';

/** Ana's chats as her relay lists them, by name (read with her saved token, over her pins). */
async function chatIds(ana: DesktopShell, hostedUrl: string): Promise<Record<string, string>> {
  const saved = ana.core.cache.loadStorage()['parley.session'];
  if (saved === undefined) throw new Error('Ana has no saved session');
  const { token } = JSON.parse(saved) as { token: string };
  const answer = await pinnedRequest(`${hostedUrl}/api/chats`, ana.core.pins, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!answer.ok || answer.value.status !== 200) throw new Error('listing Ana’s chats failed');
  const { chats } = JSON.parse(answer.value.body) as { chats: ChatSummary[] };
  return Object.fromEntries(chats.map((chat) => [chat.name, chat.id]));
}

async function createRoom(
  user: ChatUser,
  name: string,
  visibility: 'Public' | 'Private',
): Promise<void> {
  await user.page.getByRole('button', { name: 'New room', exact: true }).click();
  const dialog = user.page.getByRole('dialog', { name: 'New room' });
  await dialog.getByRole('textbox', { name: 'Room name' }).fill(name);
  await dialog.getByRole('radio', { name: visibility }).check();
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(dialog).toBeHidden();
  await expect(user.chatHeading(name)).toBeVisible();
}

test('an invite opens the app on the invited room: prefilled sign-in, then later invites while signed in', async ({
  browser,
  relay,
}) => {
  // Two apps, an embedded relay and many steps: generous, for a loaded machine.
  test.setTimeout(150_000);
  const shells: DesktopShell[] = [];
  try {
    // Ana hosts a room, joins it and creates #design (public), #ops (public), #secret (private).
    const anaShell = await openDesktop(browser, relay.url, 'ana');
    shells.push(anaShell);
    const ana = new ChatUser('Ana', anaShell.context, anaShell.page);
    await ana.page.getByRole('textbox', { name: 'Display name' }).fill('Ana');
    await ana.page.getByRole('button', { name: 'Host a room on this computer' }).click();
    // The field starts with the page's own origin (the relay fixture) until hosting has started.
    await expect(ana.page.getByText(/^This computer is hosting a room at/)).toBeVisible();
    const server = ana.page.getByRole('textbox', { name: 'Server address' });
    await expect(server).not.toHaveValue(relay.url);
    await expect(server).toHaveValue(/^https:\/\/127\.0\.0\.1:\d+$/);
    const hostedUrl = await server.inputValue();
    expect(hostedUrl).not.toBe(relay.url);
    expect(anaShell.core.hosting.status().url).toBe(hostedUrl);
    const hostedAddress = new URL(hostedUrl).host;
    await allowRelay(anaShell, hostedUrl);
    await ana.page.getByRole('textbox', { name: 'Server address' }).fill(hostedUrl);
    await ana.page.getByRole('textbox', { name: 'Display name' }).fill('Ana');
    await ana.page.getByRole('button', { name: 'Join', exact: true }).click();
    await saveRecoveryCode(ana.page);
    await expect(ana.chatNav).toBeVisible();
    await createRoom(ana, 'ops', 'Public');
    await createRoom(ana, 'secret', 'Private');
    await createRoom(ana, 'design', 'Public');
    const ids = await chatIds(anaShell, hostedUrl);
    for (const name of ['design', 'ops', 'secret']) expect(ids[name]).toMatch(/^[0-9a-f]{24}$/);

    // The invite to the open room, as "Invite people" copies it.
    await ana.page.getByRole('button', { name: 'Invite people' }).click();
    const panel = ana.page.getByRole('dialog', { name: 'Invite people' });
    const linkField = panel.getByRole('textbox', { name: 'Invite link' });
    await expect(linkField).toHaveValue(/^parley:\/\/join\?/);
    const designLink = await linkField.inputValue();
    expect(new URL(designLink).searchParams.get('room')).toBe(ids.design);
    expect(new URL(designLink).searchParams.get('name')).toBe('design');
    await ana.page.keyboard.press('Escape');
    await expect(panel).toBeHidden();

    // The OS starts Ben's app for the link: the connect screen says where he was invited, with
    // the server filled in and his name next.
    const benShell = await openDesktop(browser, relay.url, 'ben', { argv: [APP, designLink] });
    shells.push(benShell);
    const ben = new ChatUser('Ben', benShell.context, benShell.page);
    await expect(ben.page.getByRole('status').filter({ hasText: 'You were invited' })).toHaveText(
      `You were invited to #design on ${hostedAddress}`,
    );
    await expect(ben.page.getByRole('textbox', { name: 'Server address' })).toHaveValue(hostedUrl);
    const nameField = ben.page.getByRole('textbox', { name: 'Display name' });
    await expect(nameField).toBeFocused();
    await saveScreen(ben.page, 'invite-connect');

    // One click: the window reloads to allow the relay, and the sign-in goes on by itself.
    await nameField.fill('Ben');
    const reloaded = ben.page.waitForEvent('load');
    await ben.page.getByRole('button', { name: 'Join', exact: true }).click();
    await reloaded;
    await saveRecoveryCode(ben.page);
    await expect(ben.chatNav).toBeVisible();
    await expect(ben.chatHeading('design')).toBeVisible();
    // The invite announced the hosted relay's certificate: Chromium's check (as main.ts feeds
    // it to the pins) accepts exactly that one.
    expect(
      benShell.core.verifyCertificate({
        hostname: '127.0.0.1',
        fingerprint: await servedFingerprint(Number(new URL(hostedUrl).port)),
        chromiumAccepted: false,
      }),
    ).toBe('accept');
    await saveScreen(ben.page, 'invite-landed');

    // They talk in #design.
    await ana.openChat('design');
    await ana.send('Welcome to design, Ben');
    await expect(ben.message('Welcome to design, Ben')).toContainText('Ana');
    await ben.send('Thanks Ana, glad to be here');
    await expect(ana.message('Thanks Ana, glad to be here')).toContainText('Ben');

    // A second invite while he is signed in (a second instance's command line): #ops opens.
    const link = (room: string): string => {
      const invite = hostingInvite(anaShell.core.hosting.status(), { room });
      if (!invite.ok) throw new Error(invite.message);
      return invite.value.link;
    };
    expect(openLink(benShell, [APP, link(ids.ops ?? '')]).kind).toBe('open-invite');
    await expect(ben.chatHeading('ops')).toBeVisible();
    await expect(ben.chatEntry('ops')).toBeVisible();
    await ana.openChat('ops');
    await ana.send('ops standup at 10');
    await expect(ben.message('ops standup at 10')).toBeVisible();

    // An invite to the private room he is not in: a clear notice, and he stays in #ops.
    openLink(benShell, [APP, link(ids.secret ?? '')]);
    const notice = ben.page
      .getByRole('alert')
      .filter({ hasText: 'You are not a member of this room; ask a member to add you.' });
    await expect(notice).toBeVisible();
    await expect(ben.chatHeading('ops')).toBeVisible();
    await expect(ben.chatEntry('secret')).toHaveCount(0);
    await saveScreen(ben.page, 'invite-not-member');
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await expect(notice).toBeHidden();

    // An invite to another server asks first; Cancel changes nothing.
    const fingerprint = relay.tlsFingerprint;
    if (fingerprint === null) throw new Error('the relay fixture serves no certificate');
    const otherAddress = `127.0.0.1:${relay.port}`;
    const otherLink = buildInviteLink({
      host: '127.0.0.1',
      port: relay.port,
      room: null,
      roomName: null,
      fingerprint,
    });
    openLink(benShell, [APP, otherLink]);
    const ask = ben.page.getByRole('dialog', { name: 'Switch server?' });
    await expect(ask).toBeVisible();
    await expect(ask).toContainText(
      `Switch to ${otherAddress}? You will sign out of ${hostedAddress}.`,
    );
    await expect(ask.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await saveScreen(ben.page, 'invite-switch');
    await ask.getByRole('button', { name: 'Cancel' }).click();
    await expect(ask).toBeHidden();
    await expect(ben.chatHeading('ops')).toBeVisible();
    await ana.send('still here?');
    await expect(ben.message('still here?')).toBeVisible();

    // Asked again, Switch signs him out and shows that server's connect screen.
    openLink(benShell, [APP, otherLink]);
    await ask.getByRole('button', { name: 'Switch' }).click();
    await expect(ben.page.getByRole('textbox', { name: 'Server address' })).toHaveValue(relay.url);
    await expect(ben.page.getByRole('status').filter({ hasText: 'You were invited' })).toHaveText(
      `You were invited to ${otherAddress}`,
    );
    await expect(nameField).toBeFocused();
    await expect(nameField).toHaveValue('Ben');

    for (const shell of shells) expect(shell.rejected).toEqual([]);
  } finally {
    for (const shell of shells) await shell.close();
  }
});
