/**
 * A returning user's page resumes the saved session once: `pageshow` fires on the first load
 * too, and the page used to resume from it as well as at start, opening two sockets (the first
 * one left connected, joined to every chat). Counted from the browser's own WebSocket events.
 */
import { expect, test } from './support/fixtures.js';

test('reloading the page opens one socket, not one per resume', async ({ people }) => {
  const ana = await people.join('Ana');
  await ana.send('before reload');
  await expect(ana.message('before reload')).toHaveAttribute('data-status', 'sent');

  const sockets: string[] = [];
  ana.page.on('websocket', (socket) => {
    // The path only: the query carries the token.
    const { pathname } = new URL(socket.url());
    if (pathname.startsWith('/socket')) sockets.push(pathname);
  });
  await ana.page.reload();
  await expect(ana.chatHeading('general')).toBeVisible();
  await expect(ana.message('before reload')).toBeVisible();
  // Both resumes (when there were two) were under way at load; by the time a new message has
  // made the round trip, each would have connected.
  await ana.send('after reload');
  await expect(ana.message('after reload')).toHaveAttribute('data-status', 'sent');
  expect(sockets).toHaveLength(1);
});
