/**
 * Where a deleted message's words go in the SQLite files (issue 17), step by step, on a real
 * SqliteStore file: what PROTOCOL.md ("What a delete leaves on disk") says for SQLite is
 * checked here. relay/tests/delete-erase.hostile.test.ts checks the end result on a CLI relay.
 *
 * FTS5 keeps terms prefix-compressed (a term shares its first bytes with the one before it), so
 * the files are searched for the tail of each marker word, which is always written out in full.
 * Positive controls show that this search sees the words where they are: in the index's
 * segments (`message_search_data`) before the delete, and the kept messages' words after it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newId, newMessageId } from '../../core/ids.js';
import type { ChangeRequest, StoredUser } from '../../core/store.js';
import type { WireMessage } from '../../protocol/events.js';
import { expectStored } from '../store-contract.js';
import { SqliteStore } from './sqlite-store.js';

const FILES = ['parley.db', 'parley.db-wal', 'parley.db-shm'];
const MESSAGES = 40;
const NOW = new Date('2030-01-01T00:00:00.000Z');

/** Every fourth text is long enough to need overflow pages (which an edit frees). */
function filler(index: number): string {
  return randomBytes(index % 4 === 0 ? 3_000 : 30).toString('hex');
}

/** A word no other text shares, and its last 10 characters (never prefix-compressed away). */
function marker(prefix: string): { word: string; tail: string } {
  const word = `${prefix}${randomBytes(8).toString('hex')}`;
  return { word, tail: word.slice(-10) };
}

describe('a deleted message in the SQLite files (SqliteStore)', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-delete-erase-store-'));
    path = join(dir, 'parley.db');
    store = new SqliteStore({ path, synchronous: 'FULL', maxPendingPerUser: 100 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function inFiles(tails: readonly string[]): string[] {
    const contents = FILES.map((name) => join(dir, name))
      .filter((file) => existsSync(file))
      .map((file) => readFileSync(file));
    return tails.filter((tail) => contents.some((bytes) => bytes.includes(tail)));
  }

  /** Tails found in the FTS5 index's own segment blobs. */
  function inIndexSegments(tails: readonly string[]): string[] {
    const db = new Database(path, { readonly: true });
    try {
      const blobs = db.prepare('SELECT block FROM message_search_data').pluck().all() as Buffer[];
      return tails.filter((tail) => blobs.some((blob) => blob.includes(tail)));
    } finally {
      db.close();
    }
  }

  function checkpoint(): void {
    const db = new Database(path);
    try {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      expect(result?.busy).toBe(0);
    } finally {
      db.close();
    }
  }

  it('takes the words of a single delete out of the index segment that holds them', async () => {
    const ana = (await store.createUser({ id: newId(), name: 'Ana', now: NOW })) as StoredUser;
    const chat = await store.createChat({
      id: newId(),
      name: 'general',
      visibility: 'public',
      ephemeralTtlS: null,
      isMain: false,
      createdBy: ana.id,
      now: NOW,
    });
    const secret = marker('solo');
    const other = marker('other');
    const results = await store.appendMessages(
      [secret, other].map((m, index) => ({
        messageId: newMessageId(),
        chatId: chat.id,
        senderId: ana.id,
        content: `${m.word} shared words`,
        mobileRefId: `ref-${index}`,
        now: NOW,
        notifyUserIds: [],
        mentionedUserIds: [],
        originConnectionId: null,
      })),
    );
    const [message] = results.map(expectStored);
    const search = (word: string) =>
      store.searchMessages({ userId: ana.id, terms: [word], chatId: null, before: null, limit: 5 });
    expect(await search('shared')).toMatchObject({ messages: [{ seq: 2 }, { seq: 1 }] });
    expect(inIndexSegments([secret.tail, other.tail])).toEqual([secret.tail, other.tail]);
    // One small delete: no merge is due, so only a secure delete takes the words out.
    const [deleted] = await store.changeMessages([
      {
        kind: 'delete',
        chatId: chat.id,
        messageId: message?.message_id ?? '',
        actorId: ana.id,
        now: NOW,
        originConnectionId: null,
      },
    ]);
    expect(deleted).toMatchObject({ ok: true, duplicate: false });
    expect(inIndexSegments([secret.tail, other.tail])).toEqual([other.tail]);
    expect(await search('shared')).toMatchObject({ messages: [{ seq: 2 }] });
    await store.deleteExpired(new Date());
    expect(inFiles([secret.tail, other.tail])).toEqual([other.tail]);
  });

  it('takes the words out of the index segments at the delete, and out of the files at the next sweep', async () => {
    const ana = (await store.createUser({ id: newId(), name: 'Ana', now: NOW })) as StoredUser;
    const chat = await store.createChat({
      id: newId(),
      name: 'general',
      visibility: 'public',
      ephemeralTtlS: null,
      isMain: false,
      createdBy: ana.id,
      now: NOW,
    });
    const doomed = Array.from({ length: MESSAGES }, () => marker('doomed'));
    const revised = Array.from({ length: MESSAGES }, () => marker('revised'));
    const kept = Array.from({ length: MESSAGES }, () => marker('kept'));
    const send = async (word: string, index: number): Promise<WireMessage> => {
      const [result] = await store.appendMessages([
        {
          messageId: newMessageId(),
          chatId: chat.id,
          senderId: ana.id,
          content: `${word} ${filler(index)} ${index}`,
          mobileRefId: `ref-${index}-${word.slice(0, 4)}`,
          now: NOW,
          notifyUserIds: [],
          mentionedUserIds: [],
          originConnectionId: null,
        },
      ]);
      return expectStored(result);
    };
    const sent: WireMessage[] = [];
    for (const [index, m] of doomed.entries()) {
      sent.push(await send(m.word, index));
      await send(kept[index]?.word ?? '', index);
    }
    const search = async (word: string) =>
      store.searchMessages({ userId: ana.id, terms: [word], chatId: null, before: null, limit: 5 });
    // Indexed, then half of them edited once indexed (the edit re-indexes at once).
    expect(await search(doomed[0]?.word ?? '')).toMatchObject({ messages: [{ seq: 1 }] });
    const base = { chatId: chat.id, actorId: ana.id, now: NOW, originConnectionId: null };
    const change = (
      request:
        | { kind: 'edit'; messageId: string; content: string; refId: string }
        | { kind: 'delete'; messageId: string },
    ): ChangeRequest => ({ ...base, ...request });
    const edits = await store.changeMessages(
      sent.flatMap((message, index) =>
        index % 2 === 0
          ? [
              change({
                kind: 'edit',
                messageId: message.message_id,
                content: `${revised[index]?.word ?? ''} ${filler(index)}`,
                refId: `e${index}`,
              }),
            ]
          : [],
      ),
    );
    expect(edits.every((result) => result.ok)).toBe(true);
    const secrets = [...doomed, ...revised.filter((_, index) => index % 2 === 0)].map(
      (m) => m.tail,
    );
    // What the index holds now: the current words of every message (an edit's replaced words
    // may already be gone, if FTS5's automerge rewrote their segment).
    const current = [
      ...doomed.filter((_, index) => index % 2 === 1),
      ...revised.filter((_, index) => index % 2 === 0),
    ].map((m) => m.tail);
    checkpoint();
    expect(inIndexSegments(current)).toEqual(current);

    const deletes = await store.changeMessages(
      sent.map((message) => change({ kind: 'delete', messageId: message.message_id })),
    );
    expect(deletes.every((result) => result.ok && !result.duplicate)).toBe(true);
    expect(await search(doomed[1]?.word ?? '')).toMatchObject({ messages: [] });
    // The rows and the edits' text are emptied (secure_delete zeroes what they freed) and, with
    // FTS5's secure-delete, the words are gone from the index segments at once.
    const db = new Database(path, { readonly: true });
    try {
      const stored = db
        .prepare('SELECT content FROM messages UNION ALL SELECT content FROM chat_events')
        .pluck()
        .all() as (string | null)[];
      expect(stored.filter((text) => secrets.some((tail) => text?.includes(tail)))).toEqual([]);
    } finally {
      db.close();
    }
    expect(inIndexSegments(secrets)).toEqual([]);
    // The WAL still holds the pages as they were before the deletes until a checkpoint: the
    // store's next sweep (deleteExpired, every second in a relay) truncates it.
    expect(inFiles(secrets).length).toBeGreaterThan(0);
    await store.deleteExpired(new Date());
    expect(inFiles(secrets)).toEqual([]);
    // The search still works on what was kept, and the same search finds its words on disk.
    const keptTails = kept.map((m) => m.tail);
    expect(inIndexSegments(keptTails)).toEqual(keptTails);
    expect(await search(kept[3]?.word ?? '')).toMatchObject({ messages: [{ seq: 8 }] });
    expect(store.integrityCheck()).toBe('ok');
  });
});
