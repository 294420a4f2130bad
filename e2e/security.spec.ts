/**
 * Message text is text, never HTML: markup in a message renders literally, creates no element,
 * runs no script, and a javascript: URL never becomes a link, for the sender, for the
 * receiver (live), and after a reload (history). A real https link is the control: link
 * detection is on, so "no javascript: anchor" is not true by accident.
 */
import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures.js';
import type { ChatUser } from './support/ui.js';

const HOSTILE = [
  '<img src=x onerror="window.__pwned=1">',
  '<script>window.__pwned=1</script>',
  'click javascript:alert(1) or [here](javascript:alert(1)) or <a href="javascript:alert(1)">this</a>',
  '<svg onload="window.__pwned=1"></svg><iframe src="javascript:window.__pwned=1"></iframe>',
] as const;
const CONTROL = 'the guide is at https://example.com/guide';

declare global {
  interface Window {
    __pwned?: unknown;
  }
}

function pwned(page: Page): Promise<unknown> {
  return page.evaluate(() => window.__pwned);
}

async function expectInert(user: ChatUser): Promise<void> {
  const { log, page } = user;
  for (const text of HOSTILE) await expect(log.getByText(text, { exact: true })).toBeVisible();
  await expect(log.locator('img[src="x"], script, svg[onload], iframe')).toHaveCount(0);
  // No element in the log carries an event-handler attribute.
  const handlers = await log.evaluate((root) =>
    [...root.querySelectorAll('*')].flatMap((el) =>
      [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name),
    ),
  );
  expect(handlers).toEqual([]);
  await expect(page.locator('a[href^="javascript:" i], a[href*="javascript:" i]')).toHaveCount(0);
  expect(await pwned(page)).toBeUndefined();

  // The control: a real link, opened externally and without a referrer or opener.
  const link = log.getByRole('link', { name: 'https://example.com/guide' });
  await expect(link).toHaveAttribute('href', 'https://example.com/guide');
  await expect(link).toHaveAttribute('target', '_blank');
  await expect(link).toHaveAttribute('rel', /noopener/);
  await expect(link).toHaveAttribute('rel', /noreferrer/);
}

test('markup and javascript: URLs in messages render as inert text @hostile', async ({
  people,
}) => {
  const mallory = await people.join('Mallory');
  const ana = await people.join('Ana');

  for (const text of [...HOSTILE, CONTROL]) await mallory.send(text);
  await expect(ana.message(CONTROL)).toBeVisible();
  for (const text of HOSTILE) {
    await expect(mallory.message(text)).toHaveAttribute('data-status', 'sent');
  }

  await expectInert(mallory);
  await expectInert(ana);

  // From history, after a reload.
  await ana.page.reload();
  await expect(ana.message(CONTROL)).toBeVisible();
  await expectInert(ana);
});
