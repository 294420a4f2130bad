/**
 * A deleted message is erased from the files, not only from the tables (issue 17): a real
 * command-line relay stores messages, some edited (so earlier versions sit in the event
 * stream too), lets the search index take them in, and then their author deletes them. Soon
 * after, none of their texts (first versions, edits, the words in the search index) may be left
 * anywhere in `parley.db`, `-wal` or `-shm`, while the messages that were not deleted still are.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchPage, WireMessage } from '../protocol/events.js';
import { foundInDataDir } from '../testing/data-files.js';
import { api, mainChatId, removeDir, signIn, type Session } from '../testing/relay-harness.js';
import {
  killAllRelayProcesses,
  startRelayProcess,
  type RelayProcess,
} from '../testing/relay-process.js';

/** Messages deleted (and as many kept); every fourth is long enough to need overflow pages. */
const MESSAGES = 60;
/** The search index writes out at least a word's last 10 characters (data-files.ts). */
const TAIL = 10;

function foundIn(dir: string, markers: readonly string[]): string[] {
  return foundInDataDir(dir, markers, { tail: TAIL });
}

function text(marker: string, index: number): string {
  const filler = randomBytes(index % 4 === 0 ? 3_000 : 60).toString('hex');
  return `${marker} ${filler} ${marker}`;
}

function marker(prefix: string): string {
  return `${prefix}${randomBytes(8).toString('hex')}`;
}

describe('deleted messages (real CLI relay, SQLite)', () => {
  let relay: RelayProcess;
  let dataDir: string;
  let ana: Session;

  beforeAll(async () => {
    dataDir = mkdtempSync(joinPath(tmpdir(), 'parley-delete-erase-'));
    relay = await startRelayProcess([
      '--data',
      dataDir,
      '--limit',
      'messagesPerSecond=10000',
      '--limit',
      'messageBurst=10000',
    ]);
    ana = await signIn(relay, 'Ana');
  });

  afterAll(async () => {
    await killAllRelayProcesses();
    removeDir(dataDir);
  });

  it('leaves no version of a deleted text, nor its indexed words, in parley.db, -wal or -shm', async () => {
    const room = await mainChatId(relay, ana.token);
    const doomed = Array.from({ length: MESSAGES }, () => marker('doomed'));
    const edits = Array.from({ length: MESSAGES }, () => marker('revised'));
    const kept = Array.from({ length: MESSAGES }, () => marker('kept'));
    const sent: WireMessage[] = [];
    for (const [index, secret] of doomed.entries()) {
      const res = await api<{ message: WireMessage }>(
        relay,
        ana.token,
        'POST',
        `/api/chats/${room}/messages`,
        // The ref is kept after a delete (a resend must still find the message): not the text.
        { content: text(secret, index), mobile_ref_id: `doomed-ref-${index}` },
      );
      expect(res.status).toBe(201);
      sent.push(res.body.message);
      const lasting = await api(relay, ana.token, 'POST', `/api/chats/${room}/messages`, {
        content: text(kept[index] ?? '', index),
        mobile_ref_id: `${kept[index] ?? ''}-ref`,
      });
      expect(lasting.status).toBe(201);
    }
    // Every other one is edited: its first version and the edit both have to go.
    for (const [index, message] of sent.entries()) {
      if (index % 2 === 1) continue;
      const { status } = await api(
        relay,
        ana.token,
        'PATCH',
        `/api/chats/${room}/messages/${message.message_id}`,
        { content: text(edits[index] ?? '', index), ref_id: `edit-${index}` },
      );
      expect(status).toBe(200);
    }
    // The search index has taken them in (a search indexes what is pending first).
    const search = await api<SearchPage>(
      relay,
      ana.token,
      'GET',
      `/api/search?q=${encodeURIComponent(edits[0] ?? '')}`,
    );
    expect(search.body.messages).toHaveLength(1);

    const deletedAt = performance.now();
    for (const message of sent) {
      const { status } = await api(
        relay,
        ana.token,
        'DELETE',
        `/api/chats/${room}/messages/${message.message_id}`,
      );
      expect(status).toBe(200);
    }
    const secrets = [...doomed, ...edits.filter((_, index) => index % 2 === 0)];
    let left = foundIn(dataDir, secrets);
    const deadline = performance.now() + 30_000;
    while (left.length > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = foundIn(dataDir, secrets);
    }
    console.log(
      `delete erase: ${secrets.length - left.length} of ${secrets.length} deleted texts gone ` +
        `from the files after ${((performance.now() - deletedAt) / 1_000).toFixed(1)} s; ` +
        `${left.length} still readable`,
    );
    expect(left).toEqual([]);
    // The check can see text at all: every message not deleted is found.
    expect(foundIn(dataDir, kept)).toHaveLength(kept.length);
    const after = await api<SearchPage>(
      relay,
      ana.token,
      'GET',
      `/api/search?q=${encodeURIComponent(doomed[1] ?? '')}`,
    );
    expect(after.body.messages).toEqual([]);

    relay.child.kill('SIGTERM');
    expect((await relay.exited).code).toBe(0);
    expect(foundIn(dataDir, secrets)).toEqual([]);
  }, 120_000);
});
