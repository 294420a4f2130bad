/**
 * History survives a page reload: the session is remembered (no connect screen), and the
 * messages come back from the relay in order, each once, as sent.
 */
import { expect, test } from './support/fixtures.js';

const LINES = ['agenda: release notes', 'agenda: on-call rota', 'agenda: retro'] as const;

test('history survives a page reload', async ({ people }) => {
  const ana = await people.join('Ana');
  const ben = await people.join('Ben');
  for (const line of LINES) await ana.send(line);
  await ben.send('added one: budget');
  await expect(ana.message('added one: budget')).toBeVisible();
  const expected = [...LINES, 'added one: budget'];
  expect(await ana.orderOf(expected)).toEqual(expected);

  for (const user of [ana, ben]) {
    await user.page.reload();
    // Signed in still: straight to the chats, never the connect screen.
    await expect(user.chatNav).toBeVisible();
    await expect(user.page.getByRole('button', { name: 'Join', exact: true })).toHaveCount(0);
    await expect(user.chatHeading('general')).toBeVisible();
    await expect(user.message('added one: budget')).toBeVisible();
    expect(await user.orderOf(expected)).toEqual(expected);
    for (const line of expected) await expect(user.message(line)).toHaveCount(1);
  }
  for (const line of LINES) {
    await expect(ana.message(line)).toHaveAttribute('data-status', 'sent');
  }
  await expect(ana.message('added one: budget')).toContainText('Ben');

  // Still live after the reload, both ways.
  await ben.send('see you at 10');
  await expect(ana.message('see you at 10')).toBeVisible();
  await ana.send('👍');
  await expect(ben.message('👍')).toBeVisible();
});
