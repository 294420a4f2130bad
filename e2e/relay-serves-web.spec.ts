/**
 * The relay serves the built web client at `/`: a colleague opens http://HOST:PORT/ and gets the
 * connect screen with the server address already filled in.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { health } from './support/api.js';
import { expect, test } from './support/fixtures.js';
import { WEB_DIR } from './support/relay-process.js';
import { saveScreen } from './support/ui.js';

test('serves the built web client at / with a strict CSP', async ({ relay, page }) => {
  expect(await health(relay.url)).toMatchObject({ ok: true });

  const res = await fetch(`${relay.url}/`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(await res.text()).toBe(readFileSync(join(WEB_DIR, 'index.html'), 'utf8'));

  await page.goto(relay.url);
  await expect(page.getByRole('textbox', { name: 'Server address' })).toHaveValue(relay.url);
  await expect(page.getByRole('textbox', { name: 'Display name' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Join', exact: true })).toBeVisible();
  await saveScreen(page, 'connect');
});
