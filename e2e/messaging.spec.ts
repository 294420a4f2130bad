/**
 * Two people in two browsers talk in the main room and in a DM started with "New message".
 * Proves: sign-in through the served page, live delivery both ways, the sender's own message
 * turning sent, a first DM appearing in the other person's sidebar, and DM privacy in the room.
 */
import { expect, test } from './support/fixtures.js';
import { saveScreen } from './support/ui.js';

test('two users exchange room messages and direct messages', async ({ people }) => {
  const ana = await people.join('Ana');
  const ben = await people.join('Ben');

  // The main room opens first for everyone.
  await expect(ana.chatHeading('general')).toBeVisible();
  await expect(ben.chatHeading('general')).toBeVisible();

  await ana.send('Morning all, standup in 5');
  await expect(ana.message('Morning all, standup in 5')).toHaveAttribute('data-status', 'sent');
  const atBen = ben.message('Morning all, standup in 5');
  await expect(atBen).toHaveCount(1);
  await expect(atBen).toContainText('Ana');

  await ben.send('On my way');
  await expect(ana.message('On my way')).toContainText('Ben');
  expect(await ana.orderOf(['Morning all', 'On my way'])).toEqual(['Morning all', 'On my way']);
  expect(await ben.orderOf(['Morning all', 'On my way'])).toEqual(['Morning all', 'On my way']);
  await saveScreen(ana.page, 'room');

  // A DM: "New message" → pick Ben.
  await ana.startDm('Ben');
  await ana.send('Can you review my PR before lunch?');
  await expect(ana.message('Can you review my PR')).toHaveAttribute('data-status', 'sent');

  // Ben was never in this chat: it appears in his sidebar, named after Ana.
  await ben.openChat('Ana');
  await expect(ben.message('Can you review my PR')).toContainText('Ana');
  await ben.send('Sure, send the link');
  await expect(ana.message('Sure, send the link')).toContainText('Ben');
  await saveScreen(ana.page, 'dm');

  // The DM stays out of the room.
  await ben.openChat('general');
  await expect(ben.message('On my way')).toBeVisible();
  await expect(ben.message('Can you review my PR')).toHaveCount(0);
  await expect(ben.message('Sure, send the link')).toHaveCount(0);
});
