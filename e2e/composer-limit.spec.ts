/**
 * The composer never loses text and never sends what the relay must refuse: a counter from 90 %
 * of the relay's limit (8,000 UTF-16 units, relay/protocol/message-content.ts), over it the Send
 * button is disabled and Enter says why while the text stays; drafts survive switching chats and
 * a reload; a message the relay refuses for good (here a relay configured with a lower limit)
 * offers Edit and Delete, never a Retry that cannot succeed.
 */
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { DEFAULT_MAX_MESSAGE_CHARS } from '../relay/protocol/message-content.js';
import { history, mainRoomId } from './support/api.js';
import { expect, test } from './support/fixtures.js';
import { REPO_ROOT } from './support/relay-process.js';
import { saveScreen, type ChatUser } from './support/ui.js';

const SENTENCE =
  'The quarterly plan needs one more pass before Friday: budgets, hiring, the launch dates and who owns the rollout. ';

/** Readable text of exactly `length` UTF-16 units (no trailing whitespace). */
function prose(length: number): string {
  const text = SENTENCE.repeat(Math.ceil(length / SENTENCE.length) + 1).slice(0, length);
  return `${text.slice(0, -1)}.`;
}

/** Pastes text into the focused element, as Ctrl+V would (one input event). */
async function paste(page: Page, text: string): Promise<void> {
  await page.keyboard.insertText(text);
}

function counter(user: ChatUser) {
  return user.page.getByText(/^Length: [\d,]+ \/ 8,000$/);
}

test('over 8,000 characters: counter, refused before sending, text kept', async ({
  relay,
  people,
}) => {
  expect(DEFAULT_MAX_MESSAGE_CHARS).toBe(8_000);
  const ana = await people.join('Ana');
  await ana.send('hello before the long one');
  const send = ana.page.getByRole('button', { name: 'Send', exact: true });

  // Below 90 %: no counter. At 7,200: "7,200 / 8,000", announced politely once typing pauses.
  await ana.composer.fill(prose(7_199));
  await expect(counter(ana)).toHaveCount(0);
  await ana.composer.press('End');
  await ana.page.keyboard.type('x');
  await expect(counter(ana)).toHaveText('Length: 7,200 / 8,000');
  const announcement = ana.page.getByRole('status', { name: 'Message length' });
  await expect(announcement).toHaveText('800 characters left.');
  await expect(announcement).toHaveAttribute('aria-live', 'polite');
  await expect(send).toBeEnabled();

  // Pasting 8,500 characters: over the limit, in the error state, Send disabled.
  const long = prose(8_500);
  await ana.composer.fill('');
  await ana.composer.focus();
  await paste(ana.page, long);
  await expect(ana.composer).toHaveValue(long);
  await expect(counter(ana)).toHaveText('Length: 8,500 / 8,000');
  await expect(ana.composer).toHaveAttribute('aria-invalid', 'true');
  await expect(send).toBeDisabled();
  await expect(announcement).toHaveText(
    '500 characters over the limit of 8,000. The message cannot be sent.',
  );

  // Enter does not send; it says why, and the text stays.
  await ana.composer.press('Enter');
  const reason = ana.page.getByRole('alert').filter({ hasText: 'too long' });
  await expect(reason).toHaveText(
    'Not sent: the message is 500 characters too long. Messages are at most 8,000 characters; shorten it or split it into several messages. Your text is kept here.',
  );
  await expect(ana.composer).toHaveValue(long);
  await send.click({ force: true });
  await expect(ana.composer).toHaveValue(long);
  await expect(ana.messages).toHaveCount(1);
  await saveScreen(ana.page, 'composer-limit');
  await ana.page.screenshot({ path: join(REPO_ROOT, 'docs', 'screenshot-composer-limit.png') });

  // Trailing whitespace is not sent, so it does not count; exactly 8,000 sends.
  await ana.composer.fill(`${long.slice(0, 8_000)}\n  `);
  await expect(counter(ana)).toHaveText('Length: 8,000 / 8,000');
  await expect(reason).toBeHidden();
  await expect(send).toBeEnabled();
  await ana.composer.press('Enter');
  await expect(ana.composer).toHaveValue('');
  await expect(counter(ana)).toHaveCount(0);
  await expect(ana.message(long.slice(7_950, 8_000))).toHaveAttribute('data-status', 'sent');

  const { token } = await ana.session();
  const stored = await history(relay.url, token, await mainRoomId(relay.url, token));
  expect(stored.map((m) => m.content.length)).toEqual(['hello before the long one'.length, 8_000]);
});

test('drafts survive switching chats and a reload', async ({ people }) => {
  const ana = await people.join('Ana');
  await people.join('Ben');
  const general = (await ana.page.getByRole('heading', { level: 1 }).textContent()) ?? '';

  const roomDraft = prose(8_300);
  await ana.composer.fill(roomDraft);
  await ana.startDm('Ben');
  await expect(ana.composer).toHaveValue('');
  await ana.composer.fill('a note for Ben, not sent yet');

  await ana.openChat(general);
  await expect(ana.composer).toHaveValue(roomDraft);
  await expect(counter(ana)).toHaveText('Length: 8,300 / 8,000');

  await ana.page.reload();
  await expect(ana.chatNav).toBeVisible();
  await ana.openChat(general);
  await expect(ana.composer).toHaveValue(roomDraft);
  await ana.openChat('Ben');
  await expect(ana.composer).toHaveValue('a note for Ben, not sent yet');

  // Sending clears the draft for good, also across a reload.
  await ana.composer.press('Enter');
  await expect(ana.message('a note for Ben')).toHaveAttribute('data-status', 'sent');
  await ana.page.reload();
  await expect(ana.chatNav).toBeVisible();
  await ana.openChat('Ben');
  await expect(ana.composer).toHaveValue('');
});

test.describe('a relay with a lower limit than the client knows', () => {
  test.use({ relayOptions: { limits: { maxMessageChars: 4_000 } } });

  test('a permanent refusal offers Edit and Delete, not Retry', async ({ people }) => {
    const ana = await people.join('Ana');
    const text = prose(5_000);
    await ana.composer.fill(text);
    await ana.composer.press('Enter');
    await expect(ana.composer).toHaveValue('');

    const failed = ana.message(text.slice(0, 60));
    await expect(failed).toHaveAttribute('data-status', 'failed');
    await expect(failed).toContainText('Failed');
    await expect(failed).toContainText('messages are at most 4000 characters');
    await expect(failed.getByRole('button', { name: 'Retry' })).toHaveCount(0);
    await expect(failed.getByRole('button', { name: 'Delete' })).toBeVisible();

    // Edit: the text is back in the composer (after anything typed since), focused.
    await ana.composer.fill('typed meanwhile');
    await failed.getByRole('button', { name: 'Edit' }).click();
    await expect(ana.composer).toHaveValue(`typed meanwhile\n\n${text}`);
    await expect(ana.composer).toBeFocused();
    await expect(failed).toHaveCount(0);

    // Shortened to fit, it goes through.
    await ana.composer.fill(text.slice(0, 3_999));
    await ana.composer.press('Enter');
    await expect(ana.message(text.slice(3_900, 3_999))).toHaveAttribute('data-status', 'sent');

    // Delete removes a refused message.
    const again = `Second try. ${text}`;
    await ana.composer.fill(again);
    await ana.composer.press('Enter');
    const refused = ana.message('Second try.');
    await expect(refused).toHaveAttribute('data-status', 'failed');
    await refused.getByRole('button', { name: 'Delete' }).click();
    await expect(refused).toHaveCount(0);
    await expect(ana.composer).toHaveValue('');
  });
});
