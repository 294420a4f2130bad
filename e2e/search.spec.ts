/**
 * Message search in the browser, against a real relay: Ctrl+Shift+F finds words (as prefixes)
 * in the reader's chats only, newest first, marks the matching words and shows markup as text;
 * Enter on an old result opens its chat scrolled to that message (1,200 messages back, so
 * pages of history load first) and marks it; the chat header's button searches one chat.
 * The quick switcher shares the search dialog's keyboard handling, so it is driven here too.
 */
import { createRoom, createSession, mainRoomId, postMessage } from './support/api.js';
import { expect, test } from './support/fixtures.js';
import { saveScreen } from './support/ui.js';

const FILLER = 1_200;
const SEED_CONCURRENCY = 16;
const UNLIMITED = 1_000_000;
const OLD = 'the quarterly roadmap draft is ready for comments';
const MARKUP = '<b>roadmap</b> <img src=x onerror="document.title=1"> as text';
const NEW = 'Roadmap review moved to Friday';
const SECRET = 'roadmap of the layoffs';

test.use({
  relayOptions: {
    limits: { messagesPerSecond: UNLIMITED, messageBurst: UNLIMITED },
    durability: 'normal',
  },
});

test('finds messages in my chats and opens one far back in its chat', async ({ people, relay }) => {
  const ana = await people.join('Ana');
  const seeder = await createSession(relay.url, 'Seeder');
  const general = await mainRoomId(relay.url, seeder.token);
  const leads = await createRoom(relay.url, seeder.token, 'leads', 'private');
  await postMessage(relay.url, seeder.token, leads, SECRET, 'secret');
  await postMessage(relay.url, seeder.token, general, OLD, 'old');
  let next = 1;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      for (let n = next++; n <= FILLER; n = next++)
        await postMessage(relay.url, seeder.token, general, `filler ${n}`, `filler-${n}`);
    }),
  );
  await postMessage(relay.url, seeder.token, general, MARKUP, 'markup');
  await postMessage(relay.url, seeder.token, general, NEW, 'new');
  // 1,200 messages within about a second: the list can lose its place at the bottom and offer
  // "Jump to latest" instead of following (seen once in four full runs; noted in the closing
  // note, not fixed here). What this spec needs is every message arrived before searching.
  const jump = ana.page.getByRole('button', { name: 'Jump to latest' });
  await expect(ana.message(NEW).or(jump).first()).toBeVisible();
  if (await jump.isVisible()) await jump.click();
  await expect(ana.message(NEW)).toBeVisible();

  const page = ana.page;
  await page.keyboard.press('Control+Shift+F');
  const dialog = page.getByRole('dialog', { name: 'Search messages' });
  await expect(dialog).toBeVisible();
  await dialog.getByRole('searchbox', { name: 'Search messages' }).fill('ROADM');
  const results = dialog.getByRole('listbox', { name: 'Results' }).getByRole('option');
  await expect(results).toHaveCount(3);
  await expect(results.nth(0)).toContainText(NEW);
  await expect(results.nth(1)).toContainText(MARKUP);
  await expect(results.nth(2)).toContainText(OLD);
  await expect(dialog).not.toContainText('layoffs');
  await expect(results.nth(0).locator('mark')).toHaveText(['Roadmap']);
  await expect(results.nth(2).locator('mark')).toHaveText(['roadmap']);
  // Markup is text: no element was made from it, and its script did not run.
  await expect(dialog.locator('img, b')).toHaveCount(0);
  expect(await page.title()).not.toBe('1');
  await saveScreen(page, 'search-results');

  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(results.nth(2)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(ana.chatHeading('general')).toBeVisible();
  const focused = ana.log.locator('[aria-current="true"]');
  await expect(focused).toContainText(OLD);
  await expect(focused).toBeInViewport();
  await expect(ana.message(NEW)).not.toBeInViewport();
  await saveScreen(page, 'search-opened-result');

  // The header's search, scoped to this chat; no match says so.
  await page.getByRole('button', { name: 'Search messages' }).click();
  await expect(dialog).toBeVisible();
  await dialog.getByRole('radio', { name: 'In general' }).click();
  await expect(dialog.getByRole('radio', { name: 'In general' })).toBeChecked();
  const box = dialog.getByRole('searchbox', { name: 'Search messages' });
  await box.fill('friday');
  await expect(results).toHaveCount(1);
  await expect(results.first()).toContainText(NEW);
  await box.fill('zebra');
  await expect(dialog.getByRole('status')).toHaveText('No messages match “zebra” in general.');
  await expect(results).toHaveCount(0);
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
});

test('the quick switcher filters chats as one types; arrows move, Enter opens', async ({
  people,
  relay,
}) => {
  const ana = await people.join('Ana');
  const { token } = await ana.session();
  await createRoom(relay.url, token, 'design');
  await createRoom(relay.url, token, 'design-review');
  // Rooms made on another device (here: over the API) appear at once.
  await expect(ana.chatEntry('design-review')).toBeVisible();

  await ana.page.keyboard.press('Control+K');
  const dialog = ana.page.getByRole('dialog', { name: 'Quick switcher' });
  await dialog.getByRole('textbox', { name: 'Search chats' }).fill('desig');
  const options = dialog.getByRole('listbox', { name: 'Chats' }).getByRole('option');
  await expect(options).toHaveCount(2);
  await expect(options.nth(0)).toHaveAttribute('aria-selected', 'true');
  // Down from the last wraps to the first; up from the first to the last.
  await ana.page.keyboard.press('ArrowUp');
  await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
  const chosen = (await options.nth(1).textContent()) ?? '';
  await ana.page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expect(
    ana.chatHeading(chosen.includes('review') ? 'design-review' : 'design'),
  ).toBeVisible();
});
