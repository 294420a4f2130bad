/**
 * The desktop app's offline cache erases messages of vanishing rooms when they expire (issue 15,
 * item 6), by itself, with the relay unreachable: no text of them is left in
 * `offline-cache.db`, `-wal` or `-shm` (free pages and old WAL frames included), nor in a chat's
 * cached last_message, while lasting messages stay; and none after the cache is closed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChatSummary, WireMessage } from '../../relay/protocol/events.js';
import { OfflineCache } from './offline-cache.js';

const TTL_MS = 1_500;
const MESSAGES = 120;
const SCOPE = 'https://10.0.0.5:4000|user-1';
const dir = mkdtempSync(join(tmpdir(), 'parley-cache-erase-'));
const path = join(dir, 'offline-cache.db');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function foundIn(markers: readonly string[]): string[] {
  const contents = ['', '-wal', '-shm']
    .map((suffix) => `${path}${suffix}`)
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file));
  return markers.filter((marker) => contents.some((bytes) => bytes.includes(marker)));
}

function message(
  chatId: string,
  seq: number,
  marker: string,
  expiresAt: string | null,
): WireMessage {
  const filler = randomBytes(seq % 4 === 0 ? 3_000 : 60).toString('base64');
  return {
    chat_id: chatId,
    message_id: `${chatId}-${seq}`,
    seq,
    content: `${marker} ${filler} ${marker}`,
    sender_id: 'user-2',
    sender_name: 'Ben',
    timestamp: new Date().toISOString(),
    expires_at: expiresAt,
    mobile_ref_id: `r${seq}`,
    edited_at: null,
    deleted_at: null,
    version_seq: seq,
  };
}

function summary(id: string, ttl: number | null, last: WireMessage): ChatSummary {
  return {
    id,
    kind: 'room',
    name: id,
    visibility: 'private',
    ephemeral_ttl_s: ttl,
    is_main: false,
    dm_user_ids: [],
    last_seq: last.seq,
    created_at: '2026-11-22T10:00:00.000Z',
    unread_count: 0,
    read_seq: 0,
    last_message: last,
  };
}

describe('offline cache, vanishing rooms', () => {
  it('leaves no text of an expired message in offline-cache.db, -wal or -shm', async () => {
    const cache = new OfflineCache({ path });
    const expiresAt = new Date(Date.now() + TTL_MS).toISOString();
    const secrets = Array.from(
      { length: MESSAGES },
      () => `vanish${randomBytes(8).toString('hex')}`,
    );
    const kept = Array.from({ length: MESSAGES }, () => `lasting${randomBytes(8).toString('hex')}`);
    const fleeting = secrets.map((marker, i) => message('fleeting', i + 1, marker, expiresAt));
    const lasting = kept.map((marker, i) => message('lasting', i + 1, marker, null));
    // Saved in pieces, as history arrives, so pages split and cells move meanwhile.
    for (let i = 0; i < MESSAGES; i += 10) {
      expect(cache.saveHistory(SCOPE, 'fleeting', fleeting.slice(i, i + 10)).ok).toBe(true);
      expect(cache.saveHistory(SCOPE, 'lasting', lasting.slice(i, i + 10)).ok).toBe(true);
    }
    const lastFleeting = fleeting.at(-1) as WireMessage;
    const lastLasting = lasting.at(-1) as WireMessage;
    expect(
      cache.saveChats(SCOPE, [
        summary('fleeting', 2, lastFleeting),
        summary('lasting', null, lastLasting),
      ]).ok,
    ).toBe(true);
    expect(foundIn(secrets)).toHaveLength(MESSAGES);
    const savedAt = performance.now();

    // Nothing calls the cache after this: it erases at expiry by itself (polled: no event).
    let left = foundIn(secrets);
    const deadline = savedAt + TTL_MS + 10_000;
    while (left.length > 0 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      left = foundIn(secrets);
    }
    console.log(
      `offline cache erase: ${MESSAGES - left.length} of ${MESSAGES} expired texts gone from the ` +
        `files ${((performance.now() - savedAt) / 1_000).toFixed(1)} s after saving ` +
        `(ttl ${(TTL_MS / 1_000).toFixed(1)} s); ${left.length} still readable`,
    );
    expect(left).toEqual([]);
    expect(foundIn(kept)).toHaveLength(MESSAGES);
    const snapshot = cache.loadSnapshot(SCOPE);
    expect(snapshot.messages.fleeting ?? []).toEqual([]);
    expect(snapshot.messages.lasting).toHaveLength(MESSAGES);
    expect(snapshot.chats.map((chat) => [chat.id, chat.last_message?.content ?? null])).toEqual([
      ['fleeting', null],
      ['lasting', lastLasting.content],
    ]);

    cache.close();
    expect(foundIn(secrets)).toEqual([]);
  }, 30_000);
});
