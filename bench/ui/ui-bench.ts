/**
 * The UI scenario: two rooms of `messages` messages each, opened in Debian's Chromium through
 * the web client the relay serves. Measures, inside the page (so no automation round trip is
 * counted): time from clicking a room to its newest message on screen (first open and later
 * switches), frames dropped while scrolling from the newest message towards the oldest, and the
 * JS heap (CDP Performance.getMetrics).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type ElementHandle, type Page } from 'playwright-core';
import { RELAY_CLI } from '../../relay/testing/relay-process.js';
import { markerContent } from '../generator/marker.js';
import type { UiResult } from '../results.js';
import { ROOT, spawnServer } from '../spawn.js';
import { parleyArgs, PendingError } from '../targets.js';
import { createRoom, joinRoom, sendMany, signIn } from './seed.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface UiOptions {
  messages: number;
  log: (message: string) => void;
  /** Longest time spent scrolling up through one room. */
  scrollMs?: number;
}

const SENTENCES = [
  'Morning! Is the build green again?',
  'I pushed the fix for the login redirect, can someone review it before lunch?',
  'Meeting moved to 3pm.',
  'Here is the doc: https://example.com/specs/roadmap-2027 (comments welcome)',
  '@viewer could you take a look at the numbers when you have a minute? No rush, but it would help us decide by Friday which way to go with the storage layer.',
  'ok',
  'Lunch?',
  'The deploy went fine; dashboards look normal. I will keep an eye on error rates for the next hour.',
];

function content(room: number, index: number, total: number): string {
  return `${markerContent(room * total + index)} ${SENTENCES[index % SENTENCES.length] ?? ''}`;
}

/** Builds the web client into dist/renderer; a missing or failing build means the UI is pending. */
function buildWeb(log: (message: string) => void): string {
  if (!existsSync(join(ROOT, 'renderer/src/main.tsx'))) {
    throw new PendingError('UI pending: renderer/src/main.tsx does not exist yet');
  }
  log('building the web client (npm run build:web)');
  const build = spawnSync('npm', ['run', '--silent', 'build:web'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) {
    throw new PendingError(
      `UI pending: npm run build:web failed: ${(build.stderr || build.stdout).trim().split('\n').slice(-3).join(' ')}`,
    );
  }
  return join(ROOT, 'dist/renderer');
}

/** Clicks `entry` inside the page and resolves with the ms until `marker` is painted in the message log. */
function timeOpen(page: Page, entry: ElementHandle, marker: string): Promise<number> {
  return page.evaluate(
    ([element, text]) =>
      new Promise<number>((resolve, reject) => {
        const started = performance.now();
        (element as HTMLElement).click();
        const check = (): void => {
          const log = document.querySelector('[role="log"][aria-label="Messages"]');
          if (log?.textContent?.includes(text) === true) {
            // The next frame callback runs after the frame that showed it was produced.
            requestAnimationFrame(() => resolve(performance.now() - started));
          } else if (performance.now() - started > 30_000)
            reject(new Error(`${text} never showed`));
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      }),
    [entry, marker] as const,
  );
}

interface ScrollStats {
  frames: number;
  dropped: number;
  oldestSeen: number;
}

/** Scrolls the message log up 600 px per frame for at most `maxMs` or until `oldest` shows. */
function scrollUp(page: Page, oldest: number, maxMs: number): Promise<ScrollStats> {
  return page.evaluate(
    ([stopAt, limit]) =>
      new Promise<ScrollStats>((resolve) => {
        const log = document.querySelector('[role="log"][aria-label="Messages"]');
        if (log === null) throw new Error('no message log');
        const deltas: number[] = [];
        const started = performance.now();
        let last = started;
        let oldestSeen = Number.POSITIVE_INFINITY;
        const step = (now: number): void => {
          deltas.push(now - last);
          last = now;
          log.scrollTop = Math.max(0, log.scrollTop - 600);
          if (deltas.length % 10 === 0) {
            for (const match of (log.textContent ?? '').matchAll(/bm:(\d+);/g)) {
              oldestSeen = Math.min(oldestSeen, Number(match[1]));
            }
          }
          if (oldestSeen > stopAt && now - started < limit) {
            requestAnimationFrame(step);
            return;
          }
          deltas.shift();
          const sorted = [...deltas].sort((a, b) => a - b);
          const interval = Math.max(1, sorted[Math.floor(sorted.length / 2)] ?? 16.7);
          const dropped = deltas.reduce(
            (sum, d) => sum + Math.max(0, Math.round(d / interval) - 1),
            0,
          );
          resolve({ frames: deltas.length, dropped, oldestSeen });
        };
        requestAnimationFrame(step);
      }),
    [oldest, maxMs] as const,
  );
}

export async function runUiScenario(options: UiOptions): Promise<UiResult> {
  const { messages, log } = options;
  if (!existsSync(CHROMIUM))
    throw new PendingError('UI pending: no Chromium (apt-get install chromium)');
  const webDir = buildWeb(log);
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-ui-'));
  const relay = await spawnServer({
    script: RELAY_CLI,
    args: [...parleyArgs(dataDir), '--web', webDir],
    ready: (entry) =>
      entry.msg === 'relay listening' && typeof entry.port === 'number' ? entry.port : null,
  });
  const httpUrl = `http://127.0.0.1:${relay.port}`;
  const socketUrl = `ws://127.0.0.1:${relay.port}/socket/websocket`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const seeder = await signIn(httpUrl, 'Seeder');
    const viewer = await signIn(httpUrl, 'Viewer');
    const names = ['Bench A', 'Bench B'];
    const rooms: string[] = [];
    for (const [r, name] of names.entries()) {
      const id = await createRoom(httpUrl, seeder, name);
      await joinRoom(httpUrl, viewer, id);
      log(`seeding ${name} with ${messages} messages`);
      await sendMany(socketUrl, seeder, id, messages, (i) => content(r, i, messages));
      rooms.push(id);
    }

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // tsx compiles this file with esbuild's keepNames, which wraps the functions handed to
    // page.evaluate in calls to a `__name` helper that exists only in Node: define it in the page.
    await page.addInitScript('globalThis.__name = (fn) => fn;');
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(httpUrl);
    await page.getByRole('button', { name: 'Use a token' }).click();
    await page.getByRole('textbox', { name: 'Token' }).fill(viewer.token);
    await page.getByRole('button', { name: 'Connect with token' }).click();
    const nav = page.getByRole('navigation', { name: 'Chats' });
    const entry = async (name: string): Promise<ElementHandle> => {
      const pattern = new RegExp(`^${name}`);
      const locator = nav
        .getByRole('button', { name: pattern })
        .or(nav.getByRole('link', { name: pattern }))
        .first();
      await locator.waitFor({ timeout: 30_000 });
      return (await locator.elementHandle()) as ElementHandle;
    };
    const newest = (r: number): string => markerContent(r * messages + messages - 1);
    const first = await timeOpen(page, await entry('Bench A'), newest(0));
    log(`first render ${first.toFixed(0)} ms`);
    const switches: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      const r = (i + 1) % 2;
      switches.push(await timeOpen(page, await entry(names[r] ?? ''), newest(r)));
    }
    switches.sort((a, b) => a - b);
    // Back in room A: scroll from the newest message towards the oldest (history pages in).
    const scroll = await scrollUp(page, 0, options.scrollMs ?? 15_000);
    const { metrics } = await cdp.send('Performance.getMetrics');
    const heap = metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? NaN;
    return {
      kind: 'ui',
      messagesPerRoom: messages,
      firstRenderMs: first,
      switchMs: switches[Math.floor(switches.length / 2)] ?? NaN,
      heapMb: heap / 2 ** 20,
      droppedFrames: scroll.dropped,
      frames: scroll.frames,
      scrolledMessages: messages - 1 - Math.min(messages - 1, scroll.oldestSeen),
    };
  } finally {
    await browser.close();
    await relay.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
