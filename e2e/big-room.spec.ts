/**
 * A 10,000-message room: seeded over the HTTP API, joined from "Browse rooms". The newest
 * message shows first; scrolling up loads older history page by page until "message 1" is on
 * screen; the list stays virtualized (only a window of messages in the DOM). Asserts content,
 * never time. It also prints what the room costs in Chromium (time to first render, JS heap),
 * for the record only.
 */
import type { CDPSession, Locator, Page } from '@playwright/test';
import { createRoom, createSession, postMessage } from './support/api.js';
import { expect, test } from './support/fixtures.js';
import { saveScreen } from './support/ui.js';

const COUNT = 10_000;
const SEED_CONCURRENCY = 32;
const ROOM = 'town-square';
const UNLIMITED = 1_000_000;
/** Longest wait for a wheel step's effect before the next step. */
const STEP_MS = 2_000;

test.use({
  relayOptions: {
    // Seeding sends 10,000 messages as one user; the default rate limit would refuse them.
    limits: { messagesPerSecond: UNLIMITED, messageBurst: UNLIMITED },
    // No fsync per commit: durability is not what this spec is about, and seeding is 3x faster.
    durability: 'normal',
  },
});

/** Seeds "message 1" … "message N": the first and the last alone, so their seqs are 1 and N. */
async function seed(baseUrl: string): Promise<void> {
  const seeder = await createSession(baseUrl, 'Seeder');
  const roomId = await createRoom(baseUrl, seeder.token, ROOM);
  const send = (n: number): Promise<number> =>
    postMessage(baseUrl, seeder.token, roomId, `message ${n}`, `seed-${n}`);
  expect(await send(1)).toBe(1);
  let next = 2;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      for (let n = next++; n < COUNT; n = next++) await send(n);
    }),
  );
  expect(await send(COUNT)).toBe(COUNT);
}

/**
 * Milliseconds from the next click anywhere in the page to the first animation frame in which
 * the log shows an element whose whole text is `text`. Start it, then click.
 */
function timeClickToText(page: Page, text: string): Promise<number> {
  return page.evaluate(
    (needle) =>
      new Promise<number>((resolve, reject) => {
        let settled = false;
        setTimeout(() => {
          settled = true;
          reject(new Error(`"${needle}" not shown within 30 s of the click`));
        }, 30_000);
        let clickedAt = -1;
        document.addEventListener('click', () => (clickedAt = performance.now()), {
          capture: true,
          once: true,
        });
        const shown = (): boolean => {
          const log = document.querySelector('[role="log"]');
          if (log === null) return false;
          for (const el of log.querySelectorAll<HTMLElement>('*')) {
            if (el.childElementCount === 0 && el.textContent?.trim() === needle) {
              return el.getClientRects().length > 0;
            }
          }
          return false;
        };
        const frame = (): void => {
          if (settled) return;
          if (clickedAt >= 0 && shown()) {
            settled = true;
            resolve(performance.now() - clickedAt);
          } else requestAnimationFrame(frame);
        };
        requestAnimationFrame(frame);
      }),
    text,
  );
}

/** Waits two animation frames: whatever React committed has been laid out and painted. */
function nextPaint(page: Page): Promise<void> {
  return page.evaluate(
    () =>
      new Promise<void>((resolve) =>
        requestAnimationFrame(() => requestAnimationFrame(() => resolve())),
      ),
  );
}

/**
 * Scrolls the log with the mouse wheel until `target` is on screen. Each step waits for what
 * the scroll causes (a history page arriving, or the target showing), then for the next paint;
 * a step that caused nothing is simply followed by the next one.
 */
async function wheelUntilVisible(
  page: Page,
  target: Locator,
  deltaY: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let steps = 0;
  while (!(await target.isVisible())) {
    if (Date.now() > deadline) throw new Error(`not visible after ${steps} wheel steps`);
    steps += 1;
    // Either outcome ends the step; a step that times out is retried by the loop, not failed.
    const loaded = page
      .waitForResponse((res) => /\/messages\?(.*&)?before_seq=/.test(res.url()), {
        timeout: STEP_MS,
      })
      .catch(() => null);
    const shown = target.waitFor({ state: 'visible', timeout: STEP_MS }).catch(() => null);
    await page.mouse.wheel(0, deltaY);
    await Promise.race([loaded, shown]);
    await nextPaint(page);
  }
  return steps;
}

interface Memory {
  jsHeapUsedMB: number;
  jsHeapTotalMB: number;
  domNodes: number;
  performanceMemoryUsedMB: number | null;
}

/** JS heap after a forced GC, from CDP Performance.getMetrics, plus performance.memory. */
async function measureMemory(cdp: CDPSession, page: Page): Promise<Memory> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const metric = (name: string): number => metrics.find((m) => m.name === name)?.value ?? NaN;
  const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10;
  const used = await page.evaluate(() => {
    const memory = (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory;
    return memory?.usedJSHeapSize ?? null;
  });
  return {
    jsHeapUsedMB: mb(metric('JSHeapUsedSize')),
    jsHeapTotalMB: mb(metric('JSHeapTotalSize')),
    domNodes: metric('Nodes'),
    performanceMemoryUsedMB: used === null ? null : mb(used),
  };
}

test('a 10,000-message room opens at the newest message and scrolls back to the first', async ({
  relay,
  people,
}, testInfo) => {
  test.setTimeout(150_000);
  const seedStart = Date.now();
  await seed(relay.url);
  const seedMs = Date.now() - seedStart;

  const reader = await people.join('Reader');
  const cdp = await reader.context.newCDPSession(reader.page);
  await cdp.send('Performance.enable');
  const baseline = await measureMemory(cdp, reader.page);

  // Join the room from "Browse rooms" and time the first render of its newest message.
  await reader.page.getByRole('button', { name: 'Browse rooms', exact: true }).click();
  const dialog = reader.page.getByRole('dialog', { name: 'Browse rooms' });
  const join = dialog.getByRole('button', { name: `Join ${ROOM}`, exact: true });
  await expect(join).toBeVisible();
  const firstRender = timeClickToText(reader.page, `message ${COUNT}`);
  await join.click();
  const firstRenderMs = await firstRender;
  await expect(reader.chatHeading(ROOM)).toBeVisible();
  const newest = reader.log.getByText(`message ${COUNT}`, { exact: true });
  await expect(newest).toBeVisible();
  await expect(reader.message(`message ${COUNT}`)).toContainText('Seeder');
  const afterOpen = await measureMemory(cdp, reader.page);
  await saveScreen(reader.page, 'big-room-newest');

  // Scroll up, again and again, until the very first message is loaded and on screen.
  const oldest = reader.log.getByText('message 1', { exact: true });
  await reader.log.hover();
  const scrollStart = Date.now();
  const scrollSteps = await wheelUntilVisible(reader.page, oldest, -20_000, 120_000);
  const scrollMs = Date.now() - scrollStart;
  // Nothing above it: the first message element is message 1, by Seeder.
  const top = reader.messages.first();
  await expect(top.getByText('message 1', { exact: true })).toBeVisible();
  await expect(top).toContainText('Seeder');
  // Virtualized: the newest message left the DOM, and only a window of rows is rendered.
  await expect(newest).toHaveCount(0);
  expect(await reader.messages.count()).toBeLessThan(500);
  await saveScreen(reader.page, 'big-room-oldest');
  const afterAll = await measureMemory(cdp, reader.page);

  // And back down to the newest.
  await wheelUntilVisible(reader.page, newest, 1_000_000, 60_000);
  await expect(oldest).toHaveCount(0);

  // Open it again from the sidebar, all 10,000 messages now in memory.
  await reader.openChat('general');
  const reopen = timeClickToText(reader.page, `message ${COUNT}`);
  await reader.chatEntry(ROOM).click();
  const reopenMs = await reopen;
  await expect(newest).toBeVisible();

  const figures = {
    messages: COUNT,
    seedMs,
    firstRenderMs: Math.round(firstRenderMs),
    reopenMs: Math.round(reopenMs),
    scrollToFirstMs: scrollMs,
    scrollSteps,
    heap: { baseline, afterOpen, afterAllLoaded: afterAll },
  };
  console.log(
    [
      `10k room: first render ${figures.firstRenderMs} ms (click "Join ${ROOM}" → newest message painted); ` +
        `reopened from the sidebar with all ${COUNT} loaded: ${figures.reopenMs} ms`,
      `10k room: JS heap used ${baseline.jsHeapUsedMB} MB before, ${afterOpen.jsHeapUsedMB} MB after open, ` +
        `${afterAll.jsHeapUsedMB} MB with all ${COUNT} loaded (total ${afterAll.jsHeapTotalMB} MB; ` +
        `performance.memory ${String(afterAll.performanceMemoryUsedMB)} MB); DOM nodes ${afterAll.domNodes}`,
      `10k room: seeding ${seedMs} ms over HTTP, scrolling to message 1 took ${scrollMs} ms in ${scrollSteps} wheel steps (not asserted)`,
    ].join('\n'),
  );
  await testInfo.attach('big-room-figures.json', {
    body: JSON.stringify(figures, null, 2),
    contentType: 'application/json',
  });
});
