/**
 * One person using Parley in a browser, driven by role and accessible name as listed in
 * renderer/UI-CONTRACT.md (never by CSS class), the way a screen-reader user would.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Locator, type Page } from '@playwright/test';
import type { Session } from './api.js';

/** Escapes text for use inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Saves a screenshot of the page as test-results/screens/NAME.png (kept as a CI artifact). */
export async function saveScreen(page: Page, name: string): Promise<void> {
  const dir = join(test.info().project.outputDir, 'screens');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}

/**
 * After a sign-up the relay's recovery code is shown once, in a dialog that stays until the user
 * says they saved it: reads the code, ticks the box, closes it. Returns the code.
 */
export async function saveRecoveryCode(page: Page): Promise<string> {
  const dialog = page.getByRole('dialog', { name: 'Save your recovery code' });
  await expect(dialog).toBeVisible();
  const code = (await dialog.getByTestId('recovery-code').textContent()) ?? '';
  expect(code).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){5}[0-9A-HJKMNP-TV-Z]{4}$/);
  await dialog.getByRole('checkbox', { name: 'I saved my recovery code' }).check();
  await dialog.getByRole('button', { name: 'Done', exact: true }).click();
  await expect(dialog).toBeHidden();
  return code;
}

export class ChatUser {
  /** The recovery code shown at sign-up through the connect screen (signIn), if any. */
  recoveryCode: string | null = null;

  constructor(
    readonly name: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  // ---- screens and parts (UI-CONTRACT.md) ---------------------------------------------------

  get chatNav(): Locator {
    return this.page.getByRole('navigation', { name: 'Chats' });
  }

  /** The sidebar entry of a chat: a link or button whose name starts with the title. */
  chatEntry(title: string): Locator {
    const name = new RegExp(`^\\s*${escapeRegExp(title)}(?![\\p{L}\\p{N}_-])`, 'u');
    return this.chatNav
      .getByRole('button', { name })
      .or(this.chatNav.getByRole('link', { name }))
      .first();
  }

  /** The chat view's title heading. */
  chatHeading(title: string): Locator {
    return this.page.getByRole('heading', { name: title, exact: true });
  }

  get log(): Locator {
    return this.page.getByRole('log', { name: 'Messages' });
  }

  /** Every message element rendered in the log (role article, or listitem). */
  get messages(): Locator {
    return this.log.getByRole('article').or(this.log.getByRole('listitem'));
  }

  /** Message elements whose text contains `text`. */
  message(text: string): Locator {
    return this.messages.filter({ hasText: text });
  }

  get composer(): Locator {
    return this.page.getByRole('textbox', { name: 'Message', exact: true });
  }

  get typingLine(): Locator {
    return this.page.getByRole('status', { name: 'Typing' });
  }

  /** The offline banner: role alert whose text starts with "Offline". */
  get offlineBanner(): Locator {
    return this.page.getByRole('alert').filter({ hasText: /^\s*Offline/ });
  }

  /** The unread badge inside a chat's sidebar entry ("N unread"). */
  unreadBadge(title: string, count?: number): Locator {
    const entry = this.chatEntry(title);
    return count === undefined
      ? entry.getByLabel(/^\d+ unread$/)
      : entry.getByLabel(`${count} unread`, { exact: true });
  }

  // ---- actions -------------------------------------------------------------------------------

  /** Signs in on the connect screen with a display name; resolves once the sidebar shows. */
  async signIn(url: string): Promise<void> {
    const server = this.page.getByRole('textbox', { name: 'Server address' });
    // Served by a relay, the address is the page's own origin.
    await expect(server).toHaveValue(new URL(url).origin);
    await this.page.getByRole('textbox', { name: 'Display name' }).fill(this.name);
    await this.page.getByRole('button', { name: 'Join', exact: true }).click();
    this.recoveryCode = await saveRecoveryCode(this.page);
    await expect(this.chatNav).toBeVisible();
  }

  async openChat(title: string): Promise<void> {
    await this.chatEntry(title).click();
    await expect(this.chatHeading(title)).toBeVisible();
  }

  /** Types into the composer and presses Enter. */
  async send(text: string): Promise<void> {
    await this.composer.fill(text);
    await this.composer.press('Enter');
    await expect(this.composer).toHaveValue('');
  }

  /** "New message" → pick a person → the DM opens. */
  async startDm(person: string): Promise<void> {
    await this.page.getByRole('button', { name: 'New message', exact: true }).click();
    const dialog = this.page.getByRole('dialog', { name: 'New message' });
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: person, exact: true }).click();
    await expect(dialog).toBeHidden();
    await expect(this.chatHeading(person)).toBeVisible();
  }

  /** The remembered session (token and user), as the web client stored it. */
  async session(): Promise<Session> {
    const raw = await this.page.evaluate(() => localStorage.getItem('parley.session'));
    if (raw === null) throw new Error(`${this.name} has no saved session`);
    const saved = JSON.parse(raw) as { token: string; user: { id: string; name: string } };
    return { token: saved.token, user: saved.user };
  }

  /**
   * The texts of the rendered messages that contain one of `needles`, in the order they appear,
   * each reduced to the needle it contains (so sender names and times do not matter).
   */
  async orderOf(needles: readonly string[]): Promise<string[]> {
    const texts = await this.messages.allTextContents();
    return texts.flatMap((text) => needles.filter((needle) => text.includes(needle)));
  }
}
