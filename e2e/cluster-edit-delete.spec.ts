/**
 * Editing and deleting messages across a cluster (issue 17): three relay nodes on one real
 * PostgreSQL and Redis (support/cluster.ts), each serving the web client. Ana writes on node 1,
 * Ben reads on node 2, Cara reads on node 3, all in the main room.
 *
 * Ana sends two messages and Ben and Cara see both. Then Ben goes offline: his browser's
 * network is switched off and his socket cut (support/cluster.ts NetworkSwitch). Ana edits one
 * message and deletes the other in the UI on node 1; Cara on node 3 sees both changes live, Ben
 * nothing. Ben's browser comes back online: his client reconnects to node 2 and resumes, and he
 * sees "(edited)" with the new text and the "message deleted" tombstone, neither old text
 * anywhere in his page; the same after a reload. Every node's HTTP API serves that current state.
 *
 * Two ways Ben's side goes away:
 * - only his browser: node 2 keeps running, gets the changes from Redis while he is gone, and
 *   must resume him from them;
 * - his browser and node 2 with it (SIGKILL, started again on the same port: a new process with
 *   nothing of the conversation in memory). A page served by a relay connects only to its own
 *   origin, so his client cannot move to another node; it comes back to node 2.
 */
import type { Page } from '@playwright/test';
import type { ClusterNode } from './support/cluster.js';
import { history, mainRoomId } from './support/api.js';
import { expect, test } from './support/cluster.js';
import type { ChatUser } from './support/ui.js';

/** Reconnecting may wait out the client's backoff (full jitter, cap 30 s), as in outage.spec. */
const RECONNECT_MS = 45_000;

const EDITED_BEFORE = 'release notes draft is in folder Q3-blue';
const EDITED_AFTER = 'release notes draft moved to folder Q4-green';
const DELETED = 'vault passphrase for staging: marigold-5521';
/** Parts of the old texts that nothing else on the page contains. */
const OLD_TEXTS = ['Q3-blue', 'marigold-5521'] as const;

/** Everything the page holds: the DOM (text and attributes) and the page's storage. */
async function pageHolds(page: Page, needle: string): Promise<boolean> {
  const html = await page.content();
  const stored = await page.evaluate(() =>
    JSON.stringify([{ ...localStorage }, { ...sessionStorage }]),
  );
  return html.includes(needle) || stored.includes(needle);
}

/** "(edited)" with the new text, the tombstone in the deleted message's place, no old text. */
async function expectChangesShown(user: ChatUser, when: string): Promise<void> {
  const edited = user.message(EDITED_AFTER);
  await expect(edited, `${when}: the edited message`).toHaveCount(1);
  await expect(edited, `${when}: the edited message`).toContainText('(edited)');
  const tombstone = user.messages.filter({ hasText: 'message deleted' });
  await expect(tombstone, `${when}: the tombstone`).toHaveCount(1);
  await expect(tombstone).toHaveAttribute('data-deleted', 'true');
  await expect(user.message(EDITED_BEFORE), `${when}: the old text`).toHaveCount(0);
  await expect(user.message(DELETED), `${when}: the deleted text`).toHaveCount(0);
  expect(await user.orderOf([EDITED_AFTER, 'message deleted']), when).toEqual([
    EDITED_AFTER,
    'message deleted',
  ]);
  for (const old of OLD_TEXTS) {
    expect(await pageHolds(user.page, old), `${when}: "${old}" left in the page`).toBe(false);
  }
}

/** How Ben's side goes away while Ana changes her messages. */
const CUTS = ['browser', 'browser and node'] as const;

// One after another in one worker: each test starts PostgreSQL, Redis, three nodes and three
// browsers, too much to run side by side on a 2-core machine.
test.describe.configure({ mode: 'default' });

for (const cut of CUTS) {
  const title =
    cut === 'browser'
      ? 'an edit and a delete made on node 1 reach node 3 live and a reader back online on node 2'
      : 'an edit and a delete made on node 1 reach node 3 live and a reader back on node 2 after a kill -9';
  test(title, async ({ cluster, people }) => {
    test.setTimeout(180_000);
    const [node1, node2, node3] = [cluster.node(1), cluster.node(2), cluster.node(3)];
    const ana = await people.join('Ana', node1);
    const ben = await people.join('Ben', node2);
    const cara = await people.join('Cara', node3);
    for (const user of [ana, ben, cara]) await expect(user.chatHeading('general')).toBeVisible();

    await ana.send(EDITED_BEFORE);
    await ana.send(DELETED);
    for (const user of [ben, cara]) {
      await expect(user.message(EDITED_BEFORE)).toBeVisible();
      await expect(user.message(DELETED)).toBeVisible();
    }

    // Ben goes offline (and, in the second case, his node goes without a goodbye).
    await people.offline(ben);
    if (cut === 'browser and node') await node2.kill();
    await expect(ben.offlineBanner).toBeVisible();

    // Ana edits through the context menu (right-click) on node 1...
    await ana.message(EDITED_BEFORE).click({ button: 'right' });
    await ana.message(EDITED_BEFORE).getByRole('menuitem', { name: 'Edit' }).click();
    const editor = ana.page.getByRole('textbox', { name: 'Edit message' });
    await expect(editor).toHaveValue(EDITED_BEFORE);
    await editor.fill(EDITED_AFTER);
    await editor.press('Enter');
    await expect(editor).toHaveCount(0);
    await expect(ana.message(EDITED_AFTER)).toContainText('(edited)');

    // ...and deletes through the "Message actions" button, confirmed in the dialog.
    await ana.message(DELETED).hover();
    await ana.message(DELETED).getByRole('button', { name: 'Message actions' }).click();
    await ana.message(DELETED).getByRole('menuitem', { name: 'Delete' }).click();
    const confirm = ana.page.getByRole('dialog', { name: 'Delete message?' });
    await confirm.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(confirm).toBeHidden();
    await expect(ana.messages.filter({ hasText: 'message deleted' })).toHaveCount(1);

    // Cara, on node 3, sees both live.
    await expectChangesShown(cara, 'live on node 3');

    // Ben saw nothing of it while offline.
    await expect(ben.offlineBanner).toBeVisible();
    await expect(ben.message(EDITED_BEFORE)).toHaveCount(1);
    await expect(ben.message(DELETED)).toHaveCount(1);

    // In the second case node 2 comes back first (a fresh process on the same port, so the
    // same origin); then Ben's network.
    if (cut === 'browser and node') await node2.start();
    await people.online(ben);
    await expect(ben.offlineBanner).toBeHidden({ timeout: RECONNECT_MS });
    await expectChangesShown(ben, 'resumed on node 2');

    await ben.page.reload();
    await expect(ben.chatHeading('general')).toBeVisible();
    await expect(ben.message(EDITED_AFTER)).toBeVisible();
    await expectChangesShown(ben, 'reloaded on node 2');

    await expectNodesServeCurrentState(ben, [node1, node2, node3]);
  });
}

/** Every node's HTTP history serves the current state: the edit, and a tombstone without text. */
async function expectNodesServeCurrentState(
  user: ChatUser,
  nodes: readonly ClusterNode[],
): Promise<void> {
  const { token } = await user.session();
  const first = nodes[0];
  if (first === undefined) throw new Error('no nodes');
  const roomId = await mainRoomId(first.url, token);
  for (const node of nodes) {
    const stored = await history(node.url, token, roomId);
    const shown = stored
      .filter((m) => m.sender_name === 'Ana')
      .map((m) => [m.content, m.edited_at !== null, m.deleted_at !== null]);
    expect(shown, node.nodeId).toEqual([
      [EDITED_AFTER, true, false],
      ['', false, true],
    ]);
  }
}
