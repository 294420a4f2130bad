/**
 * Expired ephemeral messages are erased from the files, not only from the tables (issue 15,
 * item 6). A real command-line relay stores messages in a vanishing room, mixed with lasting
 * ones; once they expire, none of their texts may be left anywhere in `parley.db`, `-wal` or
 * `-shm` (free pages and old WAL frames included), while the lasting ones are still there, and
 * after a clean stop neither. The search index never held them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE } from '../cli/cli-args.js';
import type { ChatInfo, WireMessage } from '../protocol/events.js';
import { foundInDataDir } from '../testing/data-files.js';
import { api, mainChatId, removeDir, signIn, type Session } from '../testing/relay-harness.js';
import {
  killAllRelayProcesses,
  startRelayProcess,
  type RelayProcess,
} from '../testing/relay-process.js';

const TTL_S = 2;
/** Messages per room; every fourth is long enough to need overflow pages. */
const MESSAGES = 120;

/** Which of `markers` occur in any of the files (as bytes, wherever they are). */
function foundIn(dir: string, markers: readonly string[]): string[] {
  return foundInDataDir(dir, markers);
}

function text(marker: string, index: number): string {
  const filler = randomBytes(index % 4 === 0 ? 3_000 : 60).toString('base64');
  return `${marker} ${filler} ${marker}`;
}

describe('expired ephemeral messages (real CLI relay, SQLite)', () => {
  let relay: RelayProcess;
  let dataDir: string;
  let ana: Session;

  beforeAll(async () => {
    dataDir = mkdtempSync(joinPath(tmpdir(), 'parley-erase-'));
    relay = await startRelayProcess([
      '--data',
      dataDir,
      ...(USAGE.includes('--no-mdns') ? ['--no-mdns'] : []),
      // The send rate is not under test here.
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

  it('leaves no text of an expired message in parley.db, -wal or -shm', async () => {
    const room = await api<{ chat: ChatInfo }>(relay, ana.token, 'POST', '/api/chats', {
      name: 'vanishing',
      visibility: 'private',
      ephemeral_ttl_s: TTL_S,
    });
    expect(room.status).toBe(201);
    const fleeting = room.body.chat.id;
    const lasting = await mainChatId(relay, ana.token);
    const secrets = Array.from(
      { length: MESSAGES },
      () => `vanish${randomBytes(8).toString('hex')}`,
    );
    const kept = Array.from({ length: MESSAGES }, () => `lasting${randomBytes(8).toString('hex')}`);
    for (const [index, secret] of secrets.entries()) {
      for (const [chatId, marker] of [
        [fleeting, secret],
        [lasting, kept[index] ?? ''],
      ] as const) {
        const sent = await api(relay, ana.token, 'POST', `/api/chats/${chatId}/messages`, {
          content: text(marker, index),
          mobile_ref_id: `${marker}-ref`,
        });
        expect(sent.status).toBe(201);
      }
    }
    const sentAt = performance.now();

    // Expired: history no longer has them (polled: expiry is the relay's sweep, no event).
    const historyOf = async (): Promise<WireMessage[]> =>
      (
        await api<{ messages: WireMessage[] }>(
          relay,
          ana.token,
          'GET',
          `/api/chats/${fleeting}/messages?limit=500`,
        )
      ).body.messages;
    while ((await historyOf()).length > 0) await new Promise((resolve) => setTimeout(resolve, 250));
    const expiredAfterS = (performance.now() - sentAt) / 1_000;

    // Erased: no byte of them left in the files, soon after (the relay erases at its sweep).
    let left = foundIn(dataDir, secrets);
    const deadline = performance.now() + 10_000;
    while (left.length > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = foundIn(dataDir, secrets);
    }
    const erasedAfterS = (performance.now() - sentAt) / 1_000;
    console.log(
      `ephemeral erase: ${MESSAGES} messages (ttl ${TTL_S} s) gone from history after ` +
        `${expiredAfterS.toFixed(1)} s; ${MESSAGES - left.length} of ${MESSAGES} texts gone from ` +
        `the files after ${erasedAfterS.toFixed(1)} s; ${left.length} still readable`,
    );
    expect(left).toEqual([]);
    // The check can see text at all: every lasting message is found.
    expect(foundIn(dataDir, kept)).toHaveLength(kept.length);

    // A clean stop leaves nothing either, and the search index never had them.
    relay.child.kill('SIGTERM');
    expect((await relay.exited).code).toBe(0);
    expect(foundIn(dataDir, secrets)).toEqual([]);
    const db = new Database(joinPath(dataDir, 'parley.db'), { readonly: true });
    try {
      const keys = db
        .prepare('SELECT count(*) FROM message_search_keys WHERE chat_id = ?')
        .pluck()
        .get(fleeting);
      expect(keys).toBe(0);
      expect(
        db.prepare('SELECT count(*) FROM messages WHERE chat_id = ?').pluck().get(fleeting),
      ).toBe(0);
    } finally {
      db.close();
    }
  }, 120_000);
});
