/**
 * Editing and deleting messages (issue 17), two people in the main room of a real relay:
 * - Ana's connection goes away (her socket cut and the network off for her browser only) while
 *   Ben edits one message (right-click → Edit) and deletes another ("Message actions" → Delete →
 *   "Delete message?"). When she is back, the resume brings both: "(edited)" with the new text,
 *   the "message deleted" tombstone, and neither old text anywhere in her page; the same after a
 *   reload, and in what the relay serves.
 * - Live: ↑ in Ben's empty composer edits his last message (Esc cancels, Enter saves), the
 *   confirmation dialog's Cancel keeps a message, its Delete removes it, and Ana sees each at once.
 *
 * The same through a cluster of three nodes is cluster-edit-delete.spec.ts.
 */
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { history, mainRoomId } from './support/api.js';
import { expect, test } from './support/fixtures.js';
import { REPO_ROOT } from './support/relay-process.js';
import { NetworkSwitch } from './support/network-switch.js';
import { ChatUser, saveScreen } from './support/ui.js';

/** Reconnecting waits for the client's backoff (full jitter, cap 30 s), as in outage.spec. */
const RECONNECT_MS = 45_000;

const EDITED_BEFORE = 'lunch at noon?';
const EDITED_AFTER = 'lunch at one instead, the usual place';
const DELETED = 'the door code is 4417';

/** The "Message actions" menu of one message, opened with the button (hover first). */
async function openActions(user: ChatUser, text: string) {
  const message = user.message(text);
  await message.hover();
  await message.getByRole('button', { name: 'Message actions' }).click();
  const menu = message.getByRole('menu', { name: 'Message actions' });
  await expect(menu).toBeVisible();
  return menu;
}

/** Everything the page holds: the DOM (text and attributes) and the page's storage. */
async function pageHolds(page: Page, needle: string): Promise<boolean> {
  const html = await page.content();
  const stored = await page.evaluate(() =>
    JSON.stringify([{ ...localStorage }, { ...sessionStorage }]),
  );
  return html.includes(needle) || stored.includes(needle);
}

async function expectChangesShown(user: ChatUser): Promise<void> {
  const edited = user.message(EDITED_AFTER);
  await expect(edited).toHaveCount(1);
  await expect(edited).toContainText('(edited)');
  await expect(edited.getByTitle(/^Edited /)).toHaveCount(1);
  const tombstone = user.messages.filter({ hasText: 'message deleted' });
  await expect(tombstone).toHaveCount(1);
  await expect(tombstone).toHaveAttribute('data-deleted', 'true');
  await expect(tombstone.getByRole('button', { name: 'Message actions' })).toHaveCount(0);
  expect(
    await user.orderOf(['before the cut', EDITED_AFTER, 'message deleted', 'kept as is']),
  ).toEqual(['before the cut', EDITED_AFTER, 'message deleted', 'kept as is']);
  expect(await pageHolds(user.page, 'noon'), 'the old text of the edited message').toBe(false);
  expect(await pageHolds(user.page, '4417'), 'the text of the deleted message').toBe(false);
}

test('edits and deletes made while a reader is offline reach her on resume and after a reload', async ({
  relay,
  people,
}) => {
  test.setTimeout(150_000);
  const ana = await people.join('Ana');
  const ben = await people.join('Ben');
  const network = new NetworkSwitch(ana.context);
  await network.install();
  await ana.page.reload();
  await expect(ana.chatHeading('general')).toBeVisible();

  await ben.send('before the cut');
  await ben.send(EDITED_BEFORE);
  await ben.send(DELETED);
  await ben.send('kept as is');
  await expect(ana.message('kept as is')).toBeVisible();
  // Only the author gets the actions.
  await ana.message(EDITED_BEFORE).hover();
  await expect(
    ana.message(EDITED_BEFORE).getByRole('button', { name: 'Message actions' }),
  ).toHaveCount(0);

  await network.off();
  await expect(ana.offlineBanner).toBeVisible();

  // Ben edits through the context menu (right-click).
  await ben.message(EDITED_BEFORE).click({ button: 'right' });
  await ben.message(EDITED_BEFORE).getByRole('menuitem', { name: 'Edit' }).click();
  const editor = ben.page.getByRole('textbox', { name: 'Edit message' });
  await expect(editor).toBeFocused();
  await expect(editor).toHaveValue(EDITED_BEFORE);
  await editor.fill(EDITED_AFTER);
  await editor.press('Enter');
  await expect(editor).toHaveCount(0);
  await expect(ben.message(EDITED_AFTER)).toContainText('(edited)');

  // And deletes through the actions button, confirmed.
  const menu = await openActions(ben, DELETED);
  await menu.getByRole('menuitem', { name: 'Delete' }).click();
  const confirm = ben.page.getByRole('dialog', { name: 'Delete message?' });
  await expect(confirm).toBeVisible();
  await expect(confirm).toContainText("This can't be undone.");
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(confirm).toBeHidden();
  await expect(ben.messages.filter({ hasText: 'message deleted' })).toHaveCount(1);
  await expect(ben.message(DELETED)).toHaveCount(0);

  // Ana saw nothing of it while away.
  await expect(ana.message(EDITED_BEFORE)).toHaveCount(1);
  await network.on();
  await expect(ana.offlineBanner).toBeHidden({ timeout: RECONNECT_MS });
  await expectChangesShown(ana);

  await ana.page.reload();
  await expect(ana.chatHeading('general')).toBeVisible();
  await expect(ana.message('kept as is')).toBeVisible();
  await expectChangesShown(ana);

  // The relay serves the current state: the edit, and a tombstone without text.
  const { token } = await ana.session();
  const stored = await history(relay.url, token, await mainRoomId(relay.url, token));
  const byText = stored.map((m) => [m.content, m.edited_at !== null, m.deleted_at !== null]);
  expect(byText).toEqual([
    ['before the cut', false, false],
    [EDITED_AFTER, true, false],
    ['', false, true],
    ['kept as is', false, false],
  ]);
});

test('↑ edits the last message, Delete asks first, and the other reader sees each change live', async ({
  people,
}) => {
  const ana = await people.join('Ana');
  const ben = await people.join('Ben');
  await ana.send('Morning! Is standup still at 10?');
  await ben.send('first draft of the plan');
  await ben.send('standup moved to 10');
  await expect(ana.message('standup moved to 10')).toBeVisible();

  // ↑ in the empty composer opens Ben's last message; Esc cancels without a change.
  await ben.composer.focus();
  await ben.composer.press('ArrowUp');
  const editor = ben.page.getByRole('textbox', { name: 'Edit message' });
  await expect(editor).toBeFocused();
  await expect(editor).toHaveValue('standup moved to 10');
  await editor.press('End');
  await editor.type(' tomorrow');
  await editor.press('Escape');
  await expect(editor).toHaveCount(0);
  await expect(ben.composer).toBeFocused();
  await expect(ben.message('standup moved to 10')).not.toContainText('(edited)');

  // Again, and Enter saves (Shift+Enter is a newline in the text).
  await ben.composer.press('ArrowUp');
  await expect(editor).toHaveValue('standup moved to 10');
  await editor.fill('standup moved to 10:30');
  await editor.press('Shift+Enter');
  await editor.pressSequentially('in the small room');
  await saveScreen(ben.page, 'edit-inline');
  await editor.press('Enter');
  await expect(editor).toHaveCount(0);
  for (const user of [ben, ana]) {
    const edited = user.message('standup moved to 10:30');
    await expect(edited).toContainText('(edited)');
    await expect(edited).toContainText('in the small room');
  }

  // ↑ with text in the composer moves the caret, it does not edit.
  await ben.composer.fill('typing something');
  await ben.composer.press('ArrowUp');
  await expect(editor).toHaveCount(0);
  await ben.composer.fill('');

  // Delete asks first: Cancel keeps the message.
  let menu = await openActions(ben, 'first draft of the plan');
  await expect(menu.getByRole('menuitem')).toHaveText(['Edit', 'Delete']);
  await menu.getByRole('menuitem', { name: 'Delete' }).click();
  const confirm = ben.page.getByRole('dialog', { name: 'Delete message?' });
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toBeHidden();
  await expect(ben.message('first draft of the plan')).toHaveCount(1);

  // From the keyboard: the actions button, ↓ into the menu, Delete, then Delete in the dialog.
  await ben.message('first draft of the plan').hover();
  const button = ben
    .message('first draft of the plan')
    .getByRole('button', { name: 'Message actions' });
  await button.focus();
  await button.press('ArrowDown');
  menu = ben.message('first draft of the plan').getByRole('menu', { name: 'Message actions' });
  await expect(menu.getByRole('menuitem', { name: 'Edit' })).toBeFocused();
  await ben.page.keyboard.press('ArrowDown');
  await expect(menu.getByRole('menuitem', { name: 'Delete' })).toBeFocused();
  await ben.page.keyboard.press('Enter');
  await expect(confirm).toBeVisible();
  await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(confirm).toBeHidden();
  for (const user of [ben, ana]) {
    await expect(user.message('first draft of the plan')).toHaveCount(0);
    await expect(user.messages.filter({ hasText: 'message deleted' })).toHaveCount(1);
  }
  expect(await pageHolds(ana.page, 'first draft')).toBe(false);

  // ↑ skips the tombstone: the last editable message is the edited one.
  await ben.composer.press('ArrowUp');
  await expect(editor).toHaveValue(/^standup moved to 10:30/);
  await editor.press('Escape');
  await saveScreen(ana.page, 'edit-delete-live');

  // For the README: Ben's view with an edited message, a tombstone and the menu open.
  await ana.send('Thanks, see you there');
  await expect(ben.message('Thanks, see you there')).toBeVisible();
  menu = await openActions(ben, 'standup moved to 10:30');
  await ben.page.screenshot({ path: join(REPO_ROOT, 'docs', 'screenshot-edit-delete.png') });
  // Esc closes the menu and gives the focus back to its button.
  await ben.page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
  await expect(
    ben.message('standup moved to 10:30').getByRole('button', { name: 'Message actions' }),
  ).toBeFocused();
});
