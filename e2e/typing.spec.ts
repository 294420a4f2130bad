/**
 * The typing line: it appears for the others while someone types, names two typists, and
 * disappears when the typist sends or goes idle. Typists keep typing (a keystroke every 100 ms)
 * while the others' screens are checked, so no check depends on how fast the machine is.
 */
import { expect, test } from './support/fixtures.js';
import { saveScreen } from './support/ui.js';

const KEY_DELAY_MS = 100;

test('the typing line appears for the others and disappears on send and on idle', async ({
  people,
}) => {
  const ana = await people.join('Ana');
  const ben = await people.join('Ben');
  const cleo = await people.join('Cleo');

  const anaText = 'Quick question about the release plan';
  const anaTyping = ana.composer.pressSequentially(anaText, { delay: KEY_DELAY_MS });
  await expect(ben.typingLine).toHaveText('Ana is typing…');
  await expect(cleo.typingLine).toHaveText('Ana is typing…');
  // One's own typing is not announced to oneself.
  await expect(ana.typingLine).not.toContainText('Ana');

  const benText = 'Hm, let me check the dashboard first, it was red this morning when I looked';
  const benTyping = ben.composer.pressSequentially(benText, { delay: KEY_DELAY_MS });
  await expect(cleo.typingLine).toHaveText('Ana and Ben are typing…');
  await expect(ana.typingLine).toHaveText('Ben is typing…');
  await saveScreen(cleo.page, 'typing');

  // Sending stops Ana's typing at once, while Ben goes on.
  await anaTyping;
  await ana.composer.press('Enter');
  await expect(cleo.message(anaText)).toBeVisible();
  await expect(cleo.typingLine).toHaveText('Ben is typing…');
  await expect(ben.typingLine).toHaveText('');

  // Ben stops typing without sending: the line clears once he is idle.
  await benTyping;
  await expect(cleo.typingLine).toHaveText('', { timeout: 15_000 });
  await expect(ana.typingLine).toHaveText('', { timeout: 15_000 });
  await expect(cleo.page.getByText(/is typing…|are typing…/)).toHaveCount(0);
  // Going idle does not touch his draft.
  await expect(ben.composer).toHaveValue(benText);
});
