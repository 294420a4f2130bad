/**
 * Records every Web Notification the page creates. Installed with `context.addInitScript`, so it
 * runs before the app's own scripts; the real constructor still runs (headless Chromium accepts
 * it when the `notifications` permission is granted), the record is what the spec reads.
 */
import type { Page } from '@playwright/test';

export interface RecordedNotification {
  title: string;
  body: string;
}

declare global {
  interface Window {
    __notifications?: RecordedNotification[];
  }
}

/** Runs in the page (serialized by Playwright): must not reference anything outside itself. */
export function recordNotifications(): void {
  const seen: RecordedNotification[] = [];
  window.__notifications = seen;
  const Original = window.Notification;
  if (typeof Original !== 'function') return;
  class Recording extends Original {
    constructor(title: string, options?: NotificationOptions) {
      seen.push({ title, body: options?.body ?? '' });
      super(title, options);
    }
  }
  // Static members read through to the real class (permission changes when it is granted).
  Object.defineProperty(Recording, 'permission', { get: () => Original.permission });
  Object.defineProperty(Recording, 'requestPermission', {
    value: (...args: Parameters<typeof Notification.requestPermission>) =>
      Original.requestPermission(...args),
  });
  window.Notification = Recording;
}

/** The notifications recorded so far in this page. */
export function notificationsShown(page: Page): Promise<RecordedNotification[]> {
  return page.evaluate(() => window.__notifications ?? []);
}
