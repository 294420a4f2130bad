/**
 * The relay goes away while Ana writes three messages: they show as pending, the offline banner
 * counts them, and after the relay comes back (same port, same data folder) each arrives exactly
 * once and in order, for Ana and for Ben, and the relay stored each exactly once.
 */
import { history, mainRoomId } from './support/api.js';
import { expect, test } from './support/fixtures.js';
import { saveScreen } from './support/ui.js';

const QUEUED = ['first while away', 'second while away', 'third while away'] as const;
/**
 * The clients retry with full-jitter backoff (base 0.5 s, cap 30 s): after an outage of a few
 * seconds the next attempt can be up to ~30 s away. This is the product's real behaviour, so
 * the spec waits for it rather than shortening it.
 */
const RECONNECT_MS = 45_000;

test('messages written during a relay outage arrive exactly once, in order', async ({
  relay,
  people,
}) => {
  test.setTimeout(120_000);
  const ana = await people.join('Ana');
  const ben = await people.join('Ben');
  await ana.send('before the outage');
  await expect(ben.message('before the outage')).toBeVisible();
  const { token } = await ana.session();
  const roomId = await mainRoomId(relay.url, token);
  const port = relay.port;

  expect(await relay.stop()).toEqual({ code: 0, signal: null });
  await expect(ana.offlineBanner).toBeVisible();
  await expect(ben.offlineBanner).toBeVisible();

  for (const text of QUEUED) await ana.send(text);
  for (const text of QUEUED) {
    await expect(ana.message(text)).toHaveAttribute('data-status', 'pending');
  }
  await expect(ana.offlineBanner).toContainText('3 messages waiting');
  expect(await ana.orderOf(QUEUED)).toEqual(QUEUED);
  await saveScreen(ana.page, 'offline');

  await relay.restart();
  expect(relay.port).toBe(port);

  // The clients reconnect on their own (backoff with jitter), flush the outbox and resume.
  await expect(ana.offlineBanner).toBeHidden({ timeout: RECONNECT_MS });
  for (const text of QUEUED) {
    await expect(ana.message(text)).toHaveAttribute('data-status', 'sent');
    await expect(ben.message(text)).toBeVisible({ timeout: RECONNECT_MS });
  }
  await expect(ben.offlineBanner).toBeHidden();

  // A barrier: Ben's next message reaches Ana after anything the relay sent before it, so a
  // duplicate or late delivery of the queued messages would be on screen by now.
  await ben.send('welcome back');
  await expect(ana.message('welcome back')).toBeVisible();

  for (const user of [ana, ben]) {
    for (const text of QUEUED) await expect(user.message(text)).toHaveCount(1);
    expect(await user.orderOf(['before the outage', ...QUEUED, 'welcome back'])).toEqual([
      'before the outage',
      ...QUEUED,
      'welcome back',
    ]);
  }
  await expect(ana.offlineBanner).toHaveCount(0);

  // The relay stored each exactly once, in order, with consecutive seqs.
  const stored = await history(relay.url, token, roomId);
  const contents = stored.map((m) => m.content);
  expect(contents).toEqual(['before the outage', ...QUEUED, 'welcome back']);
  const seqs = stored.map((m) => m.seq);
  expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] ?? 0) + i));
});
