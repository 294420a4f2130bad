/**
 * The workspace at 400, 768 and 1600 px. Below 700 px the sidebar is a drawer: the messages get
 * the whole width; "Open sidebar" and a drag from the left edge open it, Escape, the scrim and
 * choosing a chat close it, and focus goes into it and back. At every width the chat header is
 * one row and nothing overflows the window sideways; dialogs fit at 400 px. Screenshots of each
 * width go to docs/.
 */
import { join } from 'node:path';
import type { Locator, Page } from '@playwright/test';
import { expect, test } from './support/fixtures.js';
import { REPO_ROOT } from './support/relay-process.js';
import type { ChatUser } from './support/ui.js';

const HEIGHT = 800;
/** The longest room name the relay allows is 80; this one cannot fit a 400 px header. */
const LONG_ROOM = 'quarterly-planning-and-budget-review-for-the-northern-region-2027';

async function docScreenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(REPO_ROOT, 'docs', `screenshot-${name}.png`) });
}

/** Nothing is wider than the window: no sideways scrolling anywhere on the page. */
async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  expect(scrollWidth).toBeLessThanOrEqual(innerWidth);
}

/**
 * The chat header is one row: the title heading is exactly one line high (it truncates rather
 * than wraps), every button in the header sits on the same row as the title, and the header
 * fits the window.
 */
async function expectOneLineHeader(user: ChatUser, title: string): Promise<void> {
  const heading = user.chatHeading(title);
  const header = heading.locator('xpath=ancestor::header[1]');
  const { headingHeight, lineHeight } = await heading.evaluate((el) => ({
    headingHeight: el.getBoundingClientRect().height,
    lineHeight: parseFloat(getComputedStyle(el).lineHeight),
  }));
  expect(headingHeight).toBeCloseTo(lineHeight, 0);
  const head = await box(header);
  expect(head.x).toBeGreaterThanOrEqual(0);
  expect(head.x + head.width).toBeLessThanOrEqual(user.page.viewportSize()?.width ?? 0);
  const headingBox = await box(heading);
  for (const button of await header.getByRole('button').all()) {
    const b = await box(button);
    // On the heading's row: its vertical middle within the heading's line box (or the row of
    // the meta line below it, for "N here now").
    expect(b.y).toBeGreaterThanOrEqual(head.y);
    expect(b.y + b.height).toBeLessThanOrEqual(head.y + head.height);
    expect(b.x + b.width).toBeLessThanOrEqual(head.x + head.width);
    if (b.x > headingBox.x + headingBox.width || b.x + b.width < headingBox.x) {
      expect(Math.abs(b.y + b.height / 2 - (head.y + head.height / 2))).toBeLessThan(6);
    }
  }
}

async function box(
  locator: Locator,
): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await locator.boundingBox();
  if (b === null) throw new Error(`no box for ${locator.toString()}`);
  return b;
}

/** A touch drag from (x0, y) to (x1, y), as a finger would make it (Chromium touch input). */
async function touchDrag(page: Page, x0: number, x1: number, y: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  const point = (x: number) => [{ x, y, id: 1, radiusX: 4, radiusY: 4, force: 1 }];
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: point(x0) });
  const steps = 8;
  for (let i = 1; i <= steps; i++) {
    const x = x0 + ((x1 - x0) * i) / steps;
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: point(x) });
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

/** Ana and Ben, a few messages in the main room and their DM, Ana in the main room. */
async function seed(people: { join(name: string): Promise<ChatUser> }): Promise<{
  ana: ChatUser;
  general: string;
}> {
  const ana = await people.join('Ana');
  const ben = await people.join('Ben');
  const general = (await ana.page.getByRole('heading', { level: 1 }).textContent()) ?? '';
  await ana.send('Morning! Are we still on for the planning review at 10?');
  await ben.send('Yes, I booked the small room. Bring the Q3 numbers if you have them.');
  await ana.send('Will do. I will also bring the draft for the hiring plan.');
  await ana.startDm('Ben');
  await ana.send('Quick one before the review: can you check the budget line for travel?');
  await ana.openChat(general);
  await expect(ana.message('hiring plan')).toBeVisible();
  return { ana, general };
}

test('400 px: the sidebar is a drawer; the messages get the width', async ({ people }) => {
  const { ana, general } = await seed(people);
  const { page } = ana;
  // Deterministic screenshots, and the drawer must work without motion.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  await page.setViewportSize({ width: 400, height: HEIGHT });

  // The messages get (nearly) all of the 400 px; the sidebar is off-screen and hidden.
  await expect(ana.chatNav).toBeHidden();
  const log = await box(ana.log);
  expect(log.width).toBeGreaterThanOrEqual(0.9 * 400);
  expect(log.x + log.width).toBeLessThanOrEqual(400);
  await expectOneLineHeader(ana, general);
  await expectNoHorizontalOverflow(page);
  await docScreenshot(page, 'narrow-400');

  // The header button opens the drawer; focus moves to the open chat's entry.
  const toggle = page.getByRole('button', { name: 'Open sidebar' });
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await toggle.click();
  const drawer = page.getByRole('dialog', { name: 'Sidebar' });
  await expect(drawer).toBeVisible();
  await expect(ana.chatNav).toBeVisible();
  await expect(ana.chatEntry(general)).toBeFocused();
  await expect(toggle).toHaveAttribute('aria-expanded', 'true');
  const drawerBox = await box(drawer);
  expect(drawerBox.x).toBe(0);
  expect(drawerBox.width).toBeLessThan(400);
  await expectNoHorizontalOverflow(page);
  await docScreenshot(page, 'drawer-400');

  // Escape closes it and gives focus back to the button.
  await page.keyboard.press('Escape');
  await expect(drawer).toBeHidden();
  await expect(ana.chatNav).toBeHidden();
  await expect(toggle).toBeFocused();

  // A tap on the scrim (the messages' side, right of the drawer) closes it.
  await toggle.click();
  await expect(drawer).toBeVisible();
  await page.mouse.click(390, HEIGHT / 2);
  await expect(drawer).toBeHidden();

  // A drag from the left edge opens it; a drag to the left closes it.
  await touchDrag(page, 3, 220, HEIGHT / 2);
  await expect(drawer).toBeVisible();
  await touchDrag(page, 250, 40, HEIGHT / 2);
  await expect(drawer).toBeHidden();
  // A drag that starts away from the edge does not open it (a mouse here: a finger's rightward
  // drag there is the browser's own swipe back, which this Chromium starts for synthetic
  // touches whatever the page's overscroll-behavior says).
  await page.mouse.move(120, 300);
  await page.mouse.down();
  await page.mouse.move(330, 305, { steps: 6 });
  await page.mouse.up();
  await expect(drawer).toBeHidden();
  expect(page.url()).toMatch(/^http/);
  // From the edge, a mouse drag opens it too (mouse and pen use pointer events).
  await page.mouse.move(2, 300);
  await page.mouse.down();
  await page.mouse.move(200, 305, { steps: 6 });
  await page.mouse.up();
  await expect(drawer).toBeVisible();

  // Choosing a chat closes it and opens the chat, composer focused.
  await ana.chatEntry('Ben').click();
  await expect(drawer).toBeHidden();
  await expect(ana.chatHeading('Ben')).toBeVisible();
  await expect(ana.composer).toBeFocused();
  await expect(ana.message('budget line for travel')).toBeVisible();

  // Dialogs fit at 400 px: a new room from the drawer, with a name too long for the header.
  await toggle.click();
  await drawer.getByRole('button', { name: 'New room', exact: true }).click();
  const newRoom = page.getByRole('dialog', { name: 'New room' });
  await expect(newRoom).toBeVisible();
  const dialogBox = await box(newRoom);
  expect(dialogBox.x).toBeGreaterThanOrEqual(0);
  expect(dialogBox.x + dialogBox.width).toBeLessThanOrEqual(400);
  expect(dialogBox.y + dialogBox.height).toBeLessThanOrEqual(HEIGHT);
  await expectNoHorizontalOverflow(page);
  await newRoom.getByRole('textbox', { name: 'Room name' }).fill(LONG_ROOM);
  await newRoom.getByRole('button', { name: 'Create' }).click();
  await expect(newRoom).toBeHidden();
  await expect(ana.chatHeading(LONG_ROOM)).toBeVisible();
  await expect(drawer).toBeHidden();

  // The long title truncates; the header stays one row with all its buttons.
  const titleClipped = await ana
    .chatHeading(LONG_ROOM)
    .evaluate((el) => [...el.querySelectorAll('span')].some((s) => s.scrollWidth > s.clientWidth));
  expect(titleClipped).toBe(true);
  await expectOneLineHeader(ana, LONG_ROOM);
  await expect(page.getByRole('button', { name: 'Search messages' })).toBeVisible();
  await expectNoHorizontalOverflow(page);

  for (const [keys, name] of [
    ['Control+K', 'Quick switcher'],
    ['Control+Shift+F', 'Search messages'],
  ] as const) {
    await page.keyboard.press(keys);
    const dialog = page.getByRole('dialog', { name });
    await expect(dialog).toBeVisible();
    const b = await box(dialog);
    expect(b.x).toBeGreaterThanOrEqual(0);
    expect(b.x + b.width).toBeLessThanOrEqual(400);
    await expectNoHorizontalOverflow(page);
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
  }

  // Widening the window puts the sidebar back beside the messages.
  await page.setViewportSize({ width: 1000, height: HEIGHT });
  await expect(ana.chatNav).toBeVisible();
  await expect(toggle).toHaveCount(0);
  await expect(drawer).toHaveCount(0);
});

for (const width of [768, 1600]) {
  test(`${width} px: the sidebar is beside the messages`, async ({ people }) => {
    const { ana, general } = await seed(people);
    const { page } = ana;
    await page.setViewportSize({ width, height: HEIGHT });
    await expect(ana.chatNav).toBeVisible();
    await expect(page.getByRole('button', { name: 'Open sidebar' })).toHaveCount(0);
    const nav = await box(ana.chatNav);
    const log = await box(ana.log);
    expect(nav.x).toBeLessThan(log.x);
    expect(log.x).toBeGreaterThanOrEqual(nav.x + nav.width);
    expect(log.x + log.width).toBeLessThanOrEqual(width);
    // The messages still get most of the window.
    expect(log.width).toBeGreaterThanOrEqual(width - 300);
    await expectOneLineHeader(ana, general);
    await expectNoHorizontalOverflow(page);
    await docScreenshot(page, String(width));
  });
}
