/**
 * Small things people noticed (issue 14, item 9): a vanishing room's time as a number and a
 * unit within the relay's range; an intro that fits the room; leaving asks first; a sender's
 * name opens their profile card (and "Message" opens the DM); "N here now" opens the member
 * list; a DM search hit names the other person once.
 */
import { expect, test } from './support/fixtures.js';
import { chats, createRoom } from './support/api.js';
import { saveScreen } from './support/ui.js';

test('a vanishing private room: time in days, refused out of range, described as it is', async ({
  people,
  relay,
}) => {
  const ana = await people.join('Ana');
  const { page } = ana;
  await page.getByRole('button', { name: 'New room', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'New room' });
  await dialog.getByRole('textbox', { name: 'Room name' }).fill('Project X');
  await dialog.getByRole('radio', { name: 'Private' }).check();

  // Past the relay's longest (30 days): said in words, nothing created.
  const amount = dialog.getByRole('spinbutton', { name: 'Vanish after' });
  await amount.fill('31');
  await dialog.getByRole('combobox', { name: 'Unit' }).selectOption('days');
  await expect(dialog.getByRole('checkbox', { name: 'Messages vanish' })).toBeChecked();
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(dialog.getByRole('alert')).toHaveText(
    'That is too long. Messages can vanish after 1 minute at the shortest and 30 days at the longest.',
  );
  await expect(amount).toHaveAttribute('aria-invalid', 'true');
  const { token } = await ana.session();
  expect((await chats(relay.url, token)).map((chat) => chat.name)).not.toContain('Project X');

  // A preset fills in the number and the unit.
  const week = dialog.getByRole('button', { name: '7 days', exact: true });
  await week.click();
  await expect(week).toHaveAttribute('aria-pressed', 'true');
  await expect(amount).toHaveValue('7');
  await expect(amount).not.toHaveAttribute('aria-invalid', 'true');
  await expect(dialog.getByRole('alert')).toHaveCount(0);
  await saveScreen(page, 'new-vanishing-room');
  await dialog.getByRole('button', { name: 'Create', exact: true }).click();

  await expect(ana.chatHeading('Project X')).toBeVisible();
  const made = (await chats(relay.url, token)).find((chat) => chat.name === 'Project X');
  expect(made).toMatchObject({ visibility: 'private', ephemeral_ttl_s: 7 * 24 * 3600 });
  await expect(page.getByText('Messages vanish after 7 days', { exact: true })).toBeVisible();
  const log = ana.log;
  await expect(log).toContainText('This is the very beginning of the private room Project X.');
  await expect(log).toContainText('Only members can see what is posted here');
  await expect(log).toContainText('Messages here vanish 7 days after they are sent.');
  await expect(log).not.toContainText(/everyone/i);
});

test('leaving a room asks first, naming it and saying how to come back', async ({
  people,
  relay,
}) => {
  const ana = await people.join('Ana');
  const { page } = ana;
  const { token } = await ana.session();
  const roomId = await createRoom(relay.url, token, 'Project X', 'private');
  await ana.openChat('Project X');

  const leaveButton = page.getByRole('button', { name: 'Leave room', exact: true });
  await leaveButton.click();
  const confirm = page.getByRole('dialog', { name: 'Leave Project X?' });
  await expect(confirm).toBeVisible();
  await expect(confirm).toContainText('you stop receiving its messages and notifications');
  await expect(confirm).toContainText('to come back, you need a new invite');
  // Cancel has the focus: Enter must not leave by accident.
  await expect(confirm.getByRole('button', { name: 'Cancel' })).toBeFocused();
  await saveScreen(page, 'leave-room');

  await page.keyboard.press('Escape');
  await expect(confirm).toBeHidden();
  await expect(ana.chatHeading('Project X')).toBeVisible();
  expect((await chats(relay.url, token)).map((chat) => chat.id)).toContain(roomId);

  await leaveButton.click();
  await confirm.getByRole('button', { name: 'Leave room' }).click();
  await expect(ana.chatHeading('general')).toBeVisible();
  await expect(ana.chatEntry('Project X')).toHaveCount(0);
  expect((await chats(relay.url, token)).map((chat) => chat.id)).not.toContain(roomId);
});

test("a sender's name opens their card; Message opens the DM; a DM hit names them once", async ({
  people,
}) => {
  const ana = await people.join('Ana');
  const ben = await people.join('Ben');
  const { page } = ana;
  await ana.send('Morning all, standup in 5');
  await ben.send('Hello from the other side 👋 coffee first ☕');

  const name = ana.message('Hello from the other side').getByRole('button', { name: 'Ben' });
  await name.click();
  const card = page.getByRole('dialog', { name: 'Ben' });
  await expect(card).toBeVisible();
  await expect(card).toContainText('Online');
  await expect(card.getByRole('button', { name: 'Message', exact: true })).toBeFocused();
  await saveScreen(page, 'profile-card');
  // Esc closes it and gives the focus back to the name.
  await page.keyboard.press('Escape');
  await expect(card).toBeHidden();
  await expect(name).toBeFocused();

  await name.click();
  await card.getByRole('button', { name: 'Message', exact: true }).click();
  await expect(ana.chatHeading('Ben')).toBeVisible();
  await expect(card).toBeHidden();
  await expect(ana.log).toContainText('Only the two of you can see these messages.');

  // Both write in the DM; a search finds both, and no hit says "Ben" twice.
  await ana.send('roadmap looks good');
  await ben.openChat('Ana');
  await ben.send('roadmap draft attached');
  await expect(ana.message('roadmap draft attached')).toBeVisible();
  await page.keyboard.press('Control+Shift+F');
  const search = page.getByRole('dialog', { name: 'Search messages' });
  await search.getByRole('searchbox', { name: 'Search messages' }).fill('roadmap');
  const hits = search.getByRole('listbox', { name: 'Results' }).getByRole('option');
  await expect(hits).toHaveCount(2);
  await expect(hits.filter({ hasText: 'draft attached' })).toContainText(
    /^\s*Direct message\s*Ben/,
  );
  await expect(hits.filter({ hasText: 'looks good' })).toContainText(
    /^\s*Direct message with Ben\s*You/,
  );
  for (const text of await hits.allTextContents()) expect(text.match(/Ben/g), text).toHaveLength(1);
});

test('"N here now" lists the members, online first, searchable; Message opens the DM', async ({
  people,
}) => {
  const ana = await people.join('Ana');
  await people.join('Ben');
  const cara = await people.join('Cara');
  const { page } = ana;
  // Cara goes away: still a member, now offline.
  await cara.context.close();

  const here = page.getByRole('button', { name: '2 here now', exact: true });
  await here.click();
  const dialog = page.getByRole('dialog', { name: 'Members of #general' });
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText('3 members · 2 online now');
  const rows = dialog.getByRole('list', { name: 'Members' }).getByRole('listitem');
  await expect(rows).toHaveText([/Ana \(you\)\s*Online$/, /Ben\s*Online$/, /Cara\s*Offline$/]);
  await expect(rows.nth(0).getByRole('button')).toHaveCount(0);
  await saveScreen(page, 'member-list');

  await dialog.getByRole('textbox', { name: 'Search members' }).fill('car');
  await expect(rows).toHaveText([/Cara\s*Offline$/]);
  await dialog.getByRole('textbox', { name: 'Search members' }).fill('zed');
  await expect(dialog.getByRole('status')).toHaveText('Nobody here matches “zed”.');
  await dialog.getByRole('textbox', { name: 'Search members' }).fill('');
  await dialog.getByRole('button', { name: 'Message Cara', exact: true }).click();
  await expect(ana.chatHeading('Cara')).toBeVisible();
  await expect(dialog).toBeHidden();
});
