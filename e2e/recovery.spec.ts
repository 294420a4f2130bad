/**
 * Signing out no longer loses one's name: the recovery code shown at sign-up signs the user back
 * in (and is replaced), and a code from a signed-in device signs another browser in, with the
 * chats' history either way. Screenshots for the docs go to docs/.
 */
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, test } from './support/fixtures.js';
import { saveRecoveryCode } from './support/ui.js';

const DOCS = (name: string): string => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));

/** The connect screen's "I already have an account" form, filled and sent. */
async function signInWithCode(page: Page, name: string, code: string): Promise<void> {
  await page.getByRole('button', { name: 'I already have an account' }).click();
  await page.getByRole('textbox', { name: 'Display name' }).fill(name);
  await page.getByRole('textbox', { name: 'Recovery code or code from another device' }).fill(code);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

test('sign up, save the recovery code, sign out after a warning, come back with the code', async ({
  people,
  relay,
}) => {
  // Sign-ups, a sign-out and two sign-ins, each drawn by a real Chromium.
  test.setTimeout(120_000);
  const ana = await people.open('Ana');
  await ana.page.getByRole('textbox', { name: 'Display name' }).fill('Ana');
  await ana.page.getByRole('button', { name: 'Join', exact: true }).click();

  // Shown once, and it stays until Ana says she saved it.
  const shown = ana.page.getByRole('dialog', { name: 'Save your recovery code' });
  await expect(shown).toBeVisible();
  await expect(shown.getByRole('button', { name: 'Done' })).toBeDisabled();
  await ana.page.keyboard.press('Escape');
  await expect(shown).toBeVisible();
  await expect(shown.getByRole('status')).toContainText('cannot be shown again');
  const download = ana.page.waitForEvent('download');
  await shown.getByRole('button', { name: 'Download' }).click();
  expect((await download).suggestedFilename()).toBe('parley-recovery-code-Ana.txt');
  await ana.page.screenshot({ path: DOCS('screenshot-recovery-code.png') });
  const code = await saveRecoveryCode(ana.page);

  await ana.send('notes from before signing out');
  await expect(ana.message('notes from before signing out')).toHaveAttribute('data-status', 'sent');

  // Sign out explains first; Cancel keeps everything.
  await ana.page.getByRole('button', { name: 'Sign out', exact: true }).click();
  const warning = ana.page.getByRole('dialog', { name: /^Sign out of / });
  await expect(warning).toContainText('recovery code');
  await expect(warning).toContainText('until an administrator');
  await expect(warning.getByRole('status')).toContainText('Your recovery code was made');
  await ana.page.screenshot({ path: DOCS('screenshot-sign-out.png') });
  await warning.getByRole('button', { name: 'Cancel' }).click();
  await expect(warning).toBeHidden();
  await expect(ana.chatNav).toBeVisible();

  await ana.page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await warning.getByRole('button', { name: 'Sign out', exact: true }).click();
  await expect(ana.page.getByRole('textbox', { name: 'Server address' })).toHaveValue(relay.url);

  // Without a code the name is taken; with a wrong one, refused; with hers, she is back.
  await ana.page.getByRole('textbox', { name: 'Display name' }).fill('Ana');
  await ana.page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(ana.page.getByRole('alert')).toContainText('If it is yours');
  const codeField = ana.page.getByRole('textbox', {
    name: 'Recovery code or code from another device',
  });
  await codeField.fill('AAAA-BBBB-CCCC-DDDD-EEEE-FFFF');
  await ana.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(ana.page.getByRole('alert')).toContainText('do not match');
  await codeField.fill(code.toLowerCase().replace(/-/g, ' '));
  await ana.page.getByRole('button', { name: 'Sign in', exact: true }).click();

  // The used code is replaced: the new one is shown the same way.
  const replaced = ana.page.getByRole('dialog', { name: 'Save your recovery code' });
  await expect(replaced).toContainText('the old one no longer works');
  const next = await saveRecoveryCode(ana.page);
  expect(next).not.toBe(code);
  await expect(ana.chatNav).toBeVisible();
  await expect(ana.message('notes from before signing out')).toBeVisible();
  await ana.send('back again');
  await expect(ana.message('back again')).toHaveAttribute('data-status', 'sent');
});

test('a code from a signed-in browser signs another one in as the same user, once', async ({
  people,
}) => {
  // Four browsers.
  test.setTimeout(120_000);
  const ana = await people.join('Ana');
  const ben = await people.join('Ben');
  await ben.send('hello Ana, from Ben');
  await expect(ana.message('hello Ana, from Ben')).toBeVisible();

  await ana.page.getByRole('button', { name: 'Sign-in codes' }).click();
  const codes = ana.page.getByRole('dialog', { name: 'Sign-in codes' });
  await codes.getByRole('button', { name: 'Show a code' }).click();
  const link = codes.getByTestId('link-code');
  await expect(link).toHaveText(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  const code = (await link.textContent()) ?? '';
  await ana.page.screenshot({ path: DOCS('screenshot-link-code.png') });
  await codes.getByRole('button', { name: 'Close', exact: true }).last().click();
  await expect(codes).toBeHidden();

  // A second browser: "I already have an account", Ana's name and the code.
  const laptop = await people.open('Ana (laptop)');
  await signInWithCode(laptop.page, 'Ana', code);
  await expect(laptop.chatNav).toBeVisible();
  await expect(laptop.page.getByRole('dialog', { name: 'Save your recovery code' })).toHaveCount(0);
  await expect(laptop.message('hello Ana, from Ben')).toBeVisible();
  await laptop.send('typed on the laptop');
  await expect(ana.message('typed on the laptop')).toBeVisible();
  await expect(ben.message('typed on the laptop')).toContainText('Ana');

  // The same code again, in a third browser: refused.
  const third = await people.open('Ana (tablet)');
  await signInWithCode(third.page, 'Ana', code);
  await expect(third.page.getByRole('alert')).toContainText('do not match');

  // Another code, as a link: the page opens with the name and code filled in.
  await ana.page.getByRole('button', { name: 'Sign-in codes' }).click();
  await codes.getByRole('button', { name: 'Show a code' }).click();
  await expect(link).toHaveText(/^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  await expect(link).not.toHaveText(code);
  const url = (await codes.getByRole('link').getAttribute('href')) ?? '';
  expect(url).toContain('#sign-in?');
  await third.page.goto(url);
  await expect(
    third.page.getByRole('textbox', { name: 'Recovery code or code from another device' }),
  ).toHaveValue((await link.textContent()) ?? '');
  await expect(third.page.getByRole('textbox', { name: 'Display name' })).toHaveValue('Ana');
  expect(third.page.url()).not.toContain('code=');
  await third.page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(third.chatNav).toBeVisible();
  await expect(third.message('typed on the laptop')).toBeVisible();
});
