/**
 * Ben closes his browser; Ana writes to him and to the room. When Ben comes back he gets the
 * pending notifications (Web Notification API), sees unread counts, and they clear when he
 * opens the chats, on screen and at the relay. While he reads the DM, a new room message counts
 * as unread live and notifies him.
 */
import { chats } from './support/api.js';
import { expect, test } from './support/fixtures.js';
import { notificationsShown } from './support/notifications.js';
import { saveScreen } from './support/ui.js';

const MISSED_DM = ['are you around later?', 'ping me when you are back'] as const;
const MISSED_ROOM = 'lunch at noon, anyone?';

test('a user who was offline gets pending notifications and unread counts', async ({
  relay,
  people,
}) => {
  const benFirst = await people.join('Ben');
  const benState = await benFirst.context.storageState();
  const { token: benToken } = await benFirst.session();
  await benFirst.context.close();

  const ana = await people.join('Ana');
  await ana.send(MISSED_ROOM);
  await ana.startDm('Ben');
  for (const text of MISSED_DM) await ana.send(text);
  for (const text of MISSED_DM) {
    await expect(ana.message(text)).toHaveAttribute('data-status', 'sent');
  }

  // Ben opens Parley again: same browser profile (saved session), notifications allowed.
  const ben = await people.open('Ben', benState);
  await expect(ben.chatNav).toBeVisible();

  await expect
    .poll(async () => (await notificationsShown(ben.page)).length, {
      message: 'pending notifications shown',
    })
    .toBeGreaterThan(0);
  const shown = await notificationsShown(ben.page);
  const text = shown.map((n) => `${n.title}\n${n.body}`).join('\n');
  const missed = [...MISSED_DM, MISSED_ROOM];
  // One notification per message, or one summary naming the count and the chats.
  const perMessage = missed.every((m) => text.includes(m));
  const summary = text.includes(`${missed.length} new messages`) && text.includes('Ana');
  expect(perMessage || summary, `notifications shown:\n${text}`).toBe(true);
  expect(shown.length, 'never more than one notification per missed message').toBeLessThanOrEqual(
    missed.length,
  );

  // Unread counts: the DM shows 2 until Ben opens it.
  await expect(ben.unreadBadge('Ana', 2)).toBeVisible();
  await saveScreen(ben.page, 'unread');
  await ben.openChat('Ana');
  for (const text of MISSED_DM) await expect(ben.message(text)).toBeVisible();
  await expect(ben.unreadBadge('Ana')).toHaveCount(0);
  // The read marker reached the relay, not just the screen.
  await expect
    .poll(async () => {
      const mine = await chats(relay.url, benToken);
      return mine.filter((c) => c.kind === 'dm').map((c) => c.unread_count);
    })
    .toEqual([0]);

  // Live: a room message while Ben reads the DM counts as unread and notifies him.
  const before = (await notificationsShown(ben.page)).length;
  await ana.openChat('general');
  await ana.send('one more thing: bring snacks');
  await expect(ben.unreadBadge('general', 1)).toBeVisible();
  await expect
    .poll(async () => (await notificationsShown(ben.page)).slice(before).map((n) => n.body))
    .toEqual(['one more thing: bring snacks']);
  await ben.openChat('general');
  await expect(ben.message('one more thing: bring snacks')).toBeVisible();
  await expect(ben.unreadBadge('general')).toHaveCount(0);
  await expect(ben.unreadBadge('Ana')).toHaveCount(0);
});
