import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatSummary, WireMessage } from '../../relay/protocol/events.js';
import { CACHE_LIMITS, OfflineCache } from './offline-cache.js';

const dirs: string[] = [];
const open: OfflineCache[] = [];
afterEach(() => {
  for (const cache of open.splice(0)) cache.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function cachePath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-cache-'));
  dirs.push(dir);
  return join(dir, 'offline-cache.db');
}
function openCache(path = cachePath()): OfflineCache {
  const cache = new OfflineCache({ path });
  open.push(cache);
  return cache;
}

const SCOPE = 'http://10.0.0.5:4000|user-1';
const message = (seq: number, chatId = 'general'): WireMessage => ({
  chat_id: chatId,
  message_id: `m${seq}`,
  seq,
  content: `message ${seq}`,
  sender_id: 'user-2',
  sender_name: 'Ben',
  timestamp: new Date(Date.UTC(2026, 10, 22, 10, 0, seq)).toISOString(),
  expires_at: null,
  mobile_ref_id: `r${seq}`,
  edited_at: null,
  deleted_at: null,
  version_seq: seq,
});
const chat = (id: string, readSeq = 0): ChatSummary => ({
  id,
  kind: 'room',
  name: id,
  visibility: 'public',
  ephemeral_ttl_s: null,
  is_main: id === 'general',
  dm_user_ids: [],
  last_seq: 10,
  created_at: '2026-11-22T09:00:00.000Z',
  unread_count: 0,
  read_seq: readSeq,
  last_message: null,
});

describe('OfflineCache: the renderer KeyValueStorage', () => {
  it('applies writes in order, and they survive reopening', () => {
    const path = cachePath();
    const cache = openCache(path);
    expect(
      cache.applyStorage([
        { op: 'set', key: 'parley.session', value: 's1' },
        { op: 'set', key: 'parley.outbox:u1', value: '[1]' },
        { op: 'set', key: 'parley.outbox:u1', value: '[1,2]' },
        { op: 'set', key: 'gone', value: 'x' },
        { op: 'remove', key: 'gone' },
      ]),
    ).toEqual({ ok: true, value: null });
    cache.close();
    open.pop();
    expect(openCache(path).loadStorage()).toEqual({
      'parley.session': 's1',
      'parley.outbox:u1': '[1,2]',
    });
  });

  it('refuses bad keys and oversized values as values, changing nothing', () => {
    const cache = openCache();
    cache.applyStorage([{ op: 'set', key: 'a', value: '1' }]);
    expect(cache.applyStorage([{ op: 'set', key: '', value: 'x' }])).toMatchObject({
      ok: false,
      code: 'invalid_key',
    });
    expect(
      cache.applyStorage([{ op: 'set', key: 'k'.repeat(CACHE_LIMITS.keyChars + 1), value: 'x' }]),
    ).toMatchObject({ ok: false });
    expect(
      cache.applyStorage([
        { op: 'set', key: 'b', value: '2' },
        { op: 'set', key: 'big', value: 'x'.repeat(CACHE_LIMITS.valueChars + 1) },
      ]),
    ).toMatchObject({ ok: false, code: 'value_too_large' });
    expect(cache.loadStorage()).toEqual({ a: '1' });
  });

  it('bounds the number of keys, rolling back the batch that crosses it', () => {
    const cache = openCache();
    const ops = Array.from({ length: CACHE_LIMITS.keys }, (_, i) => ({
      op: 'set' as const,
      key: `k${i}`,
      value: '1',
    }));
    expect(cache.applyStorage(ops).ok).toBe(true);
    expect(cache.applyStorage([{ op: 'set', key: 'one-more', value: '1' }])).toMatchObject({
      ok: false,
      code: 'storage_full',
    });
    expect(cache.getItem('one-more')).toBeNull();
    expect(Object.keys(cache.loadStorage())).toHaveLength(CACHE_LIMITS.keys);
  });
});

describe('OfflineCache: history, chats and read markers', () => {
  it('gives back what it was given, oldest first, across a reopen (the app opens offline with history)', () => {
    const path = cachePath();
    const cache = openCache(path);
    cache.saveChats(SCOPE, [chat('general', 2), chat('design')]);
    cache.saveHistory(SCOPE, 'general', [message(3), message(1), message(2)]);
    cache.saveHistory(SCOPE, 'design', [message(1, 'design')]);
    cache.setReadMarker(SCOPE, 'general', 3);
    cache.close();
    open.pop();
    const snapshot = openCache(path).loadSnapshot(SCOPE);
    expect(snapshot.chats.map((c) => c.id)).toEqual(['design', 'general']);
    expect(snapshot.messages.general?.map((m) => m.seq)).toEqual([1, 2, 3]);
    expect(snapshot.messages.design).toHaveLength(1);
    expect(snapshot.readMarkers).toEqual({ general: 3, design: 0 });
  });

  it('replaces a message by seq and keeps only the newest per chat', () => {
    const cache = openCache();
    const many = Array.from({ length: CACHE_LIMITS.messagesPerChat + 30 }, (_, i) =>
      message(i + 1),
    );
    cache.saveHistory(SCOPE, 'general', many.slice(0, 100));
    cache.saveHistory(SCOPE, 'general', many.slice(100));
    cache.saveHistory(SCOPE, 'general', [{ ...message(230), content: 'edited' }]);
    const kept = cache.loadSnapshot(SCOPE).messages.general ?? [];
    expect(kept).toHaveLength(CACHE_LIMITS.messagesPerChat);
    expect(kept[0]?.seq).toBe(31);
    expect(kept.at(-1)).toMatchObject({ seq: 230, content: 'edited' });
  });

  it('moves read markers forward only', () => {
    const cache = openCache();
    cache.setReadMarker(SCOPE, 'general', 5);
    cache.setReadMarker(SCOPE, 'general', 3);
    cache.saveChats(SCOPE, [chat('general', 4)]);
    expect(cache.loadSnapshot(SCOPE).readMarkers).toEqual({ general: 5 });
  });

  it('forgets chats that left the list, with their history, and keeps scopes apart', () => {
    const cache = openCache();
    cache.saveChats(SCOPE, [chat('general'), chat('design')]);
    cache.saveHistory(SCOPE, 'design', [message(1, 'design')]);
    cache.saveChats('other|user-9', [chat('general')]);
    cache.saveChats(SCOPE, [chat('general')]);
    const snapshot = cache.loadSnapshot(SCOPE);
    expect(snapshot.chats.map((c) => c.id)).toEqual(['general']);
    expect(snapshot.messages.design).toBeUndefined();
    expect(cache.loadSnapshot('other|user-9').chats).toHaveLength(1);
    cache.clear(SCOPE);
    expect(cache.loadSnapshot(SCOPE)).toEqual({ chats: [], messages: {}, readMarkers: {} });
    expect(cache.loadSnapshot('other|user-9').chats).toHaveLength(1);
  });

  it('refuses messages saved under another chat', () => {
    const cache = openCache();
    expect(cache.saveHistory(SCOPE, 'general', [message(1, 'design')])).toMatchObject({
      ok: false,
      code: 'wrong_chat',
    });
  });
  it('erases expired messages of vanishing rooms, and an expired last_message, also from a version 1 file', () => {
    const path = cachePath();
    const past = '2020-01-01T00:00:00.000Z';
    const old = new Database(path);
    old.exec(`
      CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE chats (scope TEXT NOT NULL, chat_id TEXT NOT NULL, json TEXT NOT NULL,
        PRIMARY KEY (scope, chat_id)) WITHOUT ROWID;
      CREATE TABLE messages (scope TEXT NOT NULL, chat_id TEXT NOT NULL, seq INTEGER NOT NULL,
        json TEXT NOT NULL, PRIMARY KEY (scope, chat_id, seq)) WITHOUT ROWID;
      CREATE TABLE read_markers (scope TEXT NOT NULL, chat_id TEXT NOT NULL, seq INTEGER NOT NULL,
        PRIMARY KEY (scope, chat_id)) WITHOUT ROWID;
      PRAGMA user_version = 1;`);
    const gone = { ...message(1, 'fleeting'), expires_at: past };
    old
      .prepare('INSERT INTO messages VALUES (?, ?, ?, ?)')
      .run(SCOPE, 'fleeting', 1, JSON.stringify(gone));
    old
      .prepare('INSERT INTO chats VALUES (?, ?, ?)')
      .run(SCOPE, 'fleeting', JSON.stringify({ ...chat('fleeting'), last_message: gone }));
    old.close();

    const cache = openCache(path);
    const later = new Date(Date.now() + 60_000).toISOString();
    cache.saveHistory(SCOPE, 'general', [message(1), { ...message(2), expires_at: later }]);
    const snapshot = cache.loadSnapshot(SCOPE);
    expect(snapshot.messages.fleeting).toBeUndefined();
    expect(snapshot.chats).toEqual([chat('fleeting')]);
    expect(snapshot.messages.general?.map((m) => m.seq)).toEqual([1, 2]);
    expect(cache.eraseExpired(new Date(Date.now() + 120_000))).toBe(1);
    expect(cache.loadSnapshot(SCOPE).messages.general?.map((m) => m.seq)).toEqual([1]);
  });
});
